"""The queue (blueprint "queue"): flagged and tipped listings under filters, a page at a time, and
decisions on many listings at once.

The totals and filter menus come from the app's short-lived caches (review.cache): at 100k listings
they cost more than the page of rows, yet change only when listings are scored, decided or tipped.
"""
from __future__ import annotations

from dataclasses import astuple
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from review.state import db, state
from review.web import filters_from_args, local_path, parse_id, parse_page
from store.errors import StoreError
from store.models import DECISIONS, User
from store.retry import run_in_transaction
from store.decisions import (
    DECISION_LABELS,
    STATUSES,
    PermissionDenied,
    QueueFilters,
    decide,
    queue_count,
    queue_options,
    queue_page,
    review_counts,
)

blueprint = Blueprint("queue", __name__)
PER_PAGE = 50
#: At most this many listings in one bulk decision.
MAX_BULK = 1000


@blueprint.get("/")
def index() -> Any:
    filters = filters_from_args(request.args)
    page = parse_page(request.args.get("page"))
    shared = state()
    with db() as s:
        def total(f: QueueFilters) -> int:
            return shared.counts.get(("total", f.status, astuple(f)), lambda: queue_count(s, f))

        result = queue_page(s, filters, page=page, per_page=PER_PAGE, total=total(filters))
        options = shared.menus.get("options", lambda: queue_options(s))
        counts = review_counts(s, total)
    args = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template(
        "queue.html", page=result, filters=filters, options=options, counts=counts, args=args,
        statuses=STATUSES, query=urlencode(args),
        page_url=lambda n: url_for("queue.index", **{**args, "page": n}),
        order_url=lambda order: url_for("queue.index", **{**args, "order": order}),
    )


@blueprint.post("/decisions/bulk")
def bulk_decision() -> Any:
    decision = request.form.get("decision", "")
    if decision not in DECISIONS:
        raise StoreError(f"unknown decision {decision!r}")
    back = local_path(request.form.get("back")) or url_for("queue.index")
    ids = [i for i in map(parse_id, request.form.getlist("listing_id")[:MAX_BULK]) if i is not None]
    if not ids:
        flash("Select listings first (tick them, or press x on a row).", "error")
        return redirect(back)
    note = request.form.get("note") or None
    shared, done, refused = state(), 0, []
    for listing_id in ids:
        try:  # a deadlock or dropped connection is retried: a decision is never lost to a busy store
            run_in_transaction(shared.engine, lambda s, listing_id=listing_id: decide(
                s, listing_id, s.get(User, g.user.id), decision, note), what=f"deciding listing {listing_id}")
            done += 1
        except PermissionDenied as exc:
            refused.append(str(exc))
    shared.decided()
    flash(f"{DECISION_LABELS[decision]}: {done} listing(s) recorded.", "ok")
    for message in refused:
        flash(message, "error")
    return redirect(back)
