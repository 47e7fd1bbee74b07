"""The review app's Sellers pages: seller networks highest risk first, one network with why each link holds,
seller-level decisions, and the evidence package of a whole network.

A Flask blueprint registered by review.app.create_app; it lives under the app's security: the app's
login check runs before every request here too, CSRFProtect covers these forms, templates escape
everything, and the listing links go through the app's own routes.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from review.state import db, state
from review.web import evidence_download
from store.errors import StoreError
from store.models import DECISIONS, User
from store.retry import run_in_transaction
from store.decisions import DECISION_LABELS
from store.sellers import (
    NetworkFilters,
    decide_network,
    network_detail,
    network_of_listing,
    networks_page,
    seller_audit,
)

blueprint = Blueprint("sellers", __name__)
PER_PAGE = 50
EVIDENCE_WAIT_S = 300


def _filters(args: Any) -> NetworkFilters:
    decision = args.get("decision") or None
    if decision not in (None, "undecided", *DECISIONS):
        raise StoreError(f"decision: {decision[:40]!r} is not one of undecided, {', '.join(DECISIONS)}")
    linked = args.get("linked", "1") == "1"
    return NetworkFilters(min_accounts=2 if linked else 1, decision=decision)


def _page(value: str | None) -> int:
    return max(1, min(int(value[:6]), 100_000)) if value and value.isascii() and value.isdigit() else 1


@blueprint.get("/sellers")
def index() -> Any:
    filters = _filters(request.args)
    page = _page(request.args.get("page"))
    with db() as session:
        rows, total = networks_page(session, filters, page=page, per_page=PER_PAGE)
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return render_template("sellers.html", rows=rows, total=total, page=page,
                               pages=max(1, (total + PER_PAGE - 1) // PER_PAGE), filters=filters,
                               linked=filters.min_accounts > 1,
                               page_url=lambda n: url_for("sellers.index", **{**args, "page": n}))


@blueprint.get("/sellers/<id:network_id>")
def network(network_id: int) -> Any:
    with db() as session:
        detail = network_detail(session, network_id)
        if detail is None:
            abort(404)
        if detail.network.id != network_id:  # merged into another network since the link was made
            return redirect(url_for("sellers.network", network_id=detail.network.id))
        return render_template("seller_network.html", d=detail, audit=seller_audit(session, network_id),
                               can_package=bool(detail.decision and detail.decision.decision in
                                                ("confirmed", "escalated")))


@blueprint.get("/listing/<id:listing_id>/seller")
def for_listing(listing_id: int) -> Any:
    """From a listing page to its seller's network (built after each crawl)."""
    with db() as session:
        network_id = network_of_listing(session, listing_id)
    if network_id is None:
        flash("This listing's seller network is not built yet: it is made after the next crawl or nightly run.",
              "error")
        return redirect(url_for("listing.page", listing_id=listing_id))
    return redirect(url_for("sellers.network", network_id=network_id))


@blueprint.post("/sellers/<id:network_id>/decision")
def decide(network_id: int) -> Any:
    decision = request.form.get("decision", "")

    def record(session: Session) -> None:
        decide_network(session, network_id, session.get(User, g.user.id), decision, request.form.get("note"))

    run_in_transaction(state().engine, record, what=f"deciding seller network {network_id}")
    flash(f"Recorded for the seller network: {DECISION_LABELS.get(decision, decision)}.", "ok")
    return redirect(url_for("sellers.network", network_id=network_id) + "#decide")


@blueprint.post("/sellers/<id:network_id>/evidence")
def evidence(network_id: int) -> Any:
    from review.network_evidence import build_network_package, network_package_name

    shared = state()
    engine, settings = shared.engine, shared.settings
    actor, capture = g.user.name, request.form.get("capture", "0") == "1"
    return evidence_download(
        shared.captures, actor, f"evidence for seller network {network_id}", network_package_name(network_id),
        lambda out: build_network_package(engine, network_id, out, settings, actor=actor, capture=capture),
        wait_seconds=EVIDENCE_WAIT_S, busy_message="The package is still being made; try again in a minute.")
