"""Evidence packages for enforcement partners: what we saw, when, and that no file changed since.

A package is a folder: the listing's fields, every stored content snapshot,
the score with its evidence and model version, the decision history and audit
entries, every stored page capture (rendered HTML + full-page PNG, copied and
checked against the SHA-256 recorded when they were taken) plus a fresh
capture made now, and `manifest.json` listing each file's SHA-256, size and
capture time. `SHA256SUMS` repeats the hashes in the format `sha256sum -c` reads.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from review.capture import BadURL, CaptureError, capture_page, safe_name, save_capture
from review.netguard import AddressPolicy
from review.settings import ReviewSettings
from store.db import session_scope
from store.errors import StoreError
from store.models import Listing, Marketplace
from store.decisions import DECISION_LABELS, ListingDetail, audit, listing_detail, record_capture

log = logging.getLogger(__name__)

EVIDENCE_DECISIONS = ("confirmed", "escalated")
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"


class EvidenceError(StoreError):
    """The package cannot be made (unknown listing, wrong status, output folder in use)."""


@dataclass
class EvidencePackage:
    folder: Path
    listing_id: int
    files: list[dict[str, Any]] = field(default_factory=list)
    capture_errors: list[str] = field(default_factory=list)


def empty_package_folder(out_dir: Path | str) -> Path:
    """The folder a package goes into: new or empty, so a package never mixes with other files."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise EvidenceError(f"{out_dir}: exists and is not an empty folder; give a new folder for the package")
    return out_dir


def require_evidence_decision(decision, subject: str, of_what: str) -> None:
    """Evidence packages go to enforcement partners: only for what an analyst confirmed or escalated."""
    if decision is None or decision.decision not in EVIDENCE_DECISIONS:
        status = DECISION_LABELS[decision.decision] if decision else "undecided"
        raise EvidenceError(f"{subject} is {status}: evidence packages are for confirmed or escalated {of_what}")


def resolve_listing(session: Session, spec: str | int) -> int:
    """A listing row id from "42" or "marketplace:external id"."""
    text = str(spec).strip()
    if text.isdigit():
        if session.get(Listing, int(text)) is None:
            raise EvidenceError(f"no listing with id {text}")
        return int(text)
    if ":" in text:
        market, external = text.split(":", 1)
        found = session.scalars(
            select(Listing.id).join(Marketplace, Marketplace.id == Listing.marketplace_id)
            .where(Marketplace.name == market, Listing.external_id == external)
        ).first()
        if found is None:
            raise EvidenceError(f"no listing {external!r} on marketplace {market!r}")
        return found
    raise EvidenceError(f"{text!r} is not a listing id (a number, or marketplace:listing-id)")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds") if value else None


def _json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listing_fields(detail: ListingDetail) -> dict[str, Any]:
    listing = detail.listing
    return {
        "id": listing.id, "marketplace": detail.marketplace, "listing_id": listing.external_id, "url": listing.url,
        "title": listing.title, "description": listing.description, "price": listing.price,
        "currency": listing.currency, "price_text": listing.price_text, "seller_id": listing.seller_id,
        "seller_name": listing.seller_name, "seller_url": listing.seller_url, "location": listing.location,
        "images": listing.images, "posted_at": listing.posted_at, "category": listing.category,
        "extraction": listing.extraction, "rendered": listing.rendered, "content_hash": listing.content_hash,
        "first_seen_at": _iso(listing.first_seen_at), "last_seen_at": _iso(listing.last_seen_at),
        "gone_at": _iso(listing.gone_at),
    }


def _score(detail: ListingDetail) -> dict[str, Any]:
    def one(score) -> dict[str, Any]:
        return {"score": score.score, "flagged": score.flagged, "threshold": score.threshold,
                "species": score.species, "evidence": score.evidence, "scored_at": _iso(score.scored_at),
                "model_version_id": score.model_version_id, "run_id": score.run_id,
                # The taxon named and its protection with the legal basis in words (classifier.taxa).
                "taxon": score.taxon, "protection": (score.taxon or {}).get("protection"),
                "legal_basis": (score.taxon or {}).get("legal_basis")}

    return {
        "note": "A score flags a listing as suspicious for review; it is not a finding that the trade is illegal.",
        "latest": {**one(detail.score), "model_version": detail.model_version} if detail.score else None,
        "history": [one(s) for s in detail.scores],
    }


