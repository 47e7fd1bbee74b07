"""One listing (blueprint "listing"): its page with the evidence marked in the text, the decision form,
and the evidence package (made in the capture queue, whose limits apply).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from classifier.reading import offer_reading
from review.highlight import segments
from review.state import db, state
from review.web import evidence_download
from store.images import listing_pictures
from store.models import Listing, User
from store.retry import run_in_transaction
from store.decisions import DECISION_LABELS, QueueFilters, decide, listing_detail, queue_ids

blueprint = Blueprint("listing", __name__)
#: How long the evidence download waits for its fresh capture in the capture queue.
EVIDENCE_WAIT_S = 120


@blueprint.get("/listing/<id:listing_id>")
def page(listing_id: int) -> Any:
    with db() as s:
        detail = listing_detail(s, listing_id)
        if detail is None:
            abort(404)
        evidence = detail.score.evidence if detail.score else []
        title, title_missing = segments(detail.listing.title, evidence, "title")
        description, description_missing = segments(detail.listing.description, evidence, "description")
        next_ids = s.scalars(queue_ids(QueueFilters(status="undecided")).limit(2))  # the first not this one
        next_id = next((i for i in next_ids if i != listing_id), None)
        return render_template(
            "listing.html", d=detail, title_segments=title, description_segments=description,
            unlocated=[*title_missing, *[m for m in description_missing if m not in title_missing]],
            next_id=next_id, can_package=bool(detail.decision and detail.decision.decision in ("confirmed", "escalated")),
            pictures=listing_pictures(s, listing_id),
            reading=offer_reading(evidence, bool(detail.score.flagged)) if detail.score else None,
        )


@blueprint.post("/listing/<id:listing_id>/decision")
def record_decision(listing_id: int) -> Any:
    decision = request.form.get("decision", "")

    def record(s: Session) -> None:
        if s.get(Listing, listing_id) is None:
            abort(404)
        decide(s, listing_id, s.get(User, g.user.id), decision, request.form.get("note"))

    shared = state()
    run_in_transaction(shared.engine, record, what=f"deciding listing {listing_id}")
    shared.decided()
    flash(f"Recorded: {DECISION_LABELS.get(decision, decision)}.", "ok")
    return redirect(url_for("listing.page", listing_id=listing_id) + "#history")


@blueprint.post("/listing/<id:listing_id>/evidence")
def evidence_package(listing_id: int) -> Any:
    from review.evidence import build_package, package_name

    with db() as s:
        detail = listing_detail(s, listing_id, seller_limit=0)
        if detail is None:
            abort(404)
        name = package_name(detail.marketplace, detail.listing.external_id)
    shared = state()
    engine, settings = shared.engine, shared.settings
    actor, capture = g.user.name, request.form.get("capture", "1") == "1"
    # The fresh capture runs in the capture queue (its limits apply); this request only waits for it.
    return evidence_download(
        shared.captures, actor, f"evidence for listing {listing_id}", name,
        lambda out: build_package(engine, listing_id, out, settings, actor=actor, capture=capture),
        wait_seconds=EVIDENCE_WAIT_S,
        busy_message="The fresh capture is still running; try again in a minute, or download without a new capture.")
