"""The review app through Flask's test client with CSRF on: login, 401s, CSRF refusals, permissions,
bulk actions, hostile listing text escaped, unsafe links not linked, no open redirect."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
import sqlalchemy as sa

from review.app import create_app, safe_href
from support.review_support import PASSWORDS, evidence, listing, migrated_engine, seed, standard_users
from store.models import Decision
from wildwatch.config import Settings

HOSTILE_TITLE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> ivory'
HOSTILE_DESCRIPTION = '"><svg onload=alert(1)> =HYPERLINK("http://evil") </textarea><iframe src="javascript:alert(2)">'


@pytest.fixture
def setup(migrated_db_url, tmp_path):
    url = migrated_db_url
    engine = migrated_engine(url)
    standard_users(engine)
    ids = seed(engine, [
        (listing("H1", HOSTILE_TITLE, HOSTILE_DESCRIPTION, url="javascript:alert(3)", seller_url="javascript:alert(4)",
                 images=["http://img.test/a.jpg"]), 0.9, [evidence("ivory")]),
        (listing("N1", "Ivory netsuke", "old ivory"), 0.8, [evidence("ivory"), evidence("ivory", "description")]),
        (listing("N2", "Pangolin scales", ""), 0.7, [evidence("pangolin", group="pangolin")]),
    ])
    settings = replace(Settings.from_env(), database_url=url, data_dir=tmp_path / "data")
    app = create_app(settings, testing=True)
    yield app, engine, ids
    engine.dispose()


def _csrf(html: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()


def login(client, name):
    token = _csrf(client.get("/login").data)
    response = client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token})
    assert response.status_code == 302, response.data
    return client


def decisions(engine, listing_id):
    with engine.connect() as c:
        return c.execute(sa.select(Decision.analyst, Decision.decision).where(Decision.listing_id == listing_id)
                         .order_by(Decision.id)).all()


def test_unauthenticated_pages_redirect_to_login_and_other_requests_get_401(setup):
    app, engine, ids = setup
    client = app.test_client()
    page = client.get(f"/listing/{ids['N1']}", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/listing/")
    assert client.get("/", headers={"Accept": "application/json"}).status_code == 401
    for path in (f"/listing/{ids['N1']}/decision", "/decisions/bulk", f"/listing/{ids['N1']}/evidence", "/tips"):
        assert client.post(path, data={"decision": "confirmed"}).status_code == 401, path
    assert decisions(engine, ids["N1"]) == []


def test_wrong_password_is_refused_and_login_does_not_redirect_off_site(setup):
    app, _engine, _ids = setup
    client = app.test_client()
    token = _csrf(client.get("/login").data)
    bad = client.post("/login", data={"name": "alice", "password": "nope-nope-nope", "csrf_token": token})
    assert bad.status_code == 401 and b"Wrong name or password" in bad.data
    unknown = client.post("/login", data={"name": "nobody", "password": "nope-nope-nope", "csrf_token": token})
    assert unknown.status_code == 401
    good = client.post("/login?next=//evil.example/x",
                       data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token})
    assert good.status_code == 302 and good.headers["Location"] == "/"


def test_login_without_csrf_token_is_refused(setup):
    app, _engine, _ids = setup
    response = app.test_client().post("/login", data={"name": "alice", "password": PASSWORDS["alice"]})
    assert response.status_code == 400


def test_decision_without_valid_csrf_token_is_refused(setup):
    app, engine, ids = setup
    client = login(app.test_client(), "alice")
    path = f"/listing/{ids['N1']}/decision"
    assert client.post(path, data={"decision": "confirmed"}).status_code == 400
    assert client.post(path, data={"decision": "confirmed", "csrf_token": "forged"}).status_code == 400
    # a token from another user's session is no good either
    other = login(app.test_client(), "bob")
    foreign = _csrf(other.get(f"/listing/{ids['N1']}").data)
    refused = client.post(path, data={"decision": "confirmed", "csrf_token": foreign})
    assert refused.status_code == 400 and b"CSRF" in refused.data
    assert decisions(engine, ids["N1"]) == []
    token = _csrf(client.get(f"/listing/{ids['N1']}").data)
    assert client.post(path, data={"decision": "confirmed", "csrf_token": token}).status_code == 302
    assert decisions(engine, ids["N1"]) == [("alice", "confirmed")]


def test_analyst_cannot_change_another_analysts_decision_without_lead(setup):
    app, engine, ids = setup
    path = f"/listing/{ids['N1']}/decision"
    alice = login(app.test_client(), "alice")
    alice.post(path, data={"decision": "confirmed", "csrf_token": _csrf(alice.get(f"/listing/{ids['N1']}").data)})
    bob = login(app.test_client(), "bob")
    refused = bob.post(path, data={"decision": "false_positive", "csrf_token": _csrf(bob.get("/").data)})
    assert refused.status_code == 403 and b"only a lead" in refused.data
    lena = login(app.test_client(), "lena")
    assert lena.post(path, data={"decision": "escalated", "note": "to customs",
                                 "csrf_token": _csrf(lena.get("/").data)}).status_code == 302
    assert decisions(engine, ids["N1"]) == [("alice", "confirmed"), ("lena", "escalated")]
    history = lena.get(f"/listing/{ids['N1']}").data.decode()
    audit = history[history.index('id="audit"'):]
    assert "confirmed (alice)" in audit and "escalated (lena): to customs" in audit


def test_bulk_action_records_each_selected_listing_and_reports_refusals(setup):
    app, engine, ids = setup
    bob = login(app.test_client(), "bob")
    bob.post(f"/listing/{ids['N2']}/decision",
             data={"decision": "needs_expert", "csrf_token": _csrf(bob.get("/").data)})
    alice = login(app.test_client(), "alice")
    response = alice.post("/decisions/bulk", data={
        "decision": "false_positive", "listing_id": [str(ids["N1"]), str(ids["N2"])],
        "csrf_token": _csrf(alice.get("/").data), "back": "/?status=undecided"}, follow_redirects=True)
    assert b"1 listing(s) recorded" in response.data and b"only a lead" in response.data
    assert decisions(engine, ids["N1"]) == [("alice", "false_positive")]
    assert decisions(engine, ids["N2"]) == [("bob", "needs_expert")]


def test_hostile_listing_text_is_escaped_and_unsafe_links_are_not_links(setup):
    app, _engine, ids = setup
    client = login(app.test_client(), "alice")
    for path in ("/", f"/listing/{ids['H1']}"):
        response = client.get(path)
        html = response.data.decode()
        assert "<script>window.__pwned" not in html and "<img src=x" not in html
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = client.get(f"/listing/{ids['H1']}").data.decode()
    assert "<svg onload" not in html and "<iframe" not in html
    assert 'href="javascript:' not in html
    assert '<a href="http://img.test/a.jpg"' in html
    assert "<mark" in html  # "ivory" is still highlighted inside the escaped title


def test_queue_filters_and_views_render(setup):
    app, _engine, ids = setup
    client = login(app.test_client(), "alice")
    html = client.get("/?species=pangolin").data.decode()
    assert "Pangolin scales" in html and "Ivory netsuke" not in html
    assert "Most uncertain first" in client.get("/?order=uncertain").data.decode()
    bad = client.get("/?seen_from=yesterday")
    assert bad.status_code == 400 and b"not a date" in bad.data
    assert client.get("/listing/999999").status_code == 404


@pytest.mark.parametrize("url, expected", [
    ("https://shop.example/item/1", "https://shop.example/item/1"),
    ("javascript:alert(1)", None), ("JaVaScRiPt:alert(1)", None), ("data:text/html,x", None),
    ("//evil.example", None), ("/relative", None), (None, None),
])
def test_safe_href_only_allows_http_links(url, expected):
    assert safe_href(url) == expected


def test_listing_page_says_why_it_reads_as_an_offer_or_not(setup):
    app, engine, ids = setup
    client = login(app.test_client(), "alice")
    page = client.get(f"/listing/{ids['N1']}").data.decode()
    # The seeded score's evidence names ivory and no trade signal.
    assert 'id="reading">Offer: ivory (' in page
    assert "No trade signal: check that it is an offer." in page


@pytest.mark.parametrize(("score", "shown"), [(0.5, "0.50"), (0.987, "0.99"), (0.99813, "0.99813"), (0.99815, "0.99815"),
                                              (0.99972399, "0.999724"), (0.99999999, "0.999999"), (1.0, "0.999999")])
def test_a_score_near_one_shows_the_digits_that_tell_it_from_its_neighbours(score: float, shown: str) -> None:
    from review.web import format_score

    assert format_score(score) == shown  # 0.99813 and 0.99815 both read "0.9981" before 2026-12-07
