"""The evidence package of a whole seller network: why the accounts are one trader, and every listing's package.

A folder: `network.json` (the accounts, the links with their evidence, the risk and the seller
decisions), one sub-folder per listing made by review.evidence.build_package (fields, snapshots,
score, history, captures; a fresh capture only when asked, since a network may hold many
listings), and `manifest.json` + `SHA256SUMS` over every file. Contact handles are in clear here:
the package is for enforcement partners, made only for a network an analyst confirmed or
escalated, and each package is written to the audit log.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from review.capture import safe_name
from review.evidence import CHECKSUMS, MANIFEST, EvidenceError, EvidencePackage, _iso, _json, _sha256
from review.evidence import empty_package_folder, require_evidence_decision
from review.evidence import build_package
from review.settings import ReviewSettings
from store.db import session_scope
from store.decisions import audit
from store.sellers import network_detail


def network_package_name(network_id: int, when: datetime | None = None) -> str:
    when = when or datetime.now(timezone.utc)
    return f"evidence-seller-network-{int(network_id)}-{when:%Y%m%dT%H%M%SZ}"


def _network_json(detail: Any) -> dict[str, Any]:
    return {
        "network_id": detail.network.id,
        "risk": detail.network.risk,
        "risk_reason": detail.network.risk_reason,
        "marketplaces": detail.network.marketplaces,
        "accounts": [{"account_id": v.account.id, "marketplace": v.marketplace, "seller_id": v.account.seller_id,
                      "seller_name": v.account.seller_name, "first_seen": _iso(v.account.first_seen_at),
                      "last_seen": _iso(v.account.last_seen_at),
                      "listings": [{"id": listing.id, "listing_id": listing.external_id, "url": listing.url,
                                    "title": listing.title, "score": listing.current_score,
                                    "decision": listing.current_decision} for listing in v.listings]}
                     for v in detail.accounts],
        "links": [{"accounts": [lv.a.id, lv.b.id], "source": lv.link.source, "key": lv.link.key,
                   "evidence": lv.link.evidence} for lv in detail.links],
        "common_keys_not_linked": [{"key": c.key, "reason": c.reason, "listings": ids} for c, ids in detail.common],
        "seller_decisions": [{"decision": d.decision, "analyst": d.analyst, "note": d.note,
                              "decided_at": _iso(d.decided_at), "members": d.members} for d in detail.decisions],
    }


def build_network_package(engine: Engine, network_id: int, out_dir: Path, settings: ReviewSettings, *, actor: str,
                          capture: bool = False, require_decision: bool = True) -> EvidencePackage:
    """Write the package for seller network `network_id` into `out_dir` (new or empty)."""
    out_dir = empty_package_folder(out_dir)
    with session_scope(engine) as session:
        detail = network_detail(session, network_id)
        if detail is None:
            raise EvidenceError(f"no seller network with id {network_id}")
        if require_decision:
            require_evidence_decision(detail.decision, f"seller network {network_id}", "sellers")
        network_id = detail.network.id
        payload = _network_json(detail)
        listings = [(v.marketplace, listing.id, listing.external_id) for v in detail.accounts for listing in v.listings]
    out_dir.mkdir(parents=True, exist_ok=True)
    package = EvidencePackage(folder=out_dir, listing_id=0)
    _json(out_dir / "network.json", payload)
    package.files.append({"path": "network.json", "sha256": _sha256(out_dir / "network.json"),
                          "bytes": (out_dir / "network.json").stat().st_size,
                          "describes": "the accounts, the links between them with their evidence, risk and decisions"})
    for marketplace, listing_id, external_id in listings:
        folder = f"listings/{safe_name(marketplace, 40)}-{safe_name(external_id, 60)}-{listing_id}"
        sub = build_package(engine, listing_id, out_dir / folder, settings, actor=actor, capture=capture,
                            require_decision=False)
        package.files.extend({**f, "path": f"{folder}/{f['path']}"} for f in sub.files)
        for name in (MANIFEST, CHECKSUMS):
            path = out_dir / folder / name
            package.files.append({"path": f"{folder}/{name}", "sha256": _sha256(path), "bytes": path.stat().st_size})
        package.capture_errors.extend(f"listing {listing_id}: {problem}" for problem in sub.capture_errors)
    manifest = {"package": "wildwatch seller network evidence package", "generated_by": actor,
                "generated_at": _iso(datetime.now(timezone.utc)), "network_id": network_id,
                "listings": len(listings), "files": package.files, "capture_errors": package.capture_errors,
                "how_to_verify": f"sha256sum -c {CHECKSUMS}"}
    _json(out_dir / MANIFEST, manifest)
    sums = [f"{f['sha256']}  {f['path']}" for f in package.files]
    sums.append(f"{_sha256(out_dir / MANIFEST)}  {MANIFEST}")
    (out_dir / CHECKSUMS).write_text("\n".join(sums) + "\n", encoding="utf-8")
    with session_scope(engine) as session:
        audit(session, actor, "seller_evidence", after={"network_id": network_id, "listings": len(listings),
                                                        "files": len(package.files),
                                                        "manifest_sha256": _sha256(out_dir / MANIFEST)})
    return package
