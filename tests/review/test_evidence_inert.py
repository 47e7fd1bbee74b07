"""Issue 17 break 6: a captured page opened from an evidence package runs nothing and loads nothing, so the
seller cannot learn that an investigator opened it. The page and its beacon server run on 127.0.0.1; the
stored capture is opened from disk in Chromium and the beacon server must hear nothing."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from support.browser import launched_browser
from support.pages_server import PageServer, page
from review.capture import PageCapture, capture_page, save_capture
from review.inert import CSP, inert_html
from review.netguard import AddressPolicy


def seller_page(beacon: str) -> str:
    return (
        "<html><head><title>Ivory bangle</title><link rel='stylesheet' href='BEACON/css'>"
        "<link rel='dns-prefetch' href='BEACON/dns'><meta http-equiv='refresh' content='5;url=BEACON/refresh'>"
        "<script>fetch('BEACON/script-fetch'); window.__ran = 1;</script><base href='BEACON/base/'></head>"
        "<body onload=\"new Image().src='BEACON/onload'\"><h1 id=title>Ivory bangle, old stock</h1>"
        "<img src='BEACON/pixel.gif' onerror=\"window.__ran = 2\"><iframe src='BEACON/frame'></iframe>"
        "<div style=\"background:url('BEACON/style')\">styled</div><a href=\"java&#9;script:window.__ran=3\">x</a>"
        "<object data='BEACON/object'></object><svg><script>window.__ran = 4</script></svg>"
        "<form action='BEACON/form'><input name=q></form></body></html>"
    ).replace("BEACON", beacon)


def test_inert_html_keeps_the_text_and_removes_what_runs_or_loads():
    inert = inert_html(seller_page("http://127.0.0.1:9"))
    assert "Ivory bangle, old stock" in inert and "styled" in inert
    assert f'content="{CSP}"' in inert and "default-src 'none'" in inert
    for gone in ("<script", "onload", "onerror", "<iframe", "<object", "<link", "<base", "refresh", "javascript",
                 "url("):
        assert gone not in inert.lower(), gone


@pytest.mark.browser
def test_a_stored_capture_opened_from_disk_tells_the_seller_nothing(chromium, tmp_path):
    with PageServer({}) as beacon:
        with PageServer({"/listing": page(seller_page(beacon.url))}) as shop:
            capture = capture_page(shop.url + "/listing",
                                   policy=AddressPolicy.from_setting(f"127.0.0.1:{shop.port},127.0.0.1:{beacon.port}"))
        assert beacon.hits, "the live page did call its beacons (otherwise this test proves nothing)"
        saved = save_capture(capture, tmp_path, 1, "evidence")
        stored = tmp_path / saved.html_path
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == saved.html_sha256  # the inert copy is hashed
        beacon.hits.clear()
        with launched_browser() as browser:
            opened = browser.new_page()
            opened.goto(stored.as_uri())
            opened.wait_for_timeout(1500)
            assert "Ivory bangle, old stock" in opened.inner_text("#title")
            assert opened.evaluate("() => window.__ran") is None
            opened.click("a")  # the javascript: link is no longer one
            opened.wait_for_timeout(300)
            assert opened.evaluate("() => window.__ran") is None
        assert sum(beacon.hits.values()) == 0, beacon.hits


def test_save_capture_makes_even_a_page_without_head_inert(tmp_path):
    capture = PageCapture(url="http://shop.test/1", final_url="http://shop.test/1", status=200,
                          html="<body><script>x()</script>tusk</body>", screenshot=None,
                          captured_at=datetime.now(timezone.utc))
    saved = save_capture(capture, tmp_path, 7, "tip")
    text = (tmp_path / saved.html_path).read_text(encoding="utf-8")
    assert "tusk" in text and "<script" not in text and "default-src 'none'" in text