def _protection_line(detail: ListingDetail) -> str:
    """"Protection: China Class I, CITES Appendix I (Manis pentadactyla 穿山甲). Legal basis: ..." for README.txt."""
    taxon = detail.score.taxon if detail.score else None
    if not taxon:
        return "Protection: not assessed (the score named no listed taxon)."
    names = " ".join(p for p in (taxon.get("scientific_name"), taxon.get("name_zh")) if p)
    return f"Protection: {taxon.get('protection')} ({names}).\nLegal basis: {taxon.get('legal_basis')}"


def _history(detail: ListingDetail) -> dict[str, Any]:
    return {
        "decisions": [{"decision": d.decision, "label": DECISION_LABELS[d.decision], "analyst": d.analyst,
                       "note": d.note, "decided_at": _iso(d.decided_at)} for d in detail.decisions],
        "audit": [{"at": _iso(a.at), "actor": a.actor, "action": a.action, "before": a.before, "after": a.after}
                  for a in detail.audit],
        "tips": [{"url": t.url, "submitted_by": t.submitted_by, "submitted_at": _iso(t.submitted_at),
                  "status": t.status, "note": t.note} for t in detail.tips],
    }


def build_package(engine: Engine, spec: str | int, out_dir: Path, settings: ReviewSettings, *, actor: str,
                  capture: bool = True, require_decision: bool = True) -> EvidencePackage:
    """Write the evidence package for one listing into `out_dir` (new or empty); see the module docstring.

    With `capture` the page is fetched again in Chromium first (kept as a
    capture of its own); when that fails (the listing is gone, the site is
    down) the package is still written and the failure is in the manifest.
    """
    out_dir = empty_package_folder(out_dir)
    with session_scope(engine) as session:
        listing_id = resolve_listing(session, spec)
        detail = listing_detail(session, listing_id)
        if require_decision:
            require_evidence_decision(detail.decision, f"listing {listing_id}", "listings")
        url = detail.listing.url
    package = EvidencePackage(folder=out_dir, listing_id=listing_id)
    if capture:
        try:
            page = capture_page(url, policy=AddressPolicy.from_setting(settings.fetch_allow),
                                chromium=settings.chromium_path)
            saved = save_capture(page, settings.data_dir, listing_id, "evidence")
            with session_scope(engine) as session:
                record_capture(session, listing_id, url=url, final_url=page.final_url, source="evidence",
                               captured_by=actor, captured_at=page.captured_at, **asdict(saved))
            if page.refused:
                package.capture_errors.append(f"the page tried {len(page.refused)} request(s) to addresses "
                                              f"captures may not reach, refused: {page.refused[0][1]}")
        except (CaptureError, BadURL) as exc:
            package.capture_errors.append(f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}: {exc}")
            log.warning("evidence capture failed: %s", exc)
    generated_at = datetime.now(timezone.utc)
    out_dir.mkdir(parents=True, exist_ok=True)
    with session_scope(engine) as session:
        detail = listing_detail(session, listing_id)
        _write_files(package, detail, settings.data_dir)
        manifest = {
            "package": "wildwatch evidence package",
            "generated_at": _iso(generated_at),
            "generated_by": actor,
            "listing": {"id": listing_id, "marketplace": detail.marketplace,
                        "listing_id": detail.listing.external_id, "url": detail.listing.url},
            "current_decision": ({"decision": detail.decision.decision, "analyst": detail.decision.analyst,
                                  "decided_at": _iso(detail.decision.decided_at)} if detail.decision else None),
            "files": package.files,
            "capture_errors": package.capture_errors,
            "how_to_verify": f"sha256sum -c {CHECKSUMS} (or compare each file's SHA-256 with this manifest)",
        }
        _json(out_dir / MANIFEST, manifest)
        sums = [f"{f['sha256']}  {f['path']}" for f in package.files]
        sums.append(f"{_sha256(out_dir / MANIFEST)}  {MANIFEST}")
        (out_dir / CHECKSUMS).write_text("\n".join(sums) + "\n", encoding="utf-8")
        audit(session, actor, "evidence_package", listing_id=listing_id,
              after={"files": len(package.files), "manifest_sha256": _sha256(out_dir / MANIFEST),
                     "capture_errors": len(package.capture_errors)})
    return package


