"""Listing pictures in the review app: the stored copy of a picture, so an analyst sees what the crawl saw
(and what OCR read) without the page fetching anything from the seller's server.

A Flask blueprint under the app's login check. Only pictures the crawl stored are served, by content hash,
with the type the image check found, `nosniff` and a private cache: a seller cannot make the app serve
anything that did not decode as a picture.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, send_file

from review.state import db, state
from store.images import stored_picture

blueprint = Blueprint("pictures", __name__)
SHA256 = re.compile(r"[0-9a-f]{64}")


@blueprint.get("/picture/<sha256>")
def picture(sha256: str) -> Any:
    if not SHA256.fullmatch(sha256):
        abort(404)
    with db() as session:
        image = stored_picture(session, sha256)
        if image is None:
            abort(404)
        relative, content_type = image.path, image.content_type
    root = (Path(state().settings.data_dir) / "images").resolve()
    path = (root.parent / relative).resolve()
    if root not in path.parents or not path.is_file():  # a path outside the picture store, or a file gone
        abort(404)
    response = send_file(path, mimetype=content_type if content_type.startswith("image/") else "application/octet-stream",
                         max_age=3600, conditional=True, etag=sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Disposition"] = f'inline; filename="{sha256[:16]}"'
    return response
