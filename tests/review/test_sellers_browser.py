"""The Sellers pages in a real Chromium: networks highest risk first, a network's accounts across two
marketplaces with why each link holds, the way there from a listing, a seller decision with its audit
and role check, the network's evidence package, and hostile seller text kept inert.

Listings are stored through crawler.spool.write_items (the crawl's own store path, so handles are
extracted and stored as in a crawl), then networks are rebuilt as after a crawl."""
from __future__ import annotations

import json
import zipfile
from dataclasses import replace

import pytest

from crawler.items import ListingItem
from crawler.spool import write_items
from review.app import create_app
from review.server import ReviewServer
from support.browser import launched_browser
from support.review_support import PASSWORDS, standard_users
from store import db
from store import repository as repo
from wildwatch.config import Settings
from wildwatch.networks import rebuild_networks

pytestmark = [pytest.mark.browser, pytest.mark.db]

HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">老周'


def _score(value: float) -> dict:
    return {"score": value, "flagged": value >= 0.5, "threshold": 0.5, "species": ["ivory"] if value >= 0.5 else [],
            "evidence": [], "model_version": "test-model-1"}


def _item(market, listing_id, seller, seller_name, title, description, score):
    item = ListingItem(market, listing_id, f"http://{market}.test/item/{listing_id}", title, description=description,
                       seller_id=seller, seller_name=seller_name, crawled_at="2026-12-01T00:00:00Z")
    item.score = _score(score)
    return item


def _store(engine, market, items):
    with db.session_scope(engine) as session:
        marketplace = repo.get_or_create_marketplace(session, market, f"http://{market}.test")
        run = repo.start_run(session, marketplace)
        ids, _, errors = write_items(session, run, marketplace, items, lambda version: {"threshold": 0.5})
        assert not errors
        repo.finish_run(session, run, "succeeded", {"listings": len(items)})
        return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory, chromium):
    from store.testing import throwaway_database
    from support import db_backend

    data_dir = tmp_path_factory.mktemp("sellers-review")
    with throwaway_database(db_backend.BACKEND, data_dir) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        ids = _store(engine, "bazaar", [
            _item("bazaar", "B1", "T901", HOSTILE_NAME, "老料 白货 手镯", "加微信 zhou_ivory88 详聊", 0.97),
            _item("bazaar", "B2", "T901", HOSTILE_NAME, "象牙 雕件", "电话 一三八 一二三四 五六七八", 0.91),
            _item("bazaar", "B3", "U1", "小王茶叶", "明前 龙井", "平台客服热线 400-820-6666", 0.05),
            _item("bazaar", "B4", "U2", "数码小铺", "二手 耳机", "平台客服热线 400-820-6666", 0.04),
        ])
        ids |= _store(engine, "oldstreet", [
            _item("oldstreet", "O1", "OT903", "老周", "老料 手串", "威信 ｚｈｏｕ＿ｉｖｏｒｙ８８ 老周直出", 0.88),
        ])
        with db.session_scope(engine) as session:
            rebuild_networks(session)
        standard_users(engine)
        settings = replace(Settings.from_env(), database_url=url, data_dir=data_dir, threshold=None)
        with ReviewServer(create_app(settings), port=0) as server:
            yield {"server": server, "engine": engine, "ids": ids, "data_dir": data_dir}
        engine.dispose()


@pytest.fixture(scope="module")
def browser(site, chromium):
    with launched_browser() as launched:
        yield launched


def logged_in(browser, site, name):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(site["server"].url + "/sellers")
    assert "/login" in page.url  # the Sellers page needs a login like every page
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("#networks")
    return page


def test_sellers_page_network_links_decision_and_evidence(browser, site, tmp_path):
    page = logged_in(browser, site, "alice")
    rows = page.locator("#networks tbody tr.network-row")
    assert rows.count() == 1                       # one network of 2+ accounts; the 400-line sellers stay apart
    first = rows.first.inner_text()
    assert "bazaar" in first and "oldstreet" in first and "老周" in first
    page.select_option("select[name=linked]", "0")
    page.click("#seller-filters button[type=submit]")
    risks = [float(r) for r in page.locator("#networks td.score").all_inner_texts()]
    assert len(risks) == 3 and risks == sorted(risks, reverse=True)

    # From a listing page to its seller network.
    page.goto(site["server"].url + f"/listing/{site['ids']['O1']}")
    page.click("#seller-network-link")
    page.wait_for_selector("#network-title")
    accounts = page.locator("#accounts .account-block")
    assert sorted(accounts.evaluate_all("els => els.map(e => e.dataset.account)")) == ["bazaar:T901",
                                                                                       "oldstreet:OT903"]
    links = page.inner_text("#link-table")
    assert "wechat:zhou_ivory88" in links and "in description" in links and "老料 手串" in links
    assert "number:+864008206666" not in links
    assert page.evaluate("window.__pwned") is None     # the hostile seller name is text, not markup
    assert HOSTILE_NAME in page.inner_text("#accounts")

    # A seller decision, stored and audited; another analyst may not overturn it.
    page.fill("#network-note", "same WeChat in both shops")
    page.click("#network-decision-form button[value=confirmed]")
    page.wait_for_selector("#network-decision")
    assert page.inner_text("#network-decision") == "confirmed"
    assert float(page.inner_text("#network-risk")) > 0.999   # a seller decision weighs most
    assert "confirmed: same WeChat in both shops" in page.inner_text("#network-audit")
    network_url = page.url.split("#")[0]
    other = logged_in(browser, site, "bob")
    other.goto(network_url)
    other.click("#network-decision-form button[value=false_positive]")
    other.wait_for_selector("#error-message")
    assert "only a lead" in other.inner_text("#error-message")

    # The whole network's evidence package: network.json with the links, every listing's package, checksums.
    with page.expect_download() as download:
        page.click("#network-evidence-button")
    target = tmp_path / "network.zip"
    download.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        root = names[0].split("/")[0]
        network = json.loads(archive.read(f"{root}/network.json"))
        manifest = json.loads(archive.read(f"{root}/manifest.json"))
    assert {link["key"] for link in network["links"]} == {"wechat:zhou_ivory88"}
    assert sum(1 for n in names if n.endswith("/listing.json")) == 3
    assert {f["path"] for f in manifest["files"]} >= {"network.json"}
    page.context.close()
    other.context.close()


def test_seller_routes_keep_the_apps_security(site):
    import requests

    base = site["server"].url
    assert requests.get(base + "/sellers", allow_redirects=False, timeout=10).status_code in (302, 303)
    assert requests.post(base + "/sellers/1/decision", data={"decision": "confirmed"}, timeout=10).status_code == 401
    session = requests.Session()
    login = session.get(base + "/login", timeout=10).text
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    session.post(base + "/login", data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token},
                 timeout=10)
    refused = session.post(base + "/sellers/1/decision", data={"decision": "confirmed"}, timeout=10)
    assert refused.status_code == 400 and "CSRF" in refused.text
    assert session.get(base + "/sellers/99999999", timeout=10).status_code == 404
    assert session.get(base + "/sellers?decision=%3Cscript%3E", timeout=10).status_code == 400
