"""Listing images end to end: a real crawl of the demo shop with images on, real files, real Tesseract, the database.

The shop is the Demo Bazaar serving a few chosen catalogue lines (data/demo_marketplace/images.json says
what their pictures carry), so the crawl and the OCR stay short; a second small site serves the failure
cases (a 404, an HTML page as image/png, a picture over the size limit, a corrupt JPEG).
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, func, select

from support.cli import database_url_for, run_cli, wildwatch_env
from support.pages_server import PageServer, page, site_config
from wildwatch import config as ww_config
from wildwatch.demo.images import demo_picture

pytestmark = pytest.mark.db

CHOSEN = ("DB-0005", "DB-0012", "DB-0040", "DB-0041", "DB-0080", "DB-0128", "DB-0142")


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory) -> Path:
    lines = [line for line in ww_config.DEMO_CATALOG.read_text(encoding="utf-8").splitlines()
             if json.loads(line)["id"] in CHOSEN]
    path = tmp_path_factory.mktemp("catalog") / "listings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(db_url: str, query: str):
    from sqlalchemy import text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(query)).all()
    finally:
        engine.dispose()


def test_demo_crawl_stores_pictures_once_reads_them_and_flags_the_image_only_listing(
        tmp_path, small_catalog, trained_models_dir):
    from wildwatch.demo.server import DemoMarketplace

    data = tmp_path / "data"
    env = wildwatch_env(data, trained_models_dir, WILDWATCH_IMAGES="1")
    db_url = database_url_for(data)
    with DemoMarketplace(catalog_path=small_catalog, broken_pages=False) as shop:
        first = run_cli(["crawl", "demo", "--base-url", shop.base_url], env)
        assert first.returncode == 0, first.stdout + first.stderr
        images = _rows(db_url, "SELECT sha256, phash, path, bytes, content_type FROM images")
        links = _rows(db_url, "SELECT l.external_id, li.position, li.url, li.status, i.sha256, li.snapshot_id "
                              "FROM listing_images li JOIN listings l ON l.id = li.listing_id "
                              "LEFT JOIN images i ON i.id = li.image_id")
        # Every picture of every chosen listing, each linked to the listing's snapshot, none refused.
        expected = sum(len(json.loads(line)["images"]) for line in small_catalog.read_text().splitlines())
        assert len(links) == expected and {row.status for row in links} == {"stored"}
        assert all(row.snapshot_id is not None for row in links)
        # Stored once by content: DB-0040's photo is reused unchanged by no other chosen listing, but every
        # file is named by its SHA-256 and holds exactly those bytes.
        assert len(images) == len({row.sha256 for row in links})
        for row in images:
            body = (data / row.path).read_bytes()
            assert hashlib.sha256(body).hexdigest() == row.sha256 and len(body) == row.bytes
            assert len(row.phash) == 16 and row.content_type in ("image/png", "image/jpeg")
        served, _ = demo_picture("demo", "DB-0142", 1, "crafts")
        assert hashlib.sha256(served).hexdigest() in {row.sha256 for row in images}

        # A second night with the same pictures adds no picture and no link row.
        second = run_cli(["crawl", "demo", "--base-url", shop.base_url], env)
        assert second.returncode == 0, second.stdout + second.stderr
        assert _rows(db_url, "SELECT count(*) FROM images")[0][0] == len(images)
        assert _rows(db_url, "SELECT count(*) FROM listing_images")[0][0] == len(links)
        stats = _rows(db_url, "SELECT stats FROM crawl_runs ORDER BY id")[-1][0]
        stats = stats if isinstance(stats, dict) else json.loads(stats)
        assert stats["images"]["not_modified"] == len(images)  # every picture revalidated with a 304
        assert stats["not_modified"] <= stats["pages"]  # the pages' own 304s, pictures apart

    ocr = run_cli(["ocr"], env)
    assert ocr.returncode == 0, ocr.stdout + ocr.stderr
    assert "0 failed" in ocr.stdout and "flagged only by their pictures" in ocr.stdout
    unread = _rows(db_url, "SELECT count(*) FROM images WHERE ocr_at IS NULL")[0][0]
    assert unread == 0
    text = _rows(db_url, "SELECT i.ocr_text FROM images i JOIN listing_images li ON li.image_id = i.id "
                         "JOIN listings l ON l.id = li.listing_id WHERE l.external_id = 'DB-0142'")[0][0]
    assert "象牙" in text and "xy88523" in text
    # DB-0142's text alone is not flagged; its newest score (a new row: the crawl's score is kept) is.
    scores = _rows(db_url, "SELECT s.flagged, s.evidence, s.run_id FROM scores s JOIN listings l "
                           "ON l.id = s.listing_id WHERE l.external_id = 'DB-0142' ORDER BY s.id")
    assert len(scores) == 3  # one score per crawl, one from the OCR stage
    assert all(not row.flagged and row.run_id is not None for row in scores[:2])
    newest = scores[-1]
    evidence = newest.evidence if isinstance(newest.evidence, list) else json.loads(newest.evidence)
    assert newest.flagged and newest.run_id is None
    image_only = [e for e in evidence if e["rule"] == "image_only"]
    assert image_only and image_only[0]["image_url"].endswith("/img/DB-0142-1.png")
    assert image_only[0]["image_sha256"] == hashlib.sha256(served).hexdigest()
    assert _rows(db_url, "SELECT current_flagged FROM listings WHERE external_id = 'DB-0142'")[0][0]

    # The pictures link the listings that reuse one photo (images.json: DB-0040, DB-0041, DB-0128).
    from store.db import make_engine, session_scope
    from store.images import image_refs_by_listing, image_refs_by_seller
    from store.models import Listing
    from wildwatch.images.links import image_links

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            names = dict(session.execute(select(Listing.id, Listing.external_id)).all())
            by_listing = image_refs_by_listing(session)
            by_seller = image_refs_by_seller(session, "demo")
    finally:
        engine.dispose()
    pairs = {(names[link.a], names[link.b]) for link in image_links(by_listing)}
    assert {tuple(sorted(p)) for p in pairs} == {("DB-0040", "DB-0041"), ("DB-0040", "DB-0128"), ("DB-0041", "DB-0128")}
    sellers = {(link.a, link.b) for link in image_links(by_seller)}
    assert {tuple(sorted(p)) for p in sellers} == {
        (("demo", "S108"), ("demo", "S306")), (("demo", "S106"), ("demo", "S108")), (("demo", "S106"), ("demo", "S306"))}


def _png(seed: int, size: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (seed * 40 % 255, 90, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.one_pass  # about the crawl's picture handling; pictures stored on PostgreSQL: the first test here
def test_bad_pictures_are_counted_and_skipped_and_the_listing_kept(tmp_path, trained_models_dir):
    good = _png(1)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(demo_picture("demo", "DB-0005", 1, "phones")[0])).convert("RGB").save(jpeg, "JPEG")
    pictures = ["/i/good.png", "/i/missing.png", "/i/page.png", "/i/huge.png", "/i/cut.jpg", "/i/extra.png"]
    listing = {"@context": "https://schema.org", "@type": "Product", "name": "Carved box 木雕盒", "sku": "BAD-1",
               "description": "A carved wooden box.", "image": pictures,
               "offers": {"@type": "Offer", "price": "120", "priceCurrency": "CNY"}}
    pages = {
        "/": page('<a class="ad" href="/p/BAD-1">box</a>'),
        "/p/BAD-1": page(f'<html><head><script type="application/ld+json">{json.dumps(listing)}</script></head>'
                         '<body><div class="ad-title">Carved box 木雕盒</div><div class="ad-body">A carved wooden box.'
                         '</div></body></html>'),
        "/i/good.png": page(good, content_type="image/png"),
        "/i/page.png": page("<!doctype html><html><body>Sorry, this picture was removed</body></html>",
                            content_type="image/png"),
        "/i/huge.png": page(b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1024 * 1024), content_type="image/png"),
        "/i/cut.jpg": page(jpeg.getvalue()[:3000], content_type="image/jpeg"),
        "/i/extra.png": page(_png(2), content_type="image/png"),
    }
    data = tmp_path / "data"
    with PageServer(pages) as server:
        config = tmp_path / "badpics.yaml"
        config.write_text(site_config("badpics", server.url), encoding="utf-8")
        env = wildwatch_env(data, trained_models_dir, WILDWATCH_IMAGES="1")
        result = run_cli(["crawl", str(config)], env)
        assert result.returncode == 0, result.stdout + result.stderr
    db_url = database_url_for(data)
    assert [r[0] for r in _rows(db_url, "SELECT external_id FROM listings")] == ["BAD-1"]
    rows = {r.url.rsplit("/", 1)[-1]: (r.status, r.reason) for r in _rows(
        db_url, "SELECT url, status, reason FROM listing_images")}
    assert rows == {"good.png": ("stored", None), "missing.png": ("refused", "http_404"),
                    "page.png": ("refused", "not_an_image"), "huge.png": ("refused", "too_large"),
                    "cut.jpg": ("refused", "corrupt"), "extra.png": ("refused", "over_count")}  # 5 a listing
    stats = _rows(db_url, "SELECT stats FROM crawl_runs")[0][0]
    stats = stats if isinstance(stats, dict) else json.loads(stats)
    assert stats["images"]["refused"] == {"http_404": 1, "not_an_image": 1, "too_large": 1, "corrupt": 1,
                                          "over_count": 1}
    assert stats["images"]["recorded"] == 6 and stats["pages"] == 3  # robots.txt, /, /p/BAD-1: no picture
    assert _rows(db_url, "SELECT count(*) FROM images")[0][0] == 1


@pytest.mark.one_pass  # about the crawl's picture handling; pictures stored on PostgreSQL: the first test here
def test_no_images_turns_the_pictures_off(tmp_path, trained_models_dir):
    listing = {"@context": "https://schema.org", "@type": "Product", "name": "Tea 茶", "sku": "T-1",
               "image": ["/i/a.png"], "offers": {"@type": "Offer", "price": "12", "priceCurrency": "CNY"}}
    pages = {"/": page('<a class="ad" href="/p/T-1">tea</a>'),
             "/p/T-1": page(f'<script type="application/ld+json">{json.dumps(listing)}</script>'
                            '<div class="ad-title">Tea 茶</div><div class="ad-body">Green tea.</div>'),
             "/i/a.png": page(_png(3), content_type="image/png")}
    data = tmp_path / "data"
    with PageServer(pages) as server:
        config = tmp_path / "tea.yaml"
        config.write_text(site_config("tea", server.url), encoding="utf-8")
        result = run_cli(["crawl", str(config), "--no-images"],
                         wildwatch_env(data, trained_models_dir, WILDWATCH_IMAGES="1"))
        assert result.returncode == 0, result.stdout + result.stderr
        assert server.hits["/i/a.png"] == 0
        off = run_cli(["crawl", str(config)], wildwatch_env(tmp_path / "data2", trained_models_dir,
                                                            WILDWATCH_IMAGES="0"))
        assert off.returncode == 0 and server.hits["/i/a.png"] == 0
        bad = run_cli(["crawl", str(config)], wildwatch_env(tmp_path / "data3", trained_models_dir,
                                                            WILDWATCH_IMAGES="maybe"))
        assert bad.returncode == 2 and "WILDWATCH_IMAGES='maybe'" in bad.stderr
    assert _rows(database_url_for(data), "SELECT count(*) FROM listings")[0][0] == 1
    assert _rows(database_url_for(data), "SELECT count(*) FROM listing_images")[0][0] == 0


@pytest.mark.one_pass  # about the crawl's picture handling; pictures stored on PostgreSQL: the first test here
def test_pictures_do_not_use_up_the_page_budget(tmp_path, trained_models_dir):
    pictures = [f"/i/{n}.png" for n in range(5)]
    listing = {"@context": "https://schema.org", "@type": "Product", "name": "Vase 花瓶", "sku": "V-1",
               "image": pictures, "offers": {"@type": "Offer", "price": "30", "priceCurrency": "CNY"}}
    pages = {"/": page('<a class="ad" href="/p/V-1">vase</a>'),
             "/p/V-1": page(f'<script type="application/ld+json">{json.dumps(listing)}</script>'
                            '<div class="ad-title">Vase 花瓶</div><div class="ad-body">Blue vase.</div>'),
             **{path: page(_png(n + 10), content_type="image/png") for n, path in enumerate(pictures)}}
    data = tmp_path / "data"
    with PageServer(pages) as server:
        config = tmp_path / "vase.yaml"
        # robots.txt, / and /p/V-1 are 3 pages: a budget of 4 holds them, not their 5 pictures as well.
        config.write_text(site_config("vase", server.url, max_pages=4), encoding="utf-8")
        result = run_cli(["crawl", str(config)], wildwatch_env(data, trained_models_dir, WILDWATCH_IMAGES="1"))
        assert result.returncode == 0, result.stdout + result.stderr
    db_url = database_url_for(data)
    status, stats = _rows(db_url, "SELECT status, stats FROM crawl_runs")[0]
    stats = stats if isinstance(stats, dict) else json.loads(stats)
    assert status == "succeeded" and stats["finish_reason"] == "finished", stats
    assert _rows(db_url, "SELECT count(*) FROM listing_images WHERE status = 'stored'")[0][0] == 5
