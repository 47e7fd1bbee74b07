"""The listing page shows the pictures the crawl stored, with the text OCR read in them, served by the app
itself from the picture store (never from the seller's server); refused pictures say why."""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from PIL import Image as PILImage, ImageDraw

from review.app import create_app
from support.review_support import PASSWORDS, evidence, listing, migrated_engine, seed, standard_users
from store.db import session_scope
from store.images import save_file
from store.models import Image, ListingImage
from wildwatch.config import Settings
from wildwatch.images.inspect import check_image

pytestmark = pytest.mark.db

OCR_TEXT = '加微信 zhou_ivory88 <script>alert(1)</script>'


def _png() -> bytes:
    picture = PILImage.new("RGB", (320, 200), (240, 236, 220))
    ImageDraw.Draw(picture).rectangle((40, 40, 280, 160), fill=(120, 90, 60))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def app_and_picture(migrated_db_url, tmp_path):
    engine = migrated_engine(migrated_db_url)
    standard_users(engine)
    ids = seed(engine, [(listing("P1", "Carved bangle", "old stock", images=["http://shop.test/p1.png",
                                                                                "http://shop.test/p1-b.png"]),
                         0.8, [evidence("ivory")])])
    data_dir = tmp_path / "data"
    checked = check_image(_png(), "image/png")
    relative = save_file(data_dir, checked)
    listing_id = ids["P1"]
    with session_scope(engine) as session:
        image = Image(sha256=checked.sha256, phash=checked.phash, content_type=checked.content_type,
                      width=checked.width, height=checked.height, bytes=len(checked.body), path=relative,
                      ocr_text=OCR_TEXT, ocr_engine="test")
        session.add(image)
        session.flush()
        session.add_all([
            ListingImage(listing_id=listing_id, image_id=image.id, url="http://shop.test/p1.png", position=1,
                         status="stored"),
            ListingImage(listing_id=listing_id, image_id=None, url="http://shop.test/p1-b.png", position=2,
                         status="refused", reason="not_an_image"),
        ])
    app = create_app(replace(Settings.from_env(), database_url=migrated_db_url, data_dir=data_dir), testing=True)
    yield app, listing_id, checked
    engine.dispose()


def _login(client):
    token = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/login").data).group(1).decode()
    assert client.post("/login", data={"name": "alice", "password": PASSWORDS["alice"],
                                       "csrf_token": token}).status_code == 302
    return client


def test_listing_page_shows_stored_pictures_with_their_ocr_text_escaped(app_and_picture):
    app, listing_id, checked = app_and_picture
    page = _login(app.test_client()).get(f"/listing/{listing_id}").get_data(as_text=True)
    assert f'src="/picture/{checked.sha256}"' in page                       # the app's own copy, not the seller's
    assert 'src="http://shop.test' not in page
    assert "加微信 zhou_ivory88 &lt;script&gt;alert(1)&lt;/script&gt;" in page  # OCR text shown, escaped
    assert "not stored: not_an_image" in page                               # a refused picture says why


def test_a_stored_picture_is_served_by_hash_with_its_type_and_nosniff(app_and_picture):
    app, _listing_id, checked = app_and_picture
    client = _login(app.test_client())
    answer = client.get(f"/picture/{checked.sha256}")
    assert answer.status_code == 200 and answer.data == checked.body
    assert answer.mimetype == "image/png" and answer.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/picture/{'0' * 64}").status_code == 404          # unknown hash
    assert client.get("/picture/..%2F..%2Fetc%2Fpasswd").status_code == 404  # not a hash at all


def test_pictures_need_a_login(app_and_picture):
    app, _listing_id, checked = app_and_picture
    answer = app.test_client().get(f"/picture/{checked.sha256}")
    assert answer.status_code in (302, 401) and answer.data != checked.body
