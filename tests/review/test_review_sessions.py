"""Issue 17 breaks 3, 4, 5 and 8 against the review app served by waitress on 127.0.0.1 (as analysts run it),
driven with plain HTTP: login throttling, sessions that end, redirects that stay on the site, and
numbers and ids from the request that are out of range answered without a 500."""
from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
import requests

from support.cli import invoke, wildwatch_env
from review.app import create_app
from review.server import ReviewServer
from review.throttle import Limit, LoginThrottle
from support.review_support import PASSWORDS, evidence, listing, migrated_engine, seed, standard_users
from wildwatch.config import Settings

pytestmark = pytest.mark.db


@pytest.fixture
def served(migrated_db_url, tmp_path):
    engine = migrated_engine(migrated_db_url)
    standard_users(engine)
    ids = seed(engine, [(listing("N1", "Ivory netsuke", "old ivory"), 0.8, [evidence("ivory")])])
    settings = replace(Settings.from_env(), database_url=migrated_db_url, data_dir=tmp_path / "data")
    app = create_app(settings)
    with ReviewServer(app, port=0) as server:
        yield server, app, ids, tmp_path
    engine.dispose()


def _token(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=30).text).group(1)


def login(base: str, name: str, password: str | None = None, next_: str | None = None) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    token = _token(session, f"{base}/login")
    answer = session.post(f"{base}/login" + (f"?next={next_}" if next_ else ""), allow_redirects=False, timeout=30,
                          data={"name": name, "password": password or PASSWORDS[name], "csrf_token": token})
    return session, answer


def is_in(session: requests.Session, base: str) -> bool:
    return session.get(f"{base}/", headers={"Accept": "text/html"}, allow_redirects=False, timeout=30).status_code == 200


# ---- 3. login throttling --------------------------------------------------------------------------

def test_wrong_passwords_lock_the_account_with_a_growing_wait_then_it_opens_again(served):
    server, app, _ids, _tmp = served
    app.extensions["wildwatch_login_throttle"] = LoginThrottle(account=Limit(free=3, base_s=1.5, max_s=60),
                                                               address=Limit(free=100, base_s=1, max_s=60))
    for _ in range(3):
        _s, wrong = login(server.url, "alice", "not-the-password-1")
        assert wrong.status_code == 401
    session, right = login(server.url, "alice")  # the right password, too soon: refused, nothing hashed
    assert right.status_code == 429 and 1 <= int(right.headers["Retry-After"]) <= 2
    assert "Too many failed logins" in right.text and not is_in(session, server.url)
    _s, other = login(server.url, "bob")  # another account from the same address is not locked
    assert other.status_code == 302
    time.sleep(float(right.headers["Retry-After"]) + 0.2)
    _s, wrong = login(server.url, "alice", "not-the-password-1")  # a fourth failure: the wait doubles
    assert wrong.status_code == 401
    _s, early = login(server.url, "alice")
    assert early.status_code == 429 and int(early.headers["Retry-After"]) >= 3
    time.sleep(float(early.headers["Retry-After"]) + 0.2)
    session, ok = login(server.url, "alice")
    assert ok.status_code == 302 and is_in(session, server.url)


def test_guessing_many_names_from_one_address_is_slowed(served, monkeypatch):
    from review import auth

    server, app, _ids, _tmp = served
    # A clock that stands still: the waits cannot run out between attempts, however slow the machine.
    app.extensions["wildwatch_login_throttle"] = LoginThrottle(account=Limit(free=3, base_s=5, max_s=60),
                                                               address=Limit(free=6, base_s=5, max_s=60),
                                                               clock=lambda: 1_000.0)
    answers = [login(server.url, f"nobody{n}", "guess-guess-guess")[1].status_code for n in range(10)]
    assert answers[:6] == [401] * 6 and set(answers[6:]) == {429}
    checked = []
    real_verify = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *args: checked.append(args) or real_verify(*args))
    _s, refused = login(server.url, "alice")
    assert refused.status_code == 429 and checked == []  # refused before any Argon2 hash is computed


