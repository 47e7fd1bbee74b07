"""Counts of flagged, reviewed and confirmed listings per night, marketplace and species group, with charts.

Managers ask "how much did we flag, how much did we look at, how much was real?";
the same figures feed the dashboard page and the standalone `wildwatch report` file.
A listing counts as flagged on a night when a crawl run started that day gave it a
flagged score; reviewed when it has a decision; confirmed when its current decision is.
"""
from __future__ import annotations

import html
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from store.models import CrawlRun, Decision, Listing, Marketplace, Score

COUNT_COLUMNS = ["flagged", "reviewed", "confirmed"]


@dataclass
class Dashboard:
    per_night: pd.DataFrame        # index: night (YYYY-MM-DD)
    per_marketplace: pd.DataFrame  # index: marketplace
    per_species: pd.DataFrame      # index: species group
    generated_at: datetime
    # index: protection class of the taxon named by the latest flagged score (classifier.taxa)
    per_protection: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=COUNT_COLUMNS, dtype="int64").rename_axis("protection"))

    def totals(self) -> dict[str, int]:
        return {column: int(self.per_marketplace[column].sum()) for column in COUNT_COLUMNS}


def _first_species(value) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value or "unknown"
    if isinstance(value, list):
        return str(value[0]) if value else "unknown"
    return "unknown"


@dataclass
class FlaggedHistory:
    """Every listing ever flagged (as its latest flagged score names it) and the nights it was flagged on.

    The costly part of the dashboard (a read of the whole flagged score history); it changes only when
    scores are added, so the review app keeps it while the newest score (`newest_ids`) is unchanged.
    """
    latest: pd.DataFrame  # listing_id, marketplace, species, protection
    nights: pd.DataFrame  # night, listing_id (one row per listing flagged that night)


def newest_ids(engine: Engine) -> tuple[int | None, int | None]:
    """The newest score's and decision's ids: both are only ever added, so counts made when these were the
    newest are still right while they are (two reads of a primary key's end)."""
    with engine.connect() as connection:
        return connection.scalar(select(func.max(Score.id))), connection.scalar(select(func.max(Decision.id)))


def flagged_history(engine: Engine, since: datetime | None = None) -> FlaggedHistory | None:
    """The flagged score history (None: nothing flagged); `since` keeps crawl runs started at or after it."""
    flagged = (
        select(Score.listing_id, Score.species, Score.scored_at, Score.id.label("score_id"),
               CrawlRun.started_at, Marketplace.name.label("marketplace"), Score.protection_rank)
        .join(CrawlRun, CrawlRun.id == Score.run_id)
        .join(Listing, Listing.id == Score.listing_id)
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .where(Score.flagged.is_(True))
    )
    if since is not None:
        flagged = flagged.where(CrawlRun.started_at >= since)
    with engine.connect() as connection:
        scores = pd.DataFrame(connection.execute(flagged).all(),
                              columns=["listing_id", "species", "scored_at", "score_id", "started_at", "marketplace",
                                       "protection_rank"])
    if scores.empty:
        return None
    scores["night"] = pd.to_datetime(scores["started_at"], utc=True).dt.strftime("%Y-%m-%d")
    scores = scores.sort_values("score_id")
    latest = scores.groupby("listing_id", as_index=False).last()  # species as most recently flagged
    latest["species"] = latest["species"].map(_first_species)
    latest["protection"] = latest["protection_rank"].map(_protection_label)
    return FlaggedHistory(latest=latest[["listing_id", "marketplace", "species", "protection"]],
                          nights=scores[["night", "listing_id"]].drop_duplicates())


def load_dashboard(engine: Engine, since: datetime | None = None) -> Dashboard:
    """The count tables; `since` keeps nights (crawl runs) that started at or after it."""
    return dashboard_from(engine, flagged_history(engine, since))


