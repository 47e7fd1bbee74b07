"""Tips and evidence captures cannot reach inside: every request Chromium makes is checked against the
address it resolves to (review.netguard). Each attack runs against a "secret" server the test starts on
127.0.0.1 and an "outside" page server that is explicitly allowed, as WILDWATCH_FETCH_ALLOW would; the
proof is that the secret server was never asked for anything and nothing of it was stored."""
from __future__ import annotations

import ipaddress
import re
import socket

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from support.pages_server import PageServer, page
from review.capture import CaptureError, capture_page, check_url
from review.netguard import AddressPolicy, BadURL, RefusedAddress, blocked_reason, check_public_url, parse_url

SECRET = "internal-admin-secret-7731"


@pytest.fixture(scope="module")
def secret():
    with PageServer({"/": page(f"<html><body><h1>{SECRET}</h1></body></html>"),
                     "/api": page(SECRET, content_type="text/plain")}) as server:
        yield server


def outside_pages(secret_url: str) -> dict:
    port = secret_url.rsplit(":", 1)[1]
    return {
        "/ok": page("<html><head><title>Ivory bangle</title></head><body><h1>Ivory bangle</h1>"
                    "<p>old stock</p></body></html>"),
        "/redirect": page("", status=302, Location=secret_url + "/"),
        "/redirect-spelled": page("", status=302, Location=f"http://2130706433:{port}/"),
        "/jsnav": page(f"<html><body>moving<script>location.href = {secret_url + '/'!r};</script></body></html>"),
        "/subresources": page(
            "<html><body><h1>Tiger claw</h1>"
            f"<img src='{secret_url}/api?img'><iframe src='{secret_url}/api?frame'></iframe>"
            f"<script src='http://[::ffff:127.0.0.1]:{port}/api?script'></script>"
            f"<script>fetch('{secret_url}/api?post', {{method: 'POST', mode: 'no-cors', body: 'x=1'}});"
            f"new Worker('data:text/javascript,fetch(\"{secret_url}/api?worker\")');"
            f"navigator.sendBeacon('http://localhost:{port}/api?beacon', 'x');</script>"
            f"<img src='http://{socket.gethostname()}:{port}/api?hostname'>"
            f"<img src='https://127.0.0.1:{port}/api?tls'><script>new WebSocket('ws://127.0.0.1:{port}/ws');</script>"
            "</body></html>"),
        "/tall": page("<html><body style='margin:0'><div style='height:200000px;background:#ccc'>tall</div>"
                      "</body></html>"),
        "/huge": page("<html><body>" + "<p>ivory</p>" * 200_000 + "</body></html>"),
    }


@pytest.fixture(scope="module")
def outside(secret):
    with PageServer(outside_pages(secret.url)) as server:
        yield server


def allow_outside(outside) -> AddressPolicy:
    return AddressPolicy.from_setting(f"127.0.0.1:{outside.port}")


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("100.64.0.1", "carrier-grade NAT"), ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "reserved"),
    ("fc00::1", "private"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"), ("2002:7f00:1::", "loopback"), ("::127.0.0.1", "loopback"),
    ("255.255.255.255", "reserved"), ("198.18.0.1", "private"),
])
def test_non_public_addresses_are_refused_with_their_kind(address, reason):
    assert reason in blocked_reason(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("spelling", [
    "http://127.0.0.1:{port}/", "http://2130706433:{port}/", "http://0x7f.1:{port}/", "http://0177.0.0.1:{port}/",
    "http://0.0.0.0:{port}/", "http://[::ffff:127.0.0.1]:{port}/", "http://[::1]:{port}/",
    "http://localhost:{port}/", "http://LOCALHOST.:{port}/", "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/", "http://100.64.0.1/",
])
def test_every_spelling_of_an_inside_address_is_refused_before_chromium_starts(secret, spelling):
    url = spelling.format(port=secret.port)
    with pytest.raises(RefusedAddress, match="address; captures only reach public addresses"):
        check_public_url(url, AddressPolicy())
    with pytest.raises(RefusedAddress):
        capture_page(url, policy=AddressPolicy())
    assert sum(secret.hits.values()) == 0


def test_parser_mismatch_is_read_as_the_browser_reads_it(secret, outside):
    """urlsplit says the host is evil.example; Chromium (and WHATWG) say 127.0.0.1."""
    url = f"http://127.0.0.1:{secret.port}\\@evil.example/"
    assert parse_url(url).host == "127.0.0.1" and parse_url(url).port == secret.port
    assert check_url(url) == f"http://127.0.0.1:{secret.port}/@evil.example/"
    with pytest.raises(RefusedAddress, match="127.0.0.1 is a loopback address"):
        capture_page(url, policy=allow_outside(outside))
    assert sum(secret.hits.values()) == 0


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(secret):
    """Not by its spelling: this machine's own name resolves (through /etc/hosts) to a loopback address."""
    name = socket.gethostname()
    addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    if not all(blocked_reason(ipaddress.ip_address(a)) for a in addresses):
        pytest.skip(f"{name} resolves to a public address here ({addresses})")
    with pytest.raises(RefusedAddress, match=rf"{re.escape(name)} \(.+\) is a \w+"):
        check_public_url(f"http://{name}:{secret.port}/", AddressPolicy())


@given(st.text(max_size=60))
@hypothesis_settings(max_examples=300, deadline=None)
def test_redirect_targets_are_same_site_paths_or_nothing(text):
    """Whatever `next` holds, what is followed starts with one slash and has nothing a browser would drop."""
    from urllib.parse import urlsplit

    from review.app import _local_path

    for target in (text, "/" + text, "//" + text):
        followed = _local_path(target)
        if followed is not None:
            assert followed.startswith("/") and not followed.startswith("//")
            assert not any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in followed)
            assert not urlsplit(followed).netloc


