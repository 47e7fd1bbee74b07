"""Dashboard and `wildwatch report`: flagged, reviewed and confirmed counts per night, marketplace, species."""
from __future__ import annotations

from dataclasses import replace

from support.cli import invoke, wildwatch_env
from review.app import create_app
from review.dashboard import load_dashboard, report_html
from support.review_support import evidence, listing, migrated_engine, seed, standard_users
from store.db import session_scope
from store.models import User
from store.decisions import decide
from test_review_app import login
from wildwatch.config import Settings


def seeded(url):
    engine = migrated_engine(url)
    standard_users(engine)
    ids = seed(engine, [
        (listing("A", "象牙手镯 <b>老货</b>"), 0.95, [evidence("象牙")]),
        (listing("B", "穿山甲片"), 0.9, [evidence("穿山甲片", group="pangolin")]),
        (listing("C", "Ivory wedding dress"), 0.1, []),
    ])
    ids.update(seed(engine, [(listing("D", "犀角杯"), 0.8, [evidence("犀角", group="rhino_horn")])],
                    marketplace="other-shop"))
    with session_scope(engine) as session:
        alice = session.query(User).filter_by(name="alice").one()
        decide(session, ids["A"], alice, "confirmed")
        decide(session, ids["B"], alice, "false_positive")
    return url, engine


def test_counts_per_marketplace_species_and_night(migrated_db_url):
    url, engine = seeded(migrated_db_url)
    try:
        board = load_dashboard(engine)
    finally:
        engine.dispose()
    assert board.totals() == {"flagged": 3, "reviewed": 2, "confirmed": 1}
    assert board.per_marketplace.loc["shop"].tolist() == [2, 2, 1]
    assert board.per_marketplace.loc["other-shop"].tolist() == [1, 0, 0]
    assert board.per_species.loc["ivory"].tolist() == [1, 1, 1]
    assert board.per_species.loc["rhino_horn"].tolist() == [1, 0, 0]
    assert len(board.per_night) == 1 and board.per_night.iloc[0].tolist() == [3, 2, 1]
    page = report_html(board, url)
    assert page.count("<svg") == 4 and "<script" not in page  # night, marketplace, species, protection
    assert "Flagged 3, reviewed 2, confirmed 1" in page


def test_empty_database_gives_an_empty_report(migrated_db_url):
    engine = migrated_engine(migrated_db_url)
    try:
        board = load_dashboard(engine)
    finally:
        engine.dispose()
    assert board.totals() == {"flagged": 0, "reviewed": 0, "confirmed": 0}
    assert "no flagged listings yet" in report_html(board, "sqlite://")


def test_dashboard_page_needs_login_and_shows_the_charts(migrated_db_url, tmp_path):
    url, engine = seeded(migrated_db_url)
    app = create_app(replace(Settings.from_env(), database_url=url, data_dir=tmp_path / "data"), testing=True)
    client = app.test_client()
    assert client.get("/dashboard", headers={"Accept": "text/html"}).status_code == 302
    page = login(client, "alice").get("/dashboard").get_data(as_text=True)
    engine.dispose()
    assert page.count("<svg") == 4 and "Per protection class" in page
    assert "Flagged <strong>3</strong>, reviewed <strong>2</strong>" in page


def test_report_command_writes_html(migrated_db_url, tmp_path, trained_models_dir):
    url, engine = seeded(migrated_db_url)
    engine.dispose()
    out = tmp_path / "out" / "report.html"
    env = wildwatch_env(tmp_path / "data", trained_models_dir, WILDWATCH_DATABASE_URL=url)
    result = invoke(["report", "-o", str(out), "--since", "7d"], env)
    assert result.returncode == 0, result.stderr
    assert "flagged 3, reviewed 2, confirmed 1" in result.stdout
    assert out.read_text(encoding="utf-8").count("<svg") == 4
    assert "not assessed: flagged 3, confirmed 1" in result.stdout  # seeded scores name no taxon
    bad = invoke(["report", "-o", str(out), "--since", "soon"], env)
    assert bad.returncode == 2 and "--since" in bad.stderr
