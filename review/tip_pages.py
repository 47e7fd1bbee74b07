"""Tips (blueprint "tips"): an analyst submits a URL; the page is fetched, read and scored in the capture
queue (review.tips), and the recent tips and open jobs are listed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from review.capture import BadURL
from review.state import ReviewState, db, state
from store.models import Tip

blueprint = Blueprint("tips", __name__)
RECENT_TIPS = 50


def _recent_tips() -> list[Any]:
    with db() as s:
        return list(s.scalars(select(Tip).order_by(Tip.submitted_at.desc()).limit(RECENT_TIPS)))


def _tip_job(shared: ReviewState, url: str, user: str, note: str | None) -> Any:
    from review.tips import submit_tip

    outcome = submit_tip(shared.engine, url, user, shared.settings, note=note)
    shared.tipped()
    return outcome


@blueprint.route("/tips", methods=["GET", "POST"])
def index() -> Any:
    from review.tips import check_tip_url

    shared = state()
    if request.method == "POST":
        url = request.form.get("url", "")
        note, user = request.form.get("note"), g.user.name
        try:
            url = check_tip_url(url, shared.settings)
            job = shared.captures.submit(user, url, lambda: _tip_job(shared, url, user, note))
        except BadURL as exc:
            flash(str(exc), "error")
            return render_template("tips.html", tips=_recent_tips(), jobs=shared.captures.open_jobs(), url=url), 400
        flash(f"Tip {job.id} queued: the page is fetched in the background and appears below when done.", "ok")
        return redirect(url_for("tips.index"))
    return render_template("tips.html", tips=_recent_tips(), jobs=shared.captures.open_jobs(), url="")
