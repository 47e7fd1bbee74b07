"""Personal data in exports: handles pseudonymised by default with a kept key, in clear only for a lead
(checked, audited); `wildwatch export --sellers` in every format."""
from __future__ import annotations


import pandas as pd
import pytest
from sqlalchemy import select

from support.cli import invoke, wildwatch_env
from crawler.items import ListingItem
from crawler.spool import write_items
from support.review_support import PASSWORDS, standard_users
from store import db
from store import repository as repo
from store.errors import StoreError
from store.models import AuditEntry
from wildwatch.export import export_listings, export_sellers
from wildwatch.networks import rebuild_networks
from wildwatch.pseudonym import KEY_ENV, pseudonym_key, pseudonymise_text

KEY = b"k" * 40


def _seed(engine):
    with db.session_scope(engine) as session:
        for market, rows in (("bazaar", [("B1", "T901", "老周 微信 zhou_ivory88", "加微信 zhou_ivory88 详聊 老料"),
                                         ("B2", "U1", "小王茶叶", "明前龙井 250g")]),
                             ("oldstreet", [("O1", "OT903", "老周", "V信：zhou_ivory88（备注来意） 电话 13812345678")])):
            marketplace = repo.get_or_create_marketplace(session, market)
            run = repo.start_run(session, marketplace)
            items = []
            for listing_id, seller, name, description in rows:
                item = ListingItem(market, listing_id, f"http://{market}.test/{listing_id}", f"title {listing_id}",
                                   description=description, seller_id=seller, seller_name=name)
                item.score = {"score": 0.9, "flagged": True, "threshold": 0.5, "species": [], "evidence": [],
                              "model_version": "m1"}
                items.append(item)
            write_items(session, run, marketplace, items, lambda v: {})
        rebuild_networks(session)


def test_pseudonymised_text_keeps_the_rest_and_is_stable_per_key():
    text = "加微信 zhou_ivory88 详聊，电话 一三八 一二三四 五六七八"
    once, again = pseudonymise_text(text, KEY), pseudonymise_text(text, KEY)
    assert once == again and "zhou_ivory88" not in once and "五六七八" not in once
    assert once.startswith("加微信 [wechat:") and "详聊" in once and "[phone:" in once
    assert pseudonymise_text(text, b"x" * 40) != once               # another key, other pseudonyms
    assert pseudonymise_text("明前龙井", KEY) == "明前龙井" and pseudonymise_text(None, KEY) is None


def test_key_is_kept_in_the_data_dir_owner_only_or_taken_from_the_environment(tmp_path, monkeypatch):
    from wildwatch.config import Settings

    monkeypatch.delenv(KEY_ENV, raising=False)
    first = pseudonym_key(tmp_path, Settings.from_env().pseudonym_key)
    assert first == pseudonym_key(tmp_path) and len(first) >= 32
    assert oct((tmp_path / "pseudonym.key").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv(KEY_ENV, "e" * 32)
    assert pseudonym_key(tmp_path, Settings.from_env().pseudonym_key) == b"e" * 32
    assert "e" * 32 not in repr(Settings.from_env())
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(StoreError, match="at least 32"):
        pseudonym_key(tmp_path, Settings.from_env().pseudonym_key)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_seller_export_pseudonymises_by_default_and_reveals_on_request(engine, tmp_path, fmt):
    _seed(engine)
    path, rows = export_sellers(engine, tmp_path / f"sellers.{fmt}", pseudonym_key=KEY)
    frame = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](path)
    assert rows == 2 and set(frame["seller_id"]) == {"T901", "OT903"}           # the one network of two accounts
    text = frame.to_csv()
    assert "zhou_ivory88" not in text and "13812345678" not in text
    assert frame["linked_by"].str.contains("handle wechat:").all()
    assert "[wechat:" in frame.loc[frame["seller_id"] == "T901", "seller_name"].iloc[0]   # a handle in a seller name
    _, every = export_sellers(engine, tmp_path / f"all.{fmt}", all_networks=True, pseudonym_key=KEY)
    assert every == 3
    clear, _ = export_sellers(engine, tmp_path / f"clear.{fmt}", reveal_handles=True)
    revealed = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](clear)
    assert "wechat:zhou_ivory88" in revealed.to_csv()
    listings, _ = export_listings(engine, tmp_path / f"listings.{fmt}", fmt, flagged_only=False, pseudonym_key=KEY)
    listing_text = {"csv": pd.read_csv, "xlsx": pd.read_excel, "parquet": pd.read_parquet}[fmt](listings).to_csv()
    assert "zhou_ivory88" not in listing_text and "明前龙井" in listing_text


@pytest.mark.db
def test_cli_clear_export_needs_an_active_lead_and_is_audited(tmp_path):
    data_dir = tmp_path / "data"
    env = wildwatch_env(data_dir, tmp_path / "models")   # exports need no model
    assert invoke(["db", "upgrade"], env).returncode == 0
    from support.cli import database_url_for

    engine = db.make_engine(database_url_for(data_dir))
    try:
        _seed(engine)
        standard_users(engine)
        default = invoke(["export", "--sellers", "-o", str(tmp_path / "s.csv")], env)
        assert default.returncode == 0 and "handles pseudonymised" in default.stdout, default.stderr
        assert "zhou_ivory88" not in (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
        assert (data_dir / "pseudonym.key").is_file()
        no_name = invoke(["export", "--sellers", "--reveal-handles", "-o", str(tmp_path / "c.csv")], env)
        assert no_name.returncode == 2 and "--as NAME" in no_name.stderr
        analyst = invoke(["export", "--sellers", "--reveal-handles", "--as", "alice", "--password-stdin",
                           "-o", str(tmp_path / "c.csv")], env, input_text=PASSWORDS["alice"] + "\n")
        assert analyst.returncode == 2 and "needs the lead role" in analyst.stderr
        wrong = invoke(["export", "--sellers", "--reveal-handles", "--as", "lena", "--password-stdin",
                         "-o", str(tmp_path / "c.csv")], env, input_text="not-her-password\n")
        assert wrong.returncode == 2 and "wrong account name or password" in wrong.stderr
        assert not (tmp_path / "c.csv").exists()
        lead = invoke(["export", "--sellers", "--reveal-handles", "--as", "lena", "--password-stdin",
                        "-o", str(tmp_path / "c.csv")], env, input_text=PASSWORDS["lena"] + "\n")
        assert lead.returncode == 0 and "handles in clear" in lead.stdout, lead.stderr
        assert "zhou_ivory88" in (tmp_path / "c.csv").read_text(encoding="utf-8-sig")
        with db.session_scope(engine) as session:
            entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export_in_clear")).one()
            assert entry.actor == "lena" and entry.after["rows"] == 2 and entry.after["what"] == "seller accounts"
    finally:
        engine.dispose()