@pytest.mark.parametrize("setting, error", [
    ("localhost", "is not an address range"), ("127.0.0.1:http", "no valid port"), ("10.0.0.0/33", "address range"),
    ("[::1]:99999", "no valid port"),
])
def test_a_wrong_allow_setting_names_the_entry(setting, error):
    with pytest.raises(ValueError, match=error):
        AddressPolicy.from_setting(setting)


def test_allowing_a_range_is_explicit_and_port_bound(secret, outside):
    policy = allow_outside(outside)
    check_public_url(f"{outside.url}/ok", policy)
    check_public_url(f"http://localhost:{outside.port}/ok", policy)
    with pytest.raises(RefusedAddress):
        check_public_url(f"{secret.url}/", policy)  # same address, other port
    assert AddressPolicy.from_setting("127.0.0.0/8, [::1]").refusal(ipaddress.ip_address("::1"), 1) is None
    with pytest.raises(BadURL, match="only http and https"):
        check_url("file:///etc/passwd")


@pytest.mark.browser
def test_a_redirect_to_an_inside_address_is_refused(chromium, secret, outside):
    for path in ("/redirect", "/redirect-spelled"):
        with pytest.raises(CaptureError, match="refused to load .*loopback address"):
            capture_page(outside.url + path, policy=allow_outside(outside), screenshot=False)
    assert sum(secret.hits.values()) == 0


@pytest.mark.browser
def test_a_javascript_navigation_to_an_inside_address_is_refused(chromium, secret, outside):
    with pytest.raises(CaptureError, match="refused to load .*loopback address"):
        capture_page(outside.url + "/jsnav", policy=allow_outside(outside), screenshot=False)
    assert sum(secret.hits.values()) == 0


@pytest.mark.browser
def test_subresources_frames_posts_workers_and_beacons_cannot_reach_inside(chromium, secret, outside):
    capture = capture_page(outside.url + "/subresources", policy=allow_outside(outside), screenshot=False)
    assert "Tiger claw" in capture.html and SECRET not in capture.html
    assert sum(secret.hits.values()) == 0, secret.hits
    refused = " ".join(target for target, _why in capture.refused)
    for marker in ("img", "frame", "script", "post", "hostname"):
        assert f"api?{marker}" in refused, (marker, capture.refused)
    # HTTPS and WebSocket go through the proxy as CONNECT tunnels: refused before any byte reaches the server
    assert f"127.0.0.1:{secret.port}" in [target for target, _why in capture.refused], capture.refused


@pytest.mark.browser
def test_an_allowed_page_is_captured_with_a_clipped_screenshot(chromium, outside):
    from PIL import Image
    import io

    capture = capture_page(outside.url + "/ok", policy=allow_outside(outside))
    assert "Ivory bangle" in capture.html and capture.refused == ()
    tall = capture_page(outside.url + "/tall", policy=allow_outside(outside), max_screenshot_height=3000)
    width, height = Image.open(io.BytesIO(tall.screenshot)).size
    assert (width, height) == (1280, 3000)


@pytest.mark.browser
def test_a_page_larger_than_the_limits_is_refused(chromium, outside):
    with pytest.raises(CaptureError, match="rendered page has .* characters, the limit is 1,000,000"):
        capture_page(outside.url + "/huge", policy=allow_outside(outside), max_html_chars=1_000_000)
    for limit in ({"max_network_bytes": 500_000}, {"max_response_bytes": 500_000}):
        # "too large", not the 30 s deadline's error: the capture was cut at the limit (no wall-clock bound,
        # which a loaded machine breaks).
        with pytest.raises(CaptureError, match="too large: the (capture loaded more|response is larger) than 500,000 bytes"):
            capture_page(outside.url + "/huge", policy=allow_outside(outside), screenshot=False, **limit)