def test_default_throttle_refuses_the_41st_attempt_of_the_issue(served):
    server, app, _ids, _tmp = served
    # The default limits on a clock that stands still: on a loaded machine one attempt can take longer than
    # the first two-second wait, which would let a sixth wrong password through to a 401.
    app.extensions["wildwatch_login_throttle"] = LoginThrottle(clock=lambda: 1_000.0)
    codes = [login(server.url, "alice", "not-the-password-1")[1].status_code for _ in range(40)]
    assert codes.count(401) == 5 and codes.count(429) == 35  # 5 free failures, then a wait that doubles
    assert login(server.url, "alice")[1].status_code == 429


# ---- 4. sessions ----------------------------------------------------------------------------------

def test_logout_ends_the_session_everywhere_and_the_old_cookie_is_dead(served):
    server, _app, _ids, _tmp = served
    session, answer = login(server.url, "alice")
    assert answer.status_code == 302 and is_in(session, server.url)
    stolen = requests.Session()
    stolen.cookies.update(session.cookies)  # a copy of the cookie (another device, or a thief)
    assert is_in(stolen, server.url)
    token = _token(session, f"{server.url}/")
    assert session.post(f"{server.url}/logout", data={"csrf_token": token}, allow_redirects=False).status_code == 302
    assert not is_in(stolen, server.url)
    assert not is_in(session, server.url)
    again, _answer = login(server.url, "alice")  # logging in again works
    assert is_in(again, server.url)


def test_password_change_and_deactivation_from_the_cli_end_sessions(served, trained_models_dir):
    server, _app, _ids, tmp = served
    env = wildwatch_env(tmp / "data", trained_models_dir)
    env["WILDWATCH_DATABASE_URL"] = server_db_url(served)
    alice, _ = login(server.url, "alice")
    bob, _ = login(server.url, "bob")
    changed = invoke(["users", "passwd", "alice", "--password-stdin"], env, input_text="a-brand-new-password\n")
    assert changed.returncode == 0, changed.stderr
    assert "password changed" in changed.stdout and not is_in(alice, server.url) and is_in(bob, server.url)
    assert login(server.url, "alice")[1].status_code == 401
    assert login(server.url, "alice", "a-brand-new-password")[1].status_code == 302
    gone = invoke(["users", "deactivate", "bob"], env)
    assert gone.returncode == 0 and "deactivated" in gone.stdout
    assert not is_in(bob, server.url) and login(server.url, "bob")[1].status_code == 401
    missing = invoke(["users", "deactivate", "nobody"], env)
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr
    short = invoke(["users", "passwd", "alice", "--password-stdin"], env, input_text="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr


def server_db_url(served) -> str:
    _server, app, _ids, _tmp = served
    return app.extensions["wildwatch_settings"].database_url


def test_a_session_ends_at_its_absolute_lifetime_however_active(served):
    from datetime import timedelta

    import review.app as review_app

    server, app, _ids, _tmp = served
    assert review_app.SESSION_MAX_AGE == timedelta(hours=12)  # the production lifetime; shortened for the test
    app.config["WILDWATCH_SESSION_MAX_AGE"] = timedelta(seconds=3)
    session, _ = login(server.url, "alice")
    for _ in range(4):  # active all along: each request renews the cookie, not the lifetime
        assert is_in(session, server.url)
        time.sleep(0.5)
    time.sleep(1.5)
    assert not is_in(session, server.url)


# ---- 5. redirects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["//evil.example/x", "/%09/evil.example/", "/%0A/x", "/%0D%0ALocation:%20x",
                                    "/\\evil.example", "/%5Cevil.example", "https://evil.example/", "/%20/evil.example",
                                    "/%E2%80%AE/x", "%2F%2Fevil.example"])