def dashboard_from(engine: Engine, history: FlaggedHistory | None) -> Dashboard:
    """The count tables from a flagged history (read earlier, still whole) and the current decisions."""
    if history is None:
        empty = pd.DataFrame(columns=COUNT_COLUMNS, dtype="int64")
        return Dashboard(empty.rename_axis("night"), empty.rename_axis("marketplace"),
                         empty.rename_axis("species"), datetime.now(timezone.utc))
    current = select(Listing.id.label("listing_id"), Listing.current_decision.label("decision")).where(
        Listing.current_decision.is_not(None))
    with engine.connect() as connection:
        decisions = pd.DataFrame(connection.execute(current).all(), columns=["listing_id", "decision"])
    per_listing = history.latest.merge(decisions, on="listing_id", how="left")
    per_listing["reviewed"] = per_listing["decision"].notna()
    per_listing["confirmed"] = per_listing["decision"].eq("confirmed")

    def counts(frame: pd.DataFrame, key: str) -> pd.DataFrame:
        grouped = frame.groupby(key).agg(flagged=("listing_id", "nunique"), reviewed=("reviewed", "sum"),
                                         confirmed=("confirmed", "sum"))
        return grouped.astype("int64")[COUNT_COLUMNS]

    nights = history.nights.merge(per_listing[["listing_id", "reviewed", "confirmed"]], on="listing_id")
    return Dashboard(
        per_night=counts(nights, "night").sort_index(),
        per_marketplace=counts(per_listing, "marketplace").sort_values("flagged", ascending=False),
        per_species=counts(per_listing, "species").sort_values("flagged", ascending=False),
        generated_at=datetime.now(timezone.utc),
        per_protection=counts(per_listing, "protection").sort_index(),
    )


def _protection_label(rank) -> str:
    """"0 China Class I or CITES Appendix I" ... (the digit keeps the strictest first when sorted)."""
    from classifier.taxa import PROTECTION_RANKS

    if rank is None or pd.isna(rank):
        return "4 not assessed"
    return f"{int(rank)} {PROTECTION_RANKS[int(rank)]}"


def bar_chart_svg(frame: pd.DataFrame, title: str) -> str:
    """A grouped bar chart (flagged / reviewed / confirmed) as inline SVG, with no script in it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "wildwatch"  # stable ids: the same data gives the same file
    # Labels are marketplace names and other stored text: shown, never interpreted ("$\\frac{$" is not TeX).
    plt.rcParams["text.parse_math"] = False
    plt.rcParams["font.sans-serif"] = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "DejaVu Sans"]
    figure, axes = plt.subplots(figsize=(max(4.0, 0.6 * len(frame) + 2), 3.2))
    try:
        if frame.empty:
            axes.text(0.5, 0.5, "no flagged listings yet", ha="center", va="center")
            axes.set_axis_off()
        else:
            frame[COUNT_COLUMNS].plot.bar(ax=axes, color=["#c0392b", "#2c7fb8", "#238b45"], width=0.8, rot=30)
            axes.set_xlabel("")
            axes.set_ylabel("listings")
            axes.legend(frameon=False, fontsize=8)
            for label in axes.get_xticklabels():
                label.set_horizontalalignment("right")
        axes.set_title(title, fontsize=10)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
    finally:
        plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _table_html(frame: pd.DataFrame, label: str) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(index))}</th>" + "".join(f"<td>{int(row[c])}</td>" for c in COUNT_COLUMNS) + "</tr>"
        for index, row in frame.iterrows()
    ) or f'<tr><td colspan="{len(COUNT_COLUMNS) + 1}">none</td></tr>'
    head = "".join(f"<th>{c}</th>" for c in COUNT_COLUMNS)
    return f'<table class="counts"><thead><tr><th>{html.escape(label)}</th>{head}</tr></thead><tbody>{rows}</tbody></table>'


SECTIONS = (("per_night", "night", "Per night"), ("per_marketplace", "marketplace", "Per marketplace"),
            ("per_species", "species group", "Per species group"),
            ("per_protection", "protection", "Per protection class"))


def dashboard_sections(dashboard: Dashboard) -> list[dict[str, str]]:
    """Title, chart (SVG) and table (HTML) for each view; the text inside is escaped."""
    return [{"title": title, "chart": bar_chart_svg(getattr(dashboard, attr), title),
             "table": _table_html(getattr(dashboard, attr), label)} for attr, label, title in SECTIONS]


def report_html(dashboard: Dashboard, database: str) -> str:
    """A self-contained HTML report (inline SVG and CSS) to mail or archive."""
    totals = dashboard.totals()
    body = "".join(f"<section><h2>{s['title']}</h2>{s['chart']}{s['table']}</section>"
                   for s in dashboard_sections(dashboard))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wildwatch report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table.counts {{ border-collapse: collapse; margin: 0.5em 0 2em; }}
table.counts th, table.counts td {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }}
table.counts th:first-child {{ text-align: left; }}
svg {{ max-width: 100%; height: auto; }}
</style></head><body>
<h1>wildwatch report</h1>
<p>Generated {dashboard.generated_at:%Y-%m-%d %H:%M UTC} from {html.escape(database)}.
Flagged {totals['flagged']}, reviewed {totals['reviewed']}, confirmed {totals['confirmed']} listings.
Scores flag listings as <em>suspicious</em> for review; legality depends on species, age, permits and jurisdiction.</p>
{body}
</body></html>
"""
