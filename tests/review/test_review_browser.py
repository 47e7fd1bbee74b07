"""The review app end to end, the way analysts use it: a real demo crawl fills SQLite, the app runs
under waitress on 127.0.0.1, and Playwright drives Chromium through login, the queue, a keyboard
decision, the audit history, a tip, an evidence download (manifest hashes checked) and hostile text.
The `wildwatch tip` and `wildwatch evidence` commands run against the same database. The same night, by
protection: every China Class I / CITES Appendix I flag first in the protection order, counted in the nightly
summary, and shown with its legal basis on the listing page."""
from __future__ import annotations

import hashlib
import json
import re
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from support.browser import launched_browser, require_chromium
from support.cli import database_url_for, invoke, run_cli, wildwatch_env
from review.app import create_app
from review.server import ReviewServer
from support.review_support import PASSWORDS, evidence, listing, seed
from store.db import make_engine, session_scope
from store.models import Listing
from store.decisions import QueueFilters, decide, get_user, queue_count, queue_rows
from wildwatch.config import DEMO_CATALOG, Settings
from wildwatch.demo.catalog import live_listings, load_catalog
from wildwatch.demo.server import DemoMarketplace

# One pass (SQLite): the app on PostgreSQL is proven by test_review_app, test_review_sessions (served by waitress),
# test_review_store, test_output_safety and, in Chromium, test_sellers_browser; a demo night on PostgreSQL by
# test_scrapyd_nightly.
pytestmark = [pytest.mark.browser, pytest.mark.db, pytest.mark.one_pass]

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2;alert(1)">象牙 hidden'


def add_user(env, name, role):
    result = invoke(["users", "add", name, "--role", role, "--password-stdin"], env, input_text=PASSWORDS[name] + "\n")
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory, trained_models_dir):
    require_chromium()
    data_dir = tmp_path_factory.mktemp("review-data")
    env = wildwatch_env(data_dir, trained_models_dir)
    night = run_cli(["nightly", "--demo"], env, timeout=600)
    assert night.returncode == 0, night.stderr[-3000:]
    for name, role in (("alice", "analyst"), ("bob", "analyst"), ("lena", "lead")):
        add_user(env, name, role)
    url = database_url_for(data_dir)
    engine = make_engine(url)
    hostile_ids = seed(engine, [(listing("X1", HOSTILE, HOSTILE + "\n" + HOSTILE, seller_url="javascript:alert(5)"),
                                 0.99, [evidence("象牙"), evidence("象牙", "description")])], marketplace="hostile-shop")
    catalog = live_listings(load_catalog(DEMO_CATALOG), 1)
    with DemoMarketplace(night=1) as demo:
        # The demo marketplace is on 127.0.0.1, which captures refuse unless allowed (this port only).
        allow = env["WILDWATCH_FETCH_ALLOW"] = f"127.0.0.1:{urlsplit(demo.base_url).port}"
        settings = replace(Settings.from_env(), database_url=url, data_dir=data_dir, models_dir=trained_models_dir,
                           threshold=None, fetch_allow=allow)
        with ReviewServer(create_app(settings), port=0) as server:
            yield {"server": server, "demo": demo, "engine": engine, "env": env, "data_dir": data_dir,
                   "catalog": catalog, "hostile_id": hostile_ids["X1"], "night": night}
    engine.dispose()


@pytest.fixture(scope="module")
def browser(site):
    with launched_browser() as chromium:
        yield chromium


def logged_in(browser, site, name="alice"):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(site["server"].url + "/")
    assert page.url.startswith(site["server"].url + "/login")  # not logged in: the login page
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("form.login-form button[type=submit]")
    page.wait_for_selector("#queue")
    keys_ready(page)
    return page


def keys_ready(page):
    """Wait until review.js listens for shortcuts: a key pressed earlier, on a loaded machine, is lost."""
    page.wait_for_selector("html[data-keys=ready]", state="attached")


# ---- by protection (the night as crawled, before the tests further down decide, tip and seed) ---------------
# Every China Class I / CITES Appendix I flag comes first in the queue sorted by protection, the nightly
# summary counts them, and the listing page shows the protection and its legal basis.

def _queue(site, **filters):
    with session_scope(site["engine"]) as session:
        wanted = QueueFilters(**filters)
        return queue_rows(session, wanted, limit=queue_count(session, wanted) + 1)