def _add(package: EvidencePackage, relative: str, **extra: Any) -> None:
    path = package.folder / relative
    package.files.append({"path": relative, "sha256": _sha256(path), "bytes": path.stat().st_size, **extra})


def _write_files(package: EvidencePackage, detail: ListingDetail, data_dir: Path) -> None:
    folder = package.folder
    _json(folder / "listing.json", _listing_fields(detail))
    _add(package, "listing.json", describes="the listing's current fields as stored")
    _json(folder / "score.json", _score(detail))
    _add(package, "score.json", describes="latest score, evidence terms and model version; every earlier score")
    _json(folder / "history.json", _history(detail))
    _add(package, "history.json", describes="decisions, audit entries and tips for this listing")
    snapshots = [{"captured_at": _iso(s.captured_at), "content_hash": s.content_hash, "run_id": s.run_id,
                  "data": s.data} for s in reversed(detail.snapshots)]
    _json(folder / "snapshots.json", snapshots)
    _add(package, "snapshots.json", describes="the listing's content each time it changed, as crawled",
         captured_at=[s["captured_at"] for s in snapshots])
    (folder / "captures").mkdir(exist_ok=True)
    for capture in detail.captures:
        stamp = capture.captured_at.strftime("%Y%m%dT%H%M%SZ")
        base = f"captures/{stamp}-{capture.id}-{safe_name(capture.source)}"
        for kind, stored, recorded in (("html", capture.html_path, capture.html_sha256),
                                       ("png", capture.screenshot_path, capture.screenshot_sha256)):
            if not stored:
                continue
            source = Path(data_dir) / stored
            relative = f"{base}.{kind}"
            if not source.is_file():
                package.capture_errors.append(f"capture {capture.id}: stored file {stored} is missing")
                continue
            shutil.copyfile(source, folder / relative)
            _add(package, relative, captured_at=_iso(capture.captured_at), captured_by=capture.captured_by,
                 url=capture.url, final_url=capture.final_url, source=capture.source,
                 describes="rendered HTML" if kind == "html" else "full-page screenshot (Chromium)",
                 recorded_sha256=recorded)
            if package.files[-1]["sha256"] != recorded:
                package.capture_errors.append(
                    f"capture {capture.id}: {stored} no longer matches the SHA-256 recorded at capture time")
    readme = (
        f"Evidence package for listing {detail.listing.external_id} on {detail.marketplace}\n"
        f"URL: {detail.listing.url}\n"
        f"{_protection_line(detail)}\n\n"
        "listing.json    fields as stored\nscore.json      classifier score, evidence and model version\n"
        "history.json    analyst decisions, audit trail, tips\nsnapshots.json  content each time it changed\n"
        "captures/       rendered HTML and full-page screenshots with their capture times (see manifest.json)\n"
        f"{MANIFEST}   SHA-256 and size of every file; {CHECKSUMS} for `sha256sum -c`\n\n"
        "Opening the captures safely: each captures/*.html is the page as Chromium rendered it, with its\n"
        "scripts, frames, event handlers and links removed and a Content-Security-Policy (default-src 'none')\n"
        "that forbids loading anything, so opening it cannot tell the seller that someone looked. Still open\n"
        "it in a browser with the network off, or read it as text (any editor); never upload it to a site.\n"
        "Captures stored before wildwatch made them inert (no wildwatch-inert meta tag) can still run scripts:\n"
        "read those as text only. The .png next to each is what the page looked like, scripts included.\n\n"
        "wildwatch flags listings as suspicious; whether a trade is illegal depends on species, age, permits\n"
        "and jurisdiction, which this package does not establish.\n"
    )
    (folder / "README.txt").write_text(readme, encoding="utf-8")
    _add(package, "README.txt", describes="what the files are")


def zip_package(package: EvidencePackage) -> bytes:
    """The package folder as a zip (for the app's download button), inside one top-level folder."""
    buffer = io.BytesIO()
    root = package.folder.name
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package.folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{root}/{path.relative_to(package.folder).as_posix()}")
    return buffer.getvalue()


def package_name(marketplace: str, external_id: str, when: datetime | None = None) -> str:
    when = when or datetime.now(timezone.utc)
    return f"evidence-{safe_name(marketplace, 40)}-{safe_name(external_id, 60)}-{when:%Y%m%dT%H%M%SZ}"
