"""How the review pages show a listing's taxon and protection (China class, CITES appendix).

Kept apart from review/app.py so the queue and listing templates get their filters from one
``register(app)`` call.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from store.decisions import PROTECTION_FILTERS

__all__ = ["PROTECTION_FILTER_LABELS", "register", "short_label", "taxon_name"]

PROTECTION_FILTER_LABELS = {
    "I": "China Class I or CITES Appendix I",
    "II": "China Class II or CITES Appendix II",
    "III": "CITES Appendix III",
    "none": "no listing found / not assessed",
}
if set(PROTECTION_FILTER_LABELS) != set(PROTECTION_FILTERS):  # one menu entry per store filter value
    raise RuntimeError("review.protection labels and store.decisions.PROTECTION_FILTERS disagree")


def short_label(china_class: str | None, cites_appendix: str | None) -> str:
    """"China I · CITES I" for a queue cell; "" when the score named no listed taxon."""
    parts = [f"China {china_class}" if china_class else "", f"CITES {cites_appendix}" if cites_appendix else ""]
    return " · ".join(p for p in parts if p)


def taxon_name(taxon_id: str | None) -> str:
    """The taxon's display name from data/taxa ("" for an unknown id, e.g. a table since changed)."""
    if not taxon_id:
        return ""
    from classifier.taxa import default_matcher

    taxon = default_matcher().table.taxa.get(taxon_id)
    return taxon.display if taxon else taxon_id


def register(app: Flask) -> None:
    """Template filters and globals for protection badges."""
    app.jinja_env.filters["protection_short"] = lambda row: short_label(_get(row, "china_class"),
                                                                         _get(row, "cites_appendix"))
    app.jinja_env.filters["taxon_name"] = taxon_name
    app.jinja_env.globals["PROTECTION_FILTER_LABELS"] = PROTECTION_FILTER_LABELS


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)