def test_queue_by_protection_puts_every_class_i_flag_of_the_night_first(site, report):
    rows = [r for r in _queue(site, order="protection") if r.flagged]
    ranks = [r.protection_rank for r in rows]
    strict = [r for r in rows if r.protection_rank == 0]
    assert strict, "the demo night flags pangolin scales, ivory and hawksbill: Class I / Appendix I"
    assert ranks[:len(strict)] == [0] * len(strict)  # all of them first, nothing else in between
    known = [r for r in ranks if r is not None]
    assert known == sorted(known) and ranks[len(known):] == [None] * (len(ranks) - len(known))
    with session_scope(site["engine"]) as session:
        class_i = session.scalar(select(func.count(Listing.id)).where(
            Listing.current_flagged.is_(True), Listing.current_china_class == "I"))
    assert class_i >= 1 and all(r.china_class == "I" or "I" in (r.cites_appendix or "").split("/") for r in strict)
    # The nightly summary names them (the seeded hostile listing is not part of the night).
    assert f"China Class I listings flagged: {class_i} (China Class I or CITES Appendix I: " in site["night"].stdout
    only = _queue(site, protection="I", order="protection")
    assert {r.id for r in only if r.flagged} == {r.id for r in strict}
    report(f"[protection] demo night: {len(rows)} flagged, {len(strict)} China Class I or CITES Appendix I "
           f"({class_i} China Class I) first in the protection order")


def test_listing_page_shows_the_protection_and_its_legal_basis(browser, site):
    page = logged_in(browser, site)
    page.click("#order-protection")
    page.wait_for_selector("#queue tbody tr[data-href]")
    first = page.locator("#queue tbody tr[data-href]").first
    assert "CITES I" in first.locator("td.protection").inner_text() \
        or "China I" in first.locator("td.protection").inner_text()
    # A flagged pangolin listing of the demo night: Class I in China and Appendix I, with the taxon.
    with session_scope(site["engine"]) as session:
        listing_id = session.scalar(select(Listing.id).where(
            Listing.current_flagged.is_(True), Listing.current_taxon_id == "manis_pentadactyla").limit(1))
    assert listing_id is not None, "the demo catalogue sells pangolin scales on night 1"
    page.goto(f"{site['server'].url}/listing/{listing_id}")
    page.wait_for_selector("#protection")
    assert page.inner_text("#protection .protection-label") == "China Class I, CITES Appendix I"
    assert "Manis pentadactyla" in page.inner_text("#protection") and "穿山甲" in page.inner_text("#protection")
    basis = page.inner_text("#legal-basis")
    assert basis.startswith("Legal basis: China Class I: 国家重点保护野生动物名录")
    assert "2021年第3号" in basis and "CITES Appendix I:" in basis and "2017-04-21" in basis
    page.context.close()


# ---- the analysts' day -----------------------------------------------------------------------------------

def _benign_live(site, skip=0):
    benign = [e for e in site["catalog"] if e.label == 0 and e.style == "html"]
    return benign[skip]


