"""The OCR stage: read the pictures no one has read yet, store their text, re-score their listings.

Runs after the crawl has stored everything (`wildwatch ocr`, and in `wildwatch nightly` after the
crawls, before the export), never inside it, so OCR's cost does not slow the crawl. Pictures go in
batches: threads open each and run the cheap pre-check, then the ones that may carry text are read by
one Tesseract process per core (two on a two-core machine: loading its language models costs more than
reading a picture), within a time budget; what is left is read by the next run. A picture whose file is
missing or unreadable gets its error recorded and the stage goes on. A listing with new picture text gets a new score row (the old ones
stay: the audit trail) whose evidence names the picture (wildwatch.images.rescore).
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

BATCH = 50
PRECHECK = "no text seen by the pre-check"


@dataclass
class OcrReport:
    """What one OCR run did."""

    read: int = 0  # pictures Tesseract read
    with_text: int = 0  # of those, pictures with text
    no_text: int = 0  # pictures the pre-check found no text in (Tesseract not run)
    failed: list[str] = field(default_factory=list)  # "sha256: reason"
    left: int = 0  # pictures still unread when the budget ran out
    rescored: int = 0
    image_only: list[int] = field(default_factory=list)  # listing ids flagged only by their pictures
    handles: int = 0  # contact handles read in pictures, stored per listing (store.handles)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"OCR: {self.read} pictures read ({self.with_text} with text), {self.no_text} without text "
                f"(pre-check), {len(self.failed)} failed, {self.left} left for the next run; "
                f"{self.rescored} listings re-scored, {len(self.image_only)} flagged only by their pictures, "
                f"{self.handles} contact handles read in pictures; "
                f"{self.seconds:.1f} s")


def open_picture(path: Path, precheck: bool = True):
    """The stored picture, loaded, or None when the pre-check sees no text in it; raises OSError/ValueError
    naming the problem."""
    from PIL import Image, UnidentifiedImageError

    from wildwatch.images.ocr import text_lines_seen

    try:
        with Image.open(path) as image:
            image.load()
            if precheck and not text_lines_seen(image):
                return None
            return image.copy()
    except FileNotFoundError:
        raise OSError(f"picture file {path} is missing") from None
    except UnidentifiedImageError:
        raise ValueError(f"picture file {path} is not a readable image") from None


def read_pictures(images: list) -> list[tuple[str | None, str | None, str | None]]:
    """(text, engine, error) for each picture: all of them read by one Tesseract process, or, when that
    fails, one by one, so that a picture Tesseract cannot read costs only its own text."""
    from wildwatch.images.ocr import TIMEOUT_SECONDS, read_texts

    try:
        return [(result.text, result.engine, None)
                for result in read_texts(images, timeout=TIMEOUT_SECONDS + 2 * len(images))]
    except OSError as exc:
        if len(images) == 1:
            return [(None, None, str(exc)[:500])]
        logger.info("OCR of %d pictures together failed (%s): reading them one by one", len(images), exc)
    return [read_pictures([image])[0] for image in images]


def run_ocr(engine, data_dir: Path, scorer, *, limit: int | None = None, budget_seconds: float | None = None,
            workers: int | None = None, precheck: bool = True) -> OcrReport:
    """Read unread pictures (oldest first) and re-score the listings that show the ones with text."""
    from sqlalchemy import update

    from store.columns import utcnow
    from store.db import session_scope
    from store.images import images_without_ocr
    from store.models import Image
    from wildwatch.images.ocr import engine_name

    no_text = f"{engine_name()} ({PRECHECK})"  # Tesseract missing: say so now, not once per picture
    report = OcrReport()
    started = time.monotonic()
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    with session_scope(engine) as session:
        todo = [(image.id, image.sha256, image.path) for image in images_without_ocr(session, limit)]
    changed: set[int] = set()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(todo), BATCH):
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                report.left = len(todo) - start
                break
            batch = todo[start:start + BATCH]
            opened = [pool.submit(open_picture, Path(data_dir) / path, precheck) for _id, _sha, path in batch]
            outcomes: list[tuple[str | None, str | None, str | None]] = []
            to_read: list[tuple[int, object]] = []
            for index, future in enumerate(opened):
                try:
                    image = future.result()
                except (OSError, ValueError) as exc:
                    outcomes.append((None, None, str(exc)[:500]))
                    continue
                outcomes.append(("", no_text, None))
                if image is not None:
                    to_read.append((index, image))
            # One Tesseract process per worker, each reading its share of the batch's pictures.
            shares = [share for share in (to_read[w::workers] for w in range(workers)) if share]
            for share, future in [(share, pool.submit(read_pictures, [image for _i, image in share]))
                                  for share in shares]:
                for (index, _image), outcome in zip(share, future.result()):
                    outcomes[index] = outcome
            rows = []
            for (image_id, sha256, _path), (text, used, error) in zip(batch, outcomes):
                if error:
                    report.failed.append(f"{sha256[:12]}: {error}")
                    logger.warning("OCR of picture %s failed: %s", sha256[:12], error)
                elif used == no_text:
                    report.no_text += 1
                else:
                    report.read += 1
                    if text:
                        report.with_text += 1
                        changed.add(image_id)
                rows.append({"id": image_id, "ocr_text": text, "ocr_engine": used, "ocr_error": error})
            now = utcnow()
            with session_scope(engine) as session:
                for row in rows:
                    session.execute(update(Image).where(Image.id == row["id"]).values(
                        ocr_text=row["ocr_text"], ocr_engine=(row["ocr_engine"] or "")[:100] or None,
                        ocr_error=row["ocr_error"], ocr_at=now))
    if changed:
        rescore_listings(engine, scorer, changed, report)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def rescore_listings(engine, scorer, image_ids: set[int], report: OcrReport) -> None:
    """A new score for every listing that shows one of `image_ids`, with all its pictures' text."""
    from sqlalchemy import select

    from classifier.handles import handles_in_fields
    from store import repository
    from store.db import session_scope
    from store.handles import record_handles
    from store.models import Image, Listing, ListingImage
    from wildwatch.images.rescore import PictureText, score_with_pictures

    with session_scope(engine) as session:
        listing_ids = sorted(set(session.scalars(select(ListingImage.listing_id).where(
            ListingImage.image_id.in_(sorted(image_ids))))))
    for start in range(0, len(listing_ids), BATCH):
        chunk = listing_ids[start:start + BATCH]
        with session_scope(engine) as session:
            pictures: dict[int, list[PictureText]] = {}
            seen: set[tuple[int, str]] = set()
            for listing_id, url, sha256, text in session.execute(
                    select(ListingImage.listing_id, ListingImage.url, Image.sha256, Image.ocr_text)
                    .join(Image, Image.id == ListingImage.image_id)
                    .where(ListingImage.listing_id.in_(chunk))
                    .order_by(ListingImage.listing_id, ListingImage.position, ListingImage.id)):
                if text and (listing_id, sha256) not in seen:
                    seen.add((listing_id, sha256))
                    pictures.setdefault(listing_id, []).append(PictureText(url, sha256, text))
            # Handles read in a picture are the seller's like handles in the text: stored per listing (field
            # "ocr:<sha256>") so seller networks link by them too.
            found = [(listing_id, field, kind, value) for listing_id, texts in pictures.items() for picture in texts
                     for field, kind, value in handles_in_fields({f"ocr:{picture.sha256}": picture.text})]
            report.handles += record_handles(session, found)
            scores = []
            for listing in session.scalars(select(Listing).where(Listing.id.in_(chunk))):
                try:
                    result = score_with_pictures(scorer, listing.title, listing.description,
                                                 pictures.get(listing.id, []), price=listing.price,
                                                 currency=listing.currency)
                except Exception as exc:  # one listing the classifier cannot read must not stop the stage
                    logger.warning("re-scoring listing %s with its pictures failed: %s", listing.id, exc)
                    report.failed.append(f"listing {listing.id}: {exc}")
                    continue
                scores.append((listing.id, result))
                if result["image_only"]:
                    report.image_only.append(listing.id)
            model = repository.ensure_model_version(session, scorer.version, dict(scorer.metadata))
            report.rescored += repository.record_scores(session, None, model, scores)
