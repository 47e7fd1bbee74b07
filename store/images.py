"""Listing images in the store: files kept once by SHA-256 under the data dir, rows in images/listing_images.

The crawl hands over observations (which listing showed which picture at which position, or why a
download was refused); `record_observations` writes them in the caller's transaction. Reads for the
seller networks and the OCR stage are here too (`image_refs_by_listing`, `image_refs_by_seller`).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from store.columns import utcnow
from store.models import Image, Listing, ListingImage, ListingSnapshot, Marketplace
from store.upsert import dialect_insert
from wildwatch.images.inspect import CheckedImage, Refusal

IMAGES = cast(Table, Image.__table__)
LISTING_IMAGES = cast(Table, ListingImage.__table__)
IMAGE_DIR = "images"


@dataclass(frozen=True)
class ImageObservation:
    """One picture of one listing as the crawl saw it: kept (`image`) or refused (`refusal`)."""

    external_id: str
    url: str
    position: int
    image: CheckedImage | None = None
    refusal: Refusal | None = None
    seen_at: datetime | None = None


@dataclass(frozen=True)
class ImageRef:
    """What links listings by picture: the content hash, the perceptual hash and where it was seen."""

    sha256: str
    phash: str
    url: str


def relative_path(sha256: str, extension: str) -> str:
    """Where a picture lives under the data dir: images/ab/cd/<sha256>.<ext> (two levels keep folders small)."""
    return f"{IMAGE_DIR}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def save_file(data_dir: Path, image: CheckedImage) -> str:
    """Write the picture once (atomically: a temporary file renamed); an existing file is left as it is."""
    rel = relative_path(image.sha256, image.extension)
    target = Path(data_dir) / rel
    if target.exists():
        return rel
    if len(image.body) != image.size:
        raise ValueError(f"picture {image.sha256}: its file {target} is missing and its bytes were let go")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(image.body)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def _newest_snapshots(session: Session, listing_ids: Sequence[int]) -> dict[int, int]:
    newest = select(ListingSnapshot.listing_id, func.max(ListingSnapshot.id)).where(
        ListingSnapshot.listing_id.in_(listing_ids)).group_by(ListingSnapshot.listing_id)
    return {listing_id: snapshot_id for listing_id, snapshot_id in session.execute(newest)}


def _image_ids(session: Session, images: dict[str, tuple[CheckedImage, str]], now: datetime) -> dict[str, int]:
    """Insert each distinct picture once (ON CONFLICT DO NOTHING on sha256); sha256 -> row id."""
    if not images:
        return {}
    stmt = dialect_insert(session, IMAGES).on_conflict_do_nothing(index_elements=[IMAGES.c.sha256])
    session.execute(stmt, [
        {"sha256": sha, "phash": image.phash, "content_type": image.content_type, "width": image.width,
         "height": image.height, "bytes": image.size, "path": path, "first_seen_at": now}
        for sha, (image, path) in sorted(images.items())
    ])
    return dict(session.execute(select(Image.sha256, Image.id).where(Image.sha256.in_(list(images)))).all())


def record_observations(session: Session, marketplace_id: int, run_id: int | None,
                        observations: Iterable[ImageObservation], data_dir: Path) -> list[ImageObservation]:
    """Store pictures and the listing↔picture rows of the listings already in the database.

    Returns the observations whose listing is not stored yet (its batch is still buffered): the caller
    offers them again later. A picture already linked to the same listing snapshot at the same position
    adds nothing, so a night that sees unchanged listings writes no new rows.
    """
    observations = list(observations)
    if not observations:
        return []
    external = sorted({o.external_id for o in observations})
    listing_ids = dict(session.execute(select(Listing.external_id, Listing.id).where(
        Listing.marketplace_id == marketplace_id, Listing.external_id.in_(external))).all())
    ready = [o for o in observations if o.external_id in listing_ids]
    pending = [o for o in observations if o.external_id not in listing_ids]
    if not ready:
        return pending
    now = utcnow()
    files = {o.image.sha256: (o.image, save_file(data_dir, o.image)) for o in ready if o.image is not None}
    image_ids = _image_ids(session, files, now)
    ids = sorted({listing_ids[o.external_id] for o in ready})
    snapshots = _newest_snapshots(session, ids)
    existing = set(session.execute(select(
        ListingImage.listing_id, ListingImage.snapshot_id, ListingImage.position, ListingImage.url,
        ListingImage.image_id, ListingImage.reason).where(ListingImage.listing_id.in_(ids))).all())
    rows = []
    for o in ready:
        listing_id = listing_ids[o.external_id]
        image_id = image_ids.get(o.image.sha256) if o.image is not None else None
        reason = None if o.image is not None else (o.refusal.reason if o.refusal else "download_error")
        key = (listing_id, snapshots.get(listing_id), o.position, o.url, image_id, reason)
        if key in existing:
            continue
        existing.add(key)
        rows.append({"listing_id": listing_id, "snapshot_id": snapshots.get(listing_id), "run_id": run_id,
                     "image_id": image_id, "url": o.url, "position": o.position,
                     "status": "stored" if image_id is not None else "refused", "reason": reason,
                     "seen_at": o.seen_at or now})
    if rows:
        session.execute(LISTING_IMAGES.insert(), rows)
    return pending


def _refs(session: Session, where, key_columns) -> dict:
    query = (select(*key_columns, Image.sha256, Image.phash, ListingImage.url)
             .join(Image, Image.id == ListingImage.image_id)
             .join(Listing, Listing.id == ListingImage.listing_id)
             .join(Marketplace, Marketplace.id == Listing.marketplace_id)
             .where(*where).order_by(ListingImage.listing_id, ListingImage.position, ListingImage.id))
    found: dict = {}
    for row in session.execute(query):
        key = row[0] if len(key_columns) == 1 else tuple(row[:len(key_columns)])
        refs = found.setdefault(key, [])
        ref = ImageRef(row.sha256, row.phash, row.url)
        if all(r.sha256 != ref.sha256 for r in refs):
            refs.append(ref)
    return found


def image_refs_by_listing(session: Session, listing_ids: Iterable[int] | None = None) -> dict[int, list[ImageRef]]:
    """Every picture each listing has shown (any snapshot), one ref per distinct content: listing id -> refs.

    The input of `wildwatch.images.links.image_links`; None reads every listing that has a stored picture.
    """
    where = [] if listing_ids is None else [ListingImage.listing_id.in_(sorted(set(listing_ids)))]
    return _refs(session, where, (ListingImage.listing_id,))


def image_refs_by_seller(session: Session, marketplace: str | None = None) -> dict[tuple[str, str], list[ImageRef]]:
    """Every picture each seller account has shown: (marketplace name, seller id) -> refs."""
    where = [Listing.seller_id.is_not(None)]
    if marketplace is not None:
        where.append(Marketplace.name == marketplace)
    return _refs(session, where, (Marketplace.name, Listing.seller_id))


def images_without_ocr(session: Session, limit: int | None = None) -> list[Image]:
    """Pictures the OCR stage has not read yet, oldest first."""
    query = select(Image).where(Image.ocr_at.is_(None)).order_by(Image.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True)
class ListingPicture:
    """One picture a listing has shown, as the listing page lists it: stored (with its OCR text) or refused."""

    url: str
    position: int
    status: str
    reason: str | None
    sha256: str | None
    content_type: str | None
    width: int | None
    height: int | None
    ocr_text: str | None
    ocr_error: str | None


def listing_pictures(session: Session, listing_id: int, limit: int = 20) -> list[ListingPicture]:
    """The pictures of a listing, newest sighting of each address first kept, in the listing's order."""
    rows = session.execute(
        select(ListingImage.url, ListingImage.position, ListingImage.status, ListingImage.reason, Image.sha256,
               Image.content_type, Image.width, Image.height, Image.ocr_text, Image.ocr_error)
        .outerjoin(Image, Image.id == ListingImage.image_id)
        .where(ListingImage.listing_id == listing_id)
        .order_by(ListingImage.seen_at.desc(), ListingImage.id.desc()))
    pictures: dict[str, ListingPicture] = {}
    for row in rows:
        if row.url not in pictures:
            pictures[row.url] = ListingPicture(*row)
    return sorted(pictures.values(), key=lambda picture: (picture.position, picture.url))[:limit]


def stored_picture(session: Session, sha256: str) -> Image | None:
    """The stored picture with this content hash, or None."""
    return session.scalars(select(Image).where(Image.sha256 == sha256)).first()