def test_login_queue_listing_keyboard_decision_and_audit_history(browser, site):
    page = logged_in(browser, site)
    rows = page.locator("#queue tbody tr[data-href]")
    assert rows.count() == 50  # one page of the flagged demo listings
    scores = [float(s) for s in page.locator("#queue td.score .bar").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_selector("#listing-title")
    keys_ready(page)
    assert page.locator("mark").count() >= 1  # the evidence is highlighted in the text
    page.keyboard.press("n")
    page.keyboard.type("seller's photos show Schreger lines")
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    page.wait_for_selector("#current-decision")
    assert page.inner_text("#current-decision") == "confirmed"
    audit = page.inner_text("#audit")
    assert "alice" in audit and "confirmed (alice): seller's photos show Schreger lines" in audit
    listing_url = page.url.split("#")[0]
    # bob (analyst) cannot overturn it; the page says why
    other = logged_in(browser, site, "bob")
    other.goto(listing_url)
    keys_ready(other)
    other.keyboard.press("f")
    other.wait_for_selector("#error-message")
    assert "only a lead" in other.inner_text("#error-message")
    page.context.close()
    other.context.close()


def open_tipped_listing(page, site, tip_url, note=None, timeout_s=90):
    """Submit the tip form, wait on the tips page until the background capture stored it, open its listing."""
    page.click("header nav >> text=Tips")
    page.fill("#tip-form input[name=url]", tip_url)
    if note:
        page.fill("#tip-form input[name=note]", note)
    page.click("#tip-form button[type=submit]")
    assert "queued" in page.inner_text(".flash, .flashes, body")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = page.locator("#tips tbody tr", has_text=tip_url).first
        if row.count() and row.locator("a").count():
            assert "stored" in row.inner_text()
            row.locator("a").click()
            page.wait_for_selector("#listing-title")
            keys_ready(page)
            return
        page.wait_for_timeout(500)
        page.goto(site["server"].url + "/tips")
    raise AssertionError(f"tip {tip_url} was not stored within {timeout_s} s: {page.inner_text('#tips')}")


def test_tip_form_queues_a_listing_below_the_threshold(browser, site):
    entry = _benign_live(site)
    tip_url = site["demo"].base_url + entry.detail_path
    page = logged_in(browser, site)
    open_tipped_listing(page, site, tip_url, "reported by a member of the public")
    assert entry.title.split()[0] in page.inner_text("#listing-title")
    assert "below threshold" in page.inner_text(".score-box")
    assert "tip from alice: reported by a member of the public" in page.inner_text("#captures")
    page.goto(site["server"].url + "/?source=tip")
    assert entry.title in page.inner_text("#queue")
    page.context.close()


def test_evidence_package_download_has_matching_manifest_hashes(browser, site, tmp_path):
    entry = _benign_live(site, skip=1)
    page = logged_in(browser, site, "lena")
    open_tipped_listing(page, site, site["demo"].base_url + entry.detail_path)
    assert page.locator("#evidence-button").count() == 0  # only for confirmed or escalated listings
    page.keyboard.press("e")
    page.wait_for_selector("#evidence-button")
    with page.expect_download() as download_info:
        page.click("#evidence-button")
    archive = tmp_path / "package.zip"
    download_info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path / "unpacked")
    (folder,) = list((tmp_path / "unpacked").iterdir())
    assert folder.name.startswith("evidence-")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["capture_errors"] == []
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk - listed == {"manifest.json", "SHA256SUMS"}
    for entry_file in manifest["files"]:
        data = (folder / entry_file["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry_file["sha256"], entry_file["path"]
        assert len(data) == entry_file["bytes"]
    sums = dict(reversed(line.split("  ", 1)) for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert sums["manifest.json"] == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    screenshots = [f for f in manifest["files"] if f["path"].endswith(".png")]
    assert {f["source"] for f in screenshots} == {"tip", "evidence"}  # captured at tip time and now
    for shot in screenshots:
        assert (folder / shot["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot["captured_at"]
    pages = [f for f in manifest["files"] if f["path"].endswith(".html")]
    assert entry.title.split()[0] in (folder / pages[0]["path"]).read_text(encoding="utf-8")
    history = json.loads((folder / "history.json").read_text(encoding="utf-8"))
    assert [(d["decision"], d["analyst"]) for d in history["decisions"]] == [("escalated", "lena")]
    assert json.loads((folder / "listing.json").read_text(encoding="utf-8"))["title"] == entry.title
    page.reload()
    assert "evidence_package" in page.inner_text("#audit")
    page.context.close()


def test_hostile_listing_text_is_shown_not_executed(browser, site):
    page = logged_in(browser, site)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{site['server'].url}/?marketplace=hostile-shop")
    assert "<script>window.__pwned=1</script>" in page.inner_text("#queue")
    page.goto(f"{site['server'].url}/listing/{site['hostile_id']}")
    assert page.inner_text("#listing-title").startswith("<script>window.__pwned=1</script><img src=x")
    assert "<img src=x" in page.inner_text("#listing-description")
    assert page.locator("mark").count() >= 2  # 象牙 highlighted in the title and the description
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 1  # only review.js
    assert page.locator("article img, #listing-description img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    page.context.close()


def test_cli_tip_and_evidence_commands(site, tmp_path):
    entry = _benign_live(site, skip=2)
    env = site["env"]
    tipped = run_cli(["tip", site["demo"].base_url + entry.detail_path, "--by", "hotline"], env)
    assert tipped.returncode == 0, tipped.stderr
    assert "queued for review" in tipped.stdout
    bad = run_cli(["tip", "ftp://example.com/x"], env)
    assert bad.returncode == 2 and "only http and https" in bad.stderr
    inside = run_cli(["tip", "http://169.254.169.254/latest/meta-data/"], env)  # the cloud metadata address
    assert inside.returncode == 2 and "link-local address" in inside.stderr
    listing_id = int(re.search(r"listing (\d+) \(", tipped.stdout).group(1))
    with session_scope(site["engine"]) as session:
        assert session.get(Listing, listing_id).title == entry.title
    undecided = run_cli(["evidence", str(listing_id), "-o", str(tmp_path / "pkg")], env)
    assert undecided.returncode == 2 and "undecided" in undecided.stderr
    with session_scope(site["engine"]) as session:
        decide(session, listing_id, get_user(session, "alice"), "confirmed", "via CLI test")
    made = run_cli(["evidence", str(listing_id), "-o", str(tmp_path / "pkg"), "--by", "alice"], env)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text(encoding="utf-8"))
    for item in manifest["files"]:
        assert hashlib.sha256((tmp_path / "pkg" / item["path"]).read_bytes()).hexdigest() == item["sha256"]
    again = run_cli(["evidence", str(listing_id), "-o", str(tmp_path / "pkg")], env)
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    missing = run_cli(["evidence", "999999", "-o", str(tmp_path / "other")], env)
    assert missing.returncode == 2 and "no listing with id 999999" in missing.stderr
