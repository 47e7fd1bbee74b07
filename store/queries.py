"""Read side: flagged listings with their latest score, as a pandas DataFrame for review and export.

pandas is imported where a frame is built, not with the module: store.repository re-exports
`listings_frame`, and every crawl and worker process imports the repository without building a frame
(pandas, with the pyarrow it loads, costs ~0.4 s of CPU and ~80 MB of RSS per process)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, nulls_last, select, true
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from store.columns import as_utc
from store.models import Listing, Marketplace, ModelVersion, Score

if TYPE_CHECKING:
    import pandas as pd

#: Columns of listings_frame, in order; exporters and the review app rely on them.
FRAME_COLUMNS = (
    "marketplace", "listing_id", "url", "title", "description", "price", "currency", "price_text",
    "seller_id", "seller_name", "seller_url", "location", "posted_at", "category",
    "score", "flagged", "species", "evidence", "evidence_json", "model_version",
    "first_seen_at", "last_seen_at", "gone_at", "scored_at",
)
#: The current score's taxon and protection (classifier.taxa.TaxonMatch), appended last.
PROTECTION_COLUMNS = ("taxon", "china_class", "cites_appendix", "protection", "legal_basis")
FRAME_COLUMNS = FRAME_COLUMNS + PROTECTION_COLUMNS
_TIME_COLUMNS = ("first_seen_at", "last_seen_at", "gone_at", "scored_at")
_KIND_KEYS = ("kind", "type", "rule", "source")
_TERM_KEYS = ("term", "match", "matched", "text", "value", "pattern")
_SPECIES_KEYS = ("species", "group")
#: As classifier.scorer.ScoreResult.evidence_summary: the full list stays in evidence_json.
SUMMARY_ITEMS = 8


def _first(entry: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if entry.get(key) not in (None, ""):
            return entry[key]
    return None


def _describe(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return str(entry)
    if entry.get("rule") == "cooccurrence":
        return None  # implied by the term and intent parts already listed
    kind, term = _first(entry, _KIND_KEYS), _first(entry, _TERM_KEYS)
    if kind is None and term is None:
        return json.dumps(entry, ensure_ascii=False, sort_keys=True)
    text = f"{kind}:{term}" if kind is not None and term is not None else str(kind if term is None else term)
    species = _first(entry, _SPECIES_KEYS)
    if species and species != "*":
        text += f" [{', '.join(map(str, species)) if isinstance(species, list) else species}]"
    return text


def evidence_summary(evidence: Any) -> str:
    """A short cell for analysts, e.g. "coded:广角 [rhino_horn]; intent:私聊".

    Reads classifier.evidence.Evidence dicts (kind, term, group; "*" = no
    group; co-occurrence entries skipped as the classifier's own summary does),
    and other shapes leniently (type/rule, match/text, species) so a new rule
    type still shows something readable. Repeats are dropped and the list is
    cut at SUMMARY_ITEMS; evidence_json keeps everything.
    """
    parts: list[str] = []
    for entry in evidence or ():
        part = _describe(entry)
        if part is not None and part not in parts:
            parts.append(part)
    if len(parts) > SUMMARY_ITEMS:
        parts = [*parts[:SUMMARY_ITEMS], f"+{len(parts) - SUMMARY_ITEMS} more"]
    return "; ".join(parts)


def listings_select(
    *,
    flagged_only: bool = True,
    since: datetime | None = None,
    min_score: float | None = None,
    marketplace: str | None = None,
    run_ids: list[int] | None = None,
) -> Select[*tuple[Any, ...]]:
    """The Core SELECT behind listings_frame (exposed for the review app to page through).

    Filters and order use the listing's current_* columns (indexed); the
    current score row itself is joined by primary key for its evidence.
    """
    current = Listing.current_score_id == Score.id
    stmt = (
        select(
            Marketplace.name.label("marketplace"),
            Listing.external_id.label("listing_id"),
            Listing.url, Listing.title, Listing.description, Listing.price, Listing.currency,
            Listing.price_text, Listing.seller_id, Listing.seller_name, Listing.seller_url,
            Listing.location, Listing.posted_at, Listing.category,
            Score.score, Score.flagged, Score.species, Score.evidence,
            ModelVersion.version.label("model_version"),
            Listing.first_seen_at, Listing.last_seen_at, Listing.gone_at, Score.scored_at,
            Score.taxon,
        )
        .join(Marketplace, Marketplace.id == Listing.marketplace_id)
        .join(Score, current, isouter=not flagged_only)
        .join(ModelVersion, ModelVersion.id == Score.model_version_id, isouter=True)
    )
    if flagged_only:
        stmt = stmt.where(Listing.current_flagged == true())  # "= true": indexable on PostgreSQL, unlike IS TRUE
    if since is not None:
        stmt = stmt.where(Listing.last_seen_at >= as_utc(since))
    if min_score is not None:
        stmt = stmt.where(Listing.current_score >= min_score)
    if marketplace is not None:
        stmt = stmt.where(Marketplace.name == marketplace)
    if run_ids is not None:
        stmt = stmt.where(Listing.last_run_id.in_(run_ids))
    return stmt.order_by(nulls_last(Listing.current_score.desc()), Listing.last_seen_at.desc(), Listing.id)


def _protection_cells(taxon: Any) -> dict[str, Any]:
    """The export cells of one score's taxon dict (None everywhere when the score named none)."""
    if isinstance(taxon, str):  # JSON text on a backend that does not decode it
        taxon = json.loads(taxon)
    if not isinstance(taxon, Mapping):
        return dict.fromkeys(PROTECTION_COLUMNS)
    names = " ".join(p for p in (taxon.get("name_zh"), taxon.get("scientific_name")) if p)
    return {"taxon": names or None, "china_class": taxon.get("china_class") or None,
            "cites_appendix": taxon.get("cites_appendix") or None, "protection": taxon.get("protection"),
            "legal_basis": taxon.get("legal_basis")}


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Same columns and dtypes whatever the backend, and whether or not rows came back."""
    import pandas as pd

    taxa = frame["taxon"].tolist() if "taxon" in frame else [None] * len(frame)
    frame = frame.reindex(columns=[c for c in FRAME_COLUMNS if c not in ("evidence_json", *PROTECTION_COLUMNS)])
    cells = [_protection_cells(t) for t in taxa]
    for column in PROTECTION_COLUMNS:
        frame[column] = pd.Series([c[column] for c in cells], index=frame.index, dtype="object")
    evidence = frame["evidence"].tolist()
    frame["evidence"] = pd.Series([evidence_summary(e) for e in evidence], index=frame.index, dtype="string")
    frame.insert(
        frame.columns.get_loc("evidence") + 1,
        "evidence_json",
        pd.Series(
            [json.dumps(e, ensure_ascii=False) if e is not None else None for e in evidence],
            index=frame.index,
            dtype="string",
        ),
    )
    frame["species"] = pd.Series(
        [", ".join(s) if isinstance(s, list) else None for s in frame["species"].tolist()],
        index=frame.index,
        dtype="string",
    )
    for column in _TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["price"] = pd.to_numeric(frame["price"]).astype("Float64")
    frame["score"] = pd.to_numeric(frame["score"]).astype("Float64")
    frame["flagged"] = frame["flagged"].astype("boolean")
    for column in FRAME_COLUMNS:
        if column not in (*_TIME_COLUMNS, "price", "score", "flagged"):
            frame[column] = frame[column].astype("string")
    return frame[list(FRAME_COLUMNS)]


def listings_frame(
    session_or_engine: Session | Engine | Connection,
    *,
    flagged_only: bool = True,
    since: datetime | None = None,
    min_score: float | None = None,
    marketplace: str | None = None,
    run_ids: list[int] | None = None,
) -> pd.DataFrame:
    """One row per listing with its latest score (columns: FRAME_COLUMNS).

    Filters combine with AND: `flagged_only` keeps listings whose latest score
    is flagged (otherwise unscored listings appear too, with empty score
    columns); `since` keeps listings last seen at or after it (a naive datetime
    is taken as UTC); `min_score` applies to the latest score; `marketplace` is
    a name; `run_ids` keeps listings whose most recent sighting was in one of
    those runs (pass tonight's run ids to export what tonight's crawl saw).
    Rows are ordered by score, highest first.
    """
    import pandas as pd

    stmt = listings_select(
        flagged_only=flagged_only, since=since, min_score=min_score, marketplace=marketplace, run_ids=run_ids
    )
    if isinstance(session_or_engine, Session):
        frame = pd.read_sql(stmt, session_or_engine.connection())
    elif isinstance(session_or_engine, Engine):
        with session_or_engine.connect() as connection:
            frame = pd.read_sql(stmt, connection)
    else:
        frame = pd.read_sql(stmt, session_or_engine)
    return _tidy(frame)