def test_login_and_bulk_form_redirect_only_to_paths_on_the_site(served, target):
    server, _app, _ids, _tmp = served
    session, answer = login(server.url, "alice", next_=target)
    assert answer.status_code == 302 and answer.headers["Location"] == "/", answer.headers.get("Location")
    token = _token(session, f"{server.url}/")
    bulk = session.post(f"{server.url}/decisions/bulk", allow_redirects=False, timeout=30,
                        data={"decision": "confirmed", "csrf_token": token, "back": requests.utils.unquote(target)})
    assert bulk.status_code == 302 and bulk.headers["Location"] == "/", bulk.headers.get("Location")


def test_a_path_on_the_site_is_still_followed(served):
    server, _app, _ids, _tmp = served
    _session, answer = login(server.url, "alice", next_="/%3Fstatus%3Dundecided")
    assert answer.headers["Location"] == "/?status=undecided"


# ---- 8. numbers and ids from the request ----------------------------------------------------------

@pytest.mark.parametrize("path, status", [
    ("/?page=9999999999999999999", 200), ("/?page=%D9%A3", 200), ("/?page=-5", 200),
    ("/?seen_to=9999-12-31", 400), ("/?seen_from=0001-01-01", 400), ("/?seen_to=%D9%A2%D9%A0%D9%A2%D9%A4-01-01", 400),
    ("/?min_score=nan", 400), ("/?max_score=1e999", 400), ("/?min_score=%EF%BC%91", 400),
    ("/listing/9223372036854775808", 404), ("/listing/99999999999999999999999", 404), ("/listing/%D9%A3", 404),
    ("/listing/%C2%B2", 404), ("/listing/0", 404),
])
def test_out_of_range_numbers_and_ids_are_answered_without_a_500(served, path, status):
    server, _app, _ids, _tmp = served
    session, _ = login(server.url, "alice")
    answer = session.get(server.url + path, headers={"Accept": "text/html"}, timeout=30)
    assert answer.status_code == status, (path, answer.status_code, answer.text[:300])


def test_bulk_ids_in_other_digits_or_out_of_range_are_ignored(served):
    server, _app, ids, _tmp = served
    session, _ = login(server.url, "alice")
    token = _token(session, f"{server.url}/")
    answer = session.post(f"{server.url}/decisions/bulk", allow_redirects=False, timeout=30, data={
        "decision": "confirmed", "csrf_token": token,
        "listing_id": ["²", "٣", "9223372036854775808", "99999999999999999999", str(ids["N1"])]})
    assert answer.status_code == 302
    page = session.get(f"{server.url}/listing/{ids['N1']}", timeout=30).text
    assert 'id="current-decision"' in page and "confirmed" in page


def test_the_server_stops_cleanly_with_a_connection_open(monkeypatch):
    """Leaving the block stops the serving thread without an exception in it (its sockets were once closed from
    the caller's thread while it sat in select(): EBADF) and frees the port, even with a keep-alive client."""
    import socket
    import threading

    failures = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    session = requests.Session()  # keeps its connection open after the answer
    with ReviewServer(app, port=0) as server:
        assert session.get(server.url + "/", timeout=10).text == "ok"
        thread, port = server._thread, server.port
    assert not thread.is_alive() and not failures, failures
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    session.close()


def test_leaving_after_the_loop_already_closed_its_sockets_writes_to_none_of_them():
    """The loop polls its stop flag on its own every 0.2 s; when it has seen it and closed everything before
    `__exit__` wakes it, the closed trigger must not be written to (CI once failed a test's teardown with EBADF)."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = ReviewServer(app, port=0).__enter__()
    assert requests.get(server.url + "/", timeout=10).text == "ok"
    server._stopping.set()  # what __exit__ does first; the loop notices at its next poll
    server._thread.join(timeout=5)
    assert not server._thread.is_alive()
    server.__exit__(None, None, None)  # before the fix: os.write on the closed trigger, OSError EBADF
