"""Issue 17 break 2: captures cannot take the review app down. A slow page is cut off at the capture's
deadline; tips wait in the capture queue (not in the server's request threads), each user may have only
a few waiting, and the queue page stays quick while captures run. Servers on 127.0.0.1, real Chromium."""
from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
import requests
from sqlalchemy import select

from review.app import create_app
from review.capture import CaptureError, capture_page
from review.netguard import AddressPolicy
from review.server import ReviewServer
from support.pages_server import PageServer, page
from support.review_support import PASSWORDS, evidence, listing, migrated_engine, seed, standard_users
from store.db import session_scope
from store.models import Tip
from wildwatch.config import Settings

pytestmark = pytest.mark.browser


def slow_page(delay: float) -> PageServer:
    """A listing page on 127.0.0.1 (any path) that answers after `delay` seconds."""
    def listing_page(request):
        return page(f"<html><head><title>Ivory {request.path}</title></head><body><h1>Ivory bangle {request.path}</h1>"
                    "<p>old ivory</p></body></html>")

    return PageServer(route=listing_page, delay=delay)


def test_a_slow_page_is_cut_off_at_the_capture_deadline(chromium):
    with slow_page(delay=20) as slow:
        started = time.monotonic()
        with pytest.raises(CaptureError, match="could not load the page|took longer"):
            capture_page(slow.url + "/x", policy=AddressPolicy.from_setting(f"127.0.0.1:{slow.port}"), timeout_ms=2000)
        took = time.monotonic() - started
    # Under the page's own 20 s: given up at the deadline, not when the page finally answered (browser start
    # included; a loose bound, so a loaded machine does not fail it).
    assert took < 15, f"capture took {took:.1f} s with a 2 s deadline"
    print(f"\n[capture deadline] a 20 s page given up after {took:.1f} s (deadline 2 s, browser start included)")


def _token(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=30).text).group(1)


@pytest.mark.db
def test_tips_wait_in_the_capture_queue_and_the_app_stays_responsive(chromium, migrated_db_url, tmp_path, trained_models_dir):
    engine = migrated_engine(migrated_db_url)
    standard_users(engine)
    seed(engine, [(listing("N1", "Ivory netsuke", "old ivory"), 0.8, [evidence("ivory")])])
    with slow_page(delay=4) as slow:
        settings = replace(Settings.from_env(), database_url=migrated_db_url, data_dir=tmp_path / "data",
                           models_dir=trained_models_dir, threshold=None, fetch_allow=f"127.0.0.1:{slow.port}")
        with ReviewServer(create_app(settings), port=0, threads=4) as server:
            alice = requests.Session()
            alice.post(f"{server.url}/login", allow_redirects=False, timeout=30, data={
                "name": "alice", "password": PASSWORDS["alice"], "csrf_token": _token(alice, f"{server.url}/login")})
            token = _token(alice, f"{server.url}/tips")
            # issue 17 break 1 through the web form: refused at once, with the reason, nothing queued
            for inside, reason in ((f"http://127.0.0.1:{server.port}\\@evil.example/", "127.0.0.1 is a loopback"),
                                   ("http://169.254.169.254/latest/meta-data/", "is a link-local address"),
                                   (f"http://2130706433:{server.port}/", "127.0.0.1 is a loopback")):
                refused = alice.post(f"{server.url}/tips", data={"url": inside, "csrf_token": token}, timeout=30)
                assert refused.status_code == 400 and reason in refused.text, (inside, refused.text[:300])
            answers, times = [], []
            for n in range(3):
                started = time.monotonic()
                answers.append(alice.post(f"{server.url}/tips", data={"url": f"{slow.url}/item/{n}", "csrf_token": token},
                                          allow_redirects=False, timeout=30))
                times.append(time.monotonic() - started)
            assert [a.status_code for a in answers] == [302, 302, 429], [a.text[:200] for a in answers]
            assert "captures waiting or running" in answers[2].text
            assert max(times) < 4, times  # queued, not fetched in the request (the page alone takes 4 s)
            started = time.monotonic()
            queue = alice.get(f"{server.url}/", timeout=30)
            queue_s = time.monotonic() - started
            assert queue.status_code == 200 and queue_s < 4, queue_s  # not waiting for a 4 s capture
            assert "Being fetched" in alice.get(f"{server.url}/tips", timeout=30).text
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with session_scope(engine) as session:
                    tips = list(session.scalars(select(Tip)))
                if len(tips) == 2:
                    break
                time.sleep(0.5)
            assert sorted(t.status for t in tips) == ["stored", "stored"], [(t.status, t.error) for t in tips]
    print(f"\n[capture queue] 2 tips to a 4 s page queued in {max(times[:2]):.2f} s each, the third refused (429); "
          f"queue page during the captures {queue_s:.2f} s")
    engine.dispose()
