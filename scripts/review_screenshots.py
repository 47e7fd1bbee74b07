"""Make the README's screenshots of the review app: docs/review-queue.png and docs/review-listing.png.

Trains a model and runs a demo night into a throwaway folder, adds two
accounts, records a few decisions so the queue shows every status, then serves
the app and photographs it in headless Chromium:

    .venv/bin/python scripts/review_screenshots.py
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.browser import launch_options  # noqa: E402
from review.app import create_app  # noqa: E402
from review.auth import hash_password  # noqa: E402
from review.server import ReviewServer  # noqa: E402
from store.db import make_engine, session_scope  # noqa: E402
from store.decisions import QueueFilters, add_user, decide, queue_page  # noqa: E402
from wildwatch.config import Settings  # noqa: E402


def main() -> None:
    out = ROOT / "docs"
    with tempfile.TemporaryDirectory(prefix="wildwatch-shots-") as tmp:
        data_dir = Path(tmp)
        env = {**os.environ, "WILDWATCH_DATA_DIR": str(data_dir / "data"),
               "WILDWATCH_MODELS_DIR": str(data_dir / "models")}
        for command in (["train"], ["nightly", "--demo"]):
            subprocess.run([sys.executable, "-m", "wildwatch", *command], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data_dir = data_dir / "data"
        url = f"sqlite:///{data_dir / 'wildwatch.db'}"
        password = secrets.token_urlsafe(16)
        engine = make_engine(url)
        with session_scope(engine) as session:
            analyst = add_user(session, "mei", hash_password(password), "analyst")
            lead = add_user(session, "sam", hash_password(password), "lead")
            rows = queue_page(session, QueueFilters(), per_page=12).rows
            for row, (user, decision, note) in zip(rows[1:6], [
                (analyst, "confirmed", "carving style and price match ivory"),
                (analyst, "needs_expert", "could be bone; ask the ivory expert"),
                (lead, "escalated", "seller has 4 more flagged listings"),
                (analyst, "false_positive", "colour name, not the material"),
                (analyst, "confirmed", None),
            ]):
                decide(session, row.id, user, decision, note)
            chinese = next(r.id for r in rows[6:] if any("\u4e00" <= c <= "\u9fff" for c in r.title))
        engine.dispose()
        settings = replace(Settings.from_env(), database_url=url, data_dir=data_dir)
        from playwright.sync_api import sync_playwright

        with ReviewServer(create_app(settings), port=0) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_options(settings.chromium_path))
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server.url + "/login")
            page.fill("input[name=name]", "mei")
            page.fill("input[name=password]", password)
            page.click("form.login-form button[type=submit]")
            page.wait_for_selector("#queue")
            page.keyboard.press("j")
            page.keyboard.press("x")
            page.keyboard.press("j")
            page.screenshot(path=str(out / "review-queue.png"))
            page.goto(f"{server.url}/listing/{chinese}")
            page.wait_for_selector("#listing-title")
            page.screenshot(path=str(out / "review-listing.png"), full_page=True)
            browser.close()
    print(f"wrote {out / 'review-queue.png'} and {out / 'review-listing.png'}")


if __name__ == "__main__":
    main()
