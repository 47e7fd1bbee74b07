"""The dashboard (blueprint "dashboard"): flagged, reviewed and confirmed counts per night, marketplace,
species group and protection class, as charts and tables (review.dashboard).

Reading the whole flagged score history and drawing four charts take seconds at 100k listings, so
the app keeps both: the history until a score is added, the page until a score or decision is
added (review.dashboard.newest_ids: two reads of a primary key's end per view).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from review.state import state

blueprint = Blueprint("dashboard", __name__)


@blueprint.get("/dashboard")
def index() -> Any:
    from review.dashboard import dashboard_from, dashboard_sections, flagged_history, newest_ids

    shared = state()
    engine = shared.engine
    score_id, decision_id = newest_ids(engine)

    def page() -> dict[str, Any]:
        history = shared.dashboard.get(("history", score_id), lambda: flagged_history(engine))
        board = dashboard_from(engine, history)
        return {"totals": board.totals(), "sections": dashboard_sections(board), "generated_at": board.generated_at}

    return render_template("dashboard.html", **shared.dashboard.get(("page", score_id, decision_id), page))