# ---- break 9: URL fields have a length ----------------------------------------------------------

@pytest.mark.browser
@pytest.mark.db
def test_a_tip_with_a_2_mb_seller_url_stores_the_listing_without_it(chromium, migrated_db_url, tmp_path, trained_models_dir):
    import json
    from dataclasses import replace

    from review.tips import submit_tip
    from support.review_support import migrated_engine
    from store.db import session_scope
    from store.models import Listing
    from store.validation import MAX_IMAGES, MAX_URL_CHARS
    from wildwatch.config import Settings

    product = {"@context": "https://schema.org", "@type": "Product", "sku": "LONG-1", "name": "Carved ivory tusk",
               "description": "old ivory carving", "image": [f"http://img.test/{n}.jpg" for n in range(500)]
               + ["http://img.test/" + "i" * 5000],
               "offers": {"@type": "Offer", "price": "900", "priceCurrency": "USD",
                          "seller": {"@type": "Person", "name": "s", "url": "http://seller.test/" + "a" * 2_000_000}}}
    html = (f"<html><head><title>Carved ivory tusk</title><script type='application/ld+json'>{json.dumps(product)}"
            "</script></head><body><h1>Carved ivory tusk</h1><p>old ivory carving</p></body></html>")
    engine = migrated_engine(migrated_db_url)
    with PageServer({"/item/LONG-1": page(html)}) as shop:
        settings = replace(Settings.from_env(), database_url=migrated_db_url, data_dir=tmp_path / "data",
                           models_dir=trained_models_dir, threshold=None, fetch_allow=f"127.0.0.1:{shop.port}")
        outcome = submit_tip(engine, shop.url + "/item/LONG-1", "alice", settings)
    assert outcome.ok, outcome.error
    with session_scope(engine) as session:
        stored = session.get(Listing, outcome.listing_id)
        assert stored.title == "Carved ivory tusk" and stored.seller_url is None
        assert len(stored.images) == MAX_IMAGES and all(len(u) <= MAX_URL_CHARS for u in stored.images)
    too_long = shop.url + "/item/" + "x" * 4100
    with pytest.raises(BadURL, match="the limit is 4000"):
        submit_tip(engine, too_long, "alice", settings)
    engine.dispose()


def test_the_store_refuses_an_overlong_listing_url_and_drops_overlong_seller_and_image_urls():
    from store.errors import InvalidRecord
    from store.validation import listing_row

    item = {"marketplace": "shop", "listing_id": "1", "title": "t", "url": "http://shop.test/1",
            "seller_url": "http://s.test/" + "a" * 5000, "images": ["http://i.test/" + "b" * 5000, "http://i.test/ok"]}
    row = listing_row(item, 0, "shop")
    assert row.values["seller_url"] is None and row.values["images"] == ["http://i.test/ok"]
    with pytest.raises(InvalidRecord, match="field 'url': is 4014 characters, the limit is 4000"):
        listing_row({**item, "url": "http://shop.test/" + "c" * 3997}, 0, "shop")


@pytest.mark.browser
@pytest.mark.db
def test_an_evidence_package_does_not_refetch_a_listing_url_that_points_inside(chromium, secret, migrated_db_url, tmp_path):
    """A listing stored with an inside URL (before this check, or by a hostile site) is not fetched again."""
    import json
    from dataclasses import replace

    from review.evidence import build_package
    from support.review_support import evidence, listing, migrated_engine, seed, standard_users
    from store import repository
    from store.db import session_scope
    from wildwatch.config import Settings

    engine = migrated_engine(migrated_db_url)
    standard_users(engine)
    ids = seed(engine, [(listing("IN1", "Ivory", "ivory", url=f"http://2130706433:{secret.port}/"), 0.9,
                         [evidence("ivory")])])
    with session_scope(engine) as session:
        repository.add_decision(session, ids["IN1"], "alice", "confirmed")
    settings = replace(Settings.from_env(), database_url=migrated_db_url, data_dir=tmp_path / "data")
    package = build_package(engine, ids["IN1"], tmp_path / "pkg", settings, actor="alice")
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text(encoding="utf-8"))
    assert any("127.0.0.1 is a loopback address" in error for error in manifest["capture_errors"]), manifest
    assert package.files and sum(secret.hits.values()) == 0
    engine.dispose()
