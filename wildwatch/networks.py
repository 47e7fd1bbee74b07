"""Seller networks: accounts joined across listings and marketplaces by what they share.

An *account* is (marketplace, seller id); a listing with no seller id is an account of its own.
Listings of one marketplace with the same seller id are one account (the marketplace's own link).
Accounts are joined when they share a *key* that a link source reports: a normalised contact
handle ("wechat:hx8899", from `listing_handles`) or an image (from the images stage). Each link
keeps its evidence: which key, which listings, in which field, first and last seen.

Link sources are pluggable. A source is a callable ``source(session) -> Iterable[Sighting]``: one
Sighting per (listing, key) it saw. Keys are compared for equality, so a source whose matches are
fuzzy (perceptual hashes within a Hamming distance) reports, for each image, the id of its group of
near-duplicates (wildwatch.images.links does this for listing photos). Register one with
``register_link_source("image", image_sightings)``; the image source's contract is::

    def image_sightings(session) -> Iterable[Sighting]:
        # Sighting(listing_id, source="image", key="phash:<group id>", field="image:<sha256>",
        #          detail={"url": ..., "phash": "<hex>", "distance": <bits from the group's first hash>})

Over-merging guard: a key that is a service line (a mainland 400/800 business number) or that
sits on more than `max_accounts_per_key` accounts (a marketplace's customer-service WeChat, a
courier's number, a stock photo) is not used as a link; it is recorded in `seller_common_keys`
and shown, so an analyst can still see it.

Networks are rebuilt in full after every crawl and nightly run (`rebuild_networks`). A full
rebuild is one pass over the listings and their sightings (linear; about a second for tens of
thousands of listings) and it is always right when links go away as well as come: an edited
listing, a key that became common, a source that changed. An incremental update would have to
split networks, which is where stale merges hide. Network ids stay stable: a rebuilt network takes
the id of the earlier network that most of its accounts were in; an earlier network left with no
accounts is kept inactive with `merged_into_id`, so decisions made on it still count.

Risk roll-up (`rollup`): listings an analyst marked false positive count 0; the rest give their
current score. Risk is the larger of the highest score and the noisy-OR of the flagged listings'
scores (many flagged listings raise it), at least 0.95 with an escalated listing and 0.99 with a
confirmed one. A seller-level decision weighs most: confirmed 1.0, escalated at least 0.97,
false positive at most 0.05 (needs expert leaves it).
"""
from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from store.columns import as_utc, utcnow
from store.db import lock_for_writing, session_scope
from store.models import (
    Listing,
    ListingHandle,
    Marketplace,
    SellerAccount,
    SellerCommonKey,
    SellerDecision,
    SellerLink,
    SellerNetwork,
)

log = logging.getLogger(__name__)

__all__ = [
    "BuildReport",
    "Sighting",
    "account_key",
    "build_networks",
    "handle_sightings",
    "is_service_key",
    "link_sources",
    "rebuild_networks",
    "register_link_source",
    "rollup",
]

#: A key on more accounts than this is common (a platform's or a courier's line), not a trader's.
MAX_ACCOUNTS_PER_KEY = 8
#: Evidence kept per link and side (a handle repeated in 300 listings needs a few examples, not 300).
MAX_EVIDENCE = 12
AccountKey = tuple[str, str]  # (marketplace name, seller id or "listing:<external id>")


@dataclass(frozen=True)
class Sighting:
    """One listing shows `key` (from link source `source`) in `field`; `detail` is extra evidence."""

    listing_id: int
    source: str
    key: str
    field: str
    detail: Mapping[str, Any] = field(default_factory=dict)


LinkSource = Callable[[Session], Iterable[Sighting]]


@dataclass(frozen=True)
class ListingInfo:
    """What the builder needs of a listing (store.models.Listing, or a test's own)."""

    listing_id: int
    marketplace: str
    external_id: str
    seller_id: str | None
    seller_name: str | None = None
    score: float | None = None
    flagged: bool | None = None
    decision: str | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None


def account_key(listing: ListingInfo) -> AccountKey:
    seller = (listing.seller_id or "").strip()
    return (listing.marketplace, seller[:255] if seller else f"listing:{listing.external_id}"[:255])


def handle_link_key(kind: str, value: str) -> str:
    """The key a handle links by: a number is one key whichever app it was given for.

    "+85261234567" given as a phone, as WhatsApp or as Signal is one person's number ("number:+852..."),
    and a WeChat account that is a mainland mobile (11 digits from 1) is that number too.
    """
    if kind in ("phone", "whatsapp", "signal", "telegram", "line") and value.startswith("+") and value[1:].isdigit():
        return f"number:{value}"
    if kind == "wechat" and len(value) == 11 and value.isdigit() and value.startswith("1"):
        return f"number:+86{value}"
    return f"{kind}:{value}"


def is_service_key(source: str, key: str) -> str | None:
    """Why `key` can never identify a trader, or None: mainland 400/800 numbers are company hotlines."""
    if source == "handle" and key.startswith(("number:+86400", "number:+86800")):
        return "a mainland 400/800 business hotline, not a person's number"
    return None


# ---- link sources ---------------------------------------------------------------------------------

def handle_sightings(session: Session) -> Iterable[Sighting]:
    """Every stored contact handle (store.handles) as a sighting of key "type:value"."""
    rows = session.execute(select(ListingHandle.listing_id, ListingHandle.type, ListingHandle.value,
                                  ListingHandle.field, ListingHandle.first_seen_at, ListingHandle.last_seen_at))
    for listing_id, kind, value, where, first, last in rows:
        yield Sighting(listing_id, "handle", handle_link_key(kind, value), where,
                       {"type": kind, "value": value, "first_seen": _iso(first), "last_seen": _iso(last)})


def image_sightings(session: Session) -> Iterable[Sighting]:
    """Listings that show one photo (a perceptual hash within a few bits): wildwatch.images.links."""
    from wildwatch.images.links import listing_image_sightings

    return listing_image_sightings(session)


_SOURCES: dict[str, LinkSource] = {"handle": handle_sightings, "image": image_sightings}


def register_link_source(name: str, source: LinkSource) -> None:
    """Add (or replace) a link source that every rebuild asks; see the module docstring for the contract."""
    if not name or len(name) > 32 or not callable(source):
        raise ValueError(f"a link source needs a name of 1-32 characters and a callable, got {name!r}")
    _SOURCES[name] = source


def link_sources() -> dict[str, LinkSource]:
    return dict(_SOURCES)


def connected_roots(pairs: Iterable[tuple[Any, Any]], items: Iterable[Any] = ()) -> dict[Any, Any]:
    """Each item -> the smallest item of its connected component (union-find over `pairs`; `items` adds
    items that may have no pair). The smallest member is a stable name for a group from one run to the next."""
    parent: dict[Any, Any] = {item: item for item in items}

    def find(item: Any) -> Any:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for a, b in pairs:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return {item: find(item) for item in list(parent)}


# ---- the builder (pure) ---------------------------------------------------------------------------

@dataclass
class Link:
    a: AccountKey
    b: AccountKey
    source: str
    key: str
    evidence: list[dict[str, Any]]


@dataclass
class CommonKey:
    source: str
    key: str
    accounts: int
    marketplaces: list[str]
    reason: str


@dataclass
class Build:
    accounts: dict[AccountKey, list[ListingInfo]]
    components: list[list[AccountKey]]
    links: list[Link]
    common: list[CommonKey]


def build_networks(listings: Iterable[ListingInfo], sightings: Iterable[Sighting], *,
                   max_accounts_per_key: int = MAX_ACCOUNTS_PER_KEY,
                   service_key: Callable[[str, str], str | None] = is_service_key) -> Build:
    """Accounts, their networks (connected components), the links with evidence, and the common keys."""
    accounts: dict[AccountKey, list[ListingInfo]] = defaultdict(list)
    by_listing: dict[int, AccountKey] = {}
    for listing in listings:
        key = account_key(listing)
        accounts[key].append(listing)
        by_listing[listing.listing_id] = key
    seen: dict[tuple[str, str], dict[AccountKey, list[Sighting]]] = defaultdict(lambda: defaultdict(list))
    for sighting in sightings:
        owner = by_listing.get(sighting.listing_id)
        if owner is not None:
            seen[(sighting.source, sighting.key)][owner].append(sighting)

    links: list[Link] = []
    common: list[CommonKey] = []
    for (source, key), owners in sorted(seen.items()):
        if len(owners) < 2:
            continue
        reason = service_key(source, key)
        if reason is None and len(owners) > max_accounts_per_key:
            reason = f"shared by {len(owners)} accounts (more than {max_accounts_per_key}): a platform's or a courier's"
        if reason is not None:
            common.append(CommonKey(source, key, len(owners), sorted({m for m, _ in owners}), reason))
            continue
        members = sorted(owners)
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                evidence = [_evidence(s, side) for side, who in (("a", a), ("b", b))
                            for s in sorted(owners[who], key=lambda s: (s.listing_id, s.field))[:MAX_EVIDENCE]]
                links.append(Link(a, b, source, key, evidence))
    root = connected_roots(((link.a, link.b) for link in links), accounts)
    groups: dict[AccountKey, list[AccountKey]] = defaultdict(list)
    for key in accounts:
        groups[root[key]].append(key)
    components = sorted((sorted(members) for members in groups.values()), key=lambda m: (-len(m), m[0]))
    return Build(dict(accounts), components, links, common)


def _evidence(sighting: Sighting, side: str) -> dict[str, Any]:
    return {"side": side, "listing_id": sighting.listing_id, "field": sighting.field, **dict(sighting.detail)}


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value else None


@dataclass(frozen=True)
class Rollup:
    risk: float
    max_score: float | None
    flagged: int
    confirmed: int
    reason: str


def rollup(listings: Iterable[ListingInfo], seller_decision: str | None = None) -> Rollup:
    """The risk of a set of listings (an account or a network); see the module docstring for the rule."""
    scores, flagged_scores = [], []
    confirmed = escalated = cleared = 0
    for item in listings:
        if item.decision == "false_positive":
            cleared += 1
            continue
        confirmed += item.decision == "confirmed"
        escalated += item.decision == "escalated"
        if item.score is not None:
            scores.append(float(item.score))
            if item.flagged:
                flagged_scores.append(float(item.score))
    max_score = max(scores) if scores else None
    miss = 1.0
    for score in flagged_scores:
        miss *= 1.0 - min(max(score, 0.0), 1.0)
    risk = max(max_score or 0.0, 1.0 - miss if flagged_scores else 0.0)
    parts = [f"highest score {max_score:.2f}" if max_score is not None else "no score",
             f"{len(flagged_scores)} flagged"]
    if escalated:
        risk = max(risk, 0.95)
        parts.append(f"{escalated} escalated")
    if confirmed:
        risk = max(risk, 0.99)
        parts.append(f"{confirmed} confirmed")
    if cleared:
        parts.append(f"{cleared} false positive")
    if seller_decision == "confirmed":
        risk = 1.0
    elif seller_decision == "escalated":
        risk = max(risk, 0.97)
    elif seller_decision == "false_positive":
        risk = min(risk, 0.05)
    if seller_decision:
        parts.append(f"seller decision: {seller_decision.replace('_', ' ')}")
    return Rollup(round(min(risk, 1.0), 6), max_score, len(flagged_scores), confirmed, ", ".join(parts))


# ---- the stored networks --------------------------------------------------------------------------

@dataclass
class BuildReport:
    accounts: int = 0
    networks: int = 0
    linked_networks: int = 0   # networks of two or more accounts
    links: int = 0
    common_keys: int = 0
    new_networks: int = 0
    merged_networks: int = 0
    seconds: float = 0.0
    source_errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (f"seller networks: {self.accounts} accounts in {self.networks} networks, {self.linked_networks} "
                f"of 2+ accounts, {self.links} links, {self.common_keys} common keys not linked "
                f"({self.seconds}s)")
        return text + "".join(f"; source failed: {error}" for error in self.source_errors)


def load_listing_infos(session: Session) -> list[ListingInfo]:
    rows = session.execute(
        select(Listing.id, Marketplace.name, Listing.external_id, Listing.seller_id, Listing.seller_name,
               Listing.current_score, Listing.current_flagged, Listing.current_decision, Listing.first_seen_at,
               Listing.last_seen_at).join(Marketplace, Marketplace.id == Listing.marketplace_id).order_by(Listing.id))
    return [ListingInfo(*row) for row in rows]


def seller_decisions(session: Session, network_ids: Iterable[int] | None = None) -> dict[int, SellerDecision]:
    """Each network's newest seller decision, counting decisions made on networks merged into it."""
    merged = dict(session.execute(select(SellerNetwork.id, SellerNetwork.merged_into_id)
                                  .where(SellerNetwork.merged_into_id.is_not(None))).all())

    def home(network_id: int) -> int:
        hops = 0
        while network_id in merged and hops < 100:
            network_id, hops = merged[network_id], hops + 1
        return network_id

    stmt = select(SellerDecision).order_by(SellerDecision.decided_at, SellerDecision.id)
    newest: dict[int, SellerDecision] = {}
    for row in session.scalars(stmt):
        newest[home(row.network_id)] = row
    if network_ids is not None:
        wanted = set(network_ids)
        return {k: v for k, v in newest.items() if k in wanted}
    return newest


def rebuild_networks(session: Session, *, sources: Mapping[str, LinkSource] | None = None,
                     max_accounts_per_key: int = MAX_ACCOUNTS_PER_KEY) -> BuildReport:
    """Rebuild accounts, networks, links and common keys from the stored listings (caller commits).

    A source that raises is reported in the result and left out; the rebuild goes on with the others.
    """
    started = time.monotonic()
    lock_for_writing(session)
    if session.get_bind().dialect.name == "postgresql":  # one rebuild at a time across processes
        session.execute(text("SELECT pg_advisory_xact_lock(1414)"))
    report = BuildReport()
    listings = load_listing_infos(session)
    sightings: list[Sighting] = []
    for name, source in (sources if sources is not None else link_sources()).items():
        try:
            found = list(source(session))
        except Exception as exc:  # one broken source (e.g. the image store) never stops the rebuild
            log.exception("link source %s failed", name)
            report.source_errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        sightings.extend(found)
    build = build_networks(listings, sightings, max_accounts_per_key=max_accounts_per_key)
    now = utcnow()
    market_ids = dict(session.execute(select(Marketplace.name, Marketplace.id)).all())

    existing = {(a.marketplace_id, a.account_key): a for a in session.scalars(select(SellerAccount))}
    account_rows: dict[AccountKey, SellerAccount] = {}
    for key, items in build.accounts.items():
        row = existing.get((market_ids[key[0]], key[1]))
        if row is None:
            row = SellerAccount(marketplace_id=market_ids[key[0]], account_key=key[1])
            session.add(row)
        newest = max(items, key=lambda i: (i.last_seen_at or now, i.listing_id))
        roll = rollup(items)
        row.seller_id = newest.seller_id
        row.seller_name = newest.seller_name
        row.listings = len(items)
        row.risk, row.max_score, row.flagged = roll.risk, roll.max_score, roll.flagged
        firsts = [i.first_seen_at for i in items if i.first_seen_at]
        lasts = [i.last_seen_at for i in items if i.last_seen_at]
        row.first_seen_at = min(firsts) if firsts else None
        row.last_seen_at = max(lasts) if lasts else None
        row.built_at = now
        account_rows[key] = row
    session.flush()

    previous = {row.id: row for row in session.scalars(select(SellerNetwork).where(SellerNetwork.active.is_(True)))}
    claimed: dict[int, int] = {}  # old network id -> component index
    network_of: list[SellerNetwork] = []
    for index, members in enumerate(build.components):
        votes = Counter(account_rows[m].network_id for m in members
                        if account_rows[m].network_id in previous and account_rows[m].network_id not in claimed)
        if votes:
            chosen_id = min(votes, key=lambda nid: (-votes[nid], nid))
            claimed[chosen_id] = index
            network = previous[chosen_id]
        else:
            network = SellerNetwork(created_at=now, active=True, marketplaces=[], risk_reason="")
            session.add(network)
            report.new_networks += 1
        network_of.append(network)
    session.flush()
    for old_id, old in previous.items():
        if old_id in claimed:
            continue
        moved = Counter(network_of[i].id for i, members in enumerate(build.components)
                        for m in members if account_rows[m].network_id == old_id)
        old.active = False
        old.merged_into_id = min(moved, key=lambda nid: (-moved[nid], nid)) if moved else None
        old.accounts = old.listings = 0
        report.merged_networks += 1
    session.flush()
    decisions = seller_decisions(session)
    for network, members in zip(network_of, build.components):
        for m in members:
            account_rows[m].network_id = network.id
        items = [i for m in members for i in build.accounts[m]]
        decision = decisions.get(network.id)
        roll = rollup(items, decision.decision if decision else None)
        network.active, network.merged_into_id, network.built_at = True, None, now
        network.accounts, network.listings = len(members), len(items)
        network.marketplaces = sorted({m[0] for m in members})
        network.risk, network.max_score, network.flagged = roll.risk, roll.max_score, roll.flagged
        network.confirmed, network.risk_reason = roll.confirmed, roll.reason
        network.current_decision = decision.decision if decision else None
    session.flush()

    session.execute(delete(SellerLink))
    network_index = {m: network_of[i].id for i, members in enumerate(build.components) for m in members}
    link_rows = [{"network_id": network_index[link.a], "account_a_id": account_rows[link.a].id,
                  "account_b_id": account_rows[link.b].id, "source": link.source, "key": link.key,
                  "evidence": link.evidence, "built_at": now} for link in build.links]
    for start in range(0, len(link_rows), 500):
        session.execute(SellerLink.__table__.insert(), link_rows[start:start + 500])
    session.execute(delete(SellerCommonKey))
    common_rows = [{"source": c.source, "key": c.key[:300], "accounts": c.accounts, "marketplaces": c.marketplaces,
                    "reason": c.reason, "built_at": now} for c in build.common]
    if common_rows:
        session.execute(SellerCommonKey.__table__.insert(), common_rows)
    session.flush()
    report.accounts = len(build.accounts)
    report.networks = len(build.components)
    report.linked_networks = sum(1 for members in build.components if len(members) > 1)
    report.links, report.common_keys = len(build.links), len(build.common)
    report.seconds = round(time.monotonic() - started, 2)
    return report


def refresh_network_risk(session: Session, network_id: int) -> None:
    """Recompute one network's roll-up (after a seller decision), without a full rebuild."""
    network = session.get(SellerNetwork, network_id)
    if network is None:
        return
    members = list(session.scalars(select(SellerAccount).where(SellerAccount.network_id == network_id)))
    items = network_listings(session, members)
    decision = seller_decisions(session, [network_id]).get(network_id)
    roll = rollup(items, decision.decision if decision else None)
    network.risk, network.max_score, network.flagged = roll.risk, roll.max_score, roll.flagged
    network.confirmed, network.risk_reason = roll.confirmed, roll.reason
    network.current_decision = decision.decision if decision else None
    session.flush()


def network_listings(session: Session, accounts: Iterable[SellerAccount]) -> list[ListingInfo]:
    """The listings of `accounts` (by marketplace and seller id, or the one listing of a "listing:" account)."""
    infos: list[ListingInfo] = []
    for account in accounts:
        stmt = (select(Listing.id, Marketplace.name, Listing.external_id, Listing.seller_id, Listing.seller_name,
                       Listing.current_score, Listing.current_flagged, Listing.current_decision,
                       Listing.first_seen_at, Listing.last_seen_at)
                .join(Marketplace, Marketplace.id == Listing.marketplace_id)
                .where(Listing.marketplace_id == account.marketplace_id))
        if account.account_key.startswith("listing:") and account.seller_id is None:
            stmt = stmt.where(Listing.external_id == account.account_key[len("listing:"):])
        else:
            stmt = stmt.where(Listing.seller_id == account.seller_id)
        infos.extend(ListingInfo(*row) for row in session.execute(stmt.order_by(Listing.id)))
    return infos


def rebuild(engine: Any, **options: Any) -> BuildReport:
    """`rebuild_networks` in a transaction of its own, retried on a deadlock or dropped connection."""
    from store.retry import run_in_transaction

    return run_in_transaction(engine, lambda s: rebuild_networks(s, **options), what="rebuilding seller networks")


def score_links(engine: Any, path: Path):
    """Score the stored networks (after a demo night) against what the demo planted: the traders in `path`
    (traders.json: handles reused under other names) and the photos one seller shows in both shops
    (images.json and Old Street's re-posts of Demo Bazaar listings: same seller behind both accounts)."""
    from wildwatch.demo.traders import Truth, load_truth, score_networks

    traders = load_truth(path)
    with session_scope(engine) as session:
        rows = session.execute(select(Marketplace.name, SellerAccount.account_key, SellerAccount.network_id)
                               .join(Marketplace, Marketplace.id == SellerAccount.marketplace_id)
                               .where(Marketplace.name.in_(("demo", "demo-oldstreet"))))
        network_of = {(market, key): network for market, key, network in rows if network is not None}
        account_of = _demo_listing_accounts(session)
    groups = [list(accounts) for accounts in traders.networks.values()]
    for uses in _demo_photo_uses():
        accounts = sorted({account_of[use] for use in uses if use in account_of})
        if len(accounts) > 1:
            groups.append(accounts)
    truth = Truth({f"planted-{n}": accounts for n, accounts in enumerate(_join_overlapping(groups))},
                  traders.unrelated)
    return score_networks(network_of, truth)


def _demo_listing_accounts(session: Session) -> dict[tuple[str, str], AccountKey]:
    """(demo shop, listing id) -> the seller account that posted it, for the two demo shops."""
    shops = {"demo": "demo", "demo-oldstreet": "oldstreet"}
    rows = session.execute(select(Marketplace.name, Listing.external_id, Listing.seller_id)
                           .join(Marketplace, Marketplace.id == Listing.marketplace_id)
                           .where(Marketplace.name.in_(tuple(shops))))
    return {(shops[market], external_id): account_key(ListingInfo(0, market, external_id, seller_id))
            for market, external_id, seller_id in rows}


def _demo_photo_uses() -> list[list[tuple[str, str]]]:
    """The demo's planted photo groups (wildwatch.demo.images) as lists of (shop, listing id)."""
    from wildwatch.config import DEMO_CATALOG
    from wildwatch.demo.catalog import load_catalog
    from wildwatch.demo.images import demo_photo_groups
    from wildwatch.demo.oldstreet import build_listings

    catalog = load_catalog(DEMO_CATALOG)
    oldstreet = sorted({item.id for night in (1, 2) for item in build_listings(catalog, night)})
    return [[(use["shop"], use["listing"]) for use in group["uses"]] for group in demo_photo_groups(oldstreet)]


def _join_overlapping(groups: list[list[AccountKey]]) -> list[list[AccountKey]]:
    """Groups that share an account are one: the connected components."""
    root = connected_roots((group[0], other) for group in groups for other in group[1:])
    components: dict[AccountKey, set[AccountKey]] = defaultdict(set)
    for account, group_root in root.items():
        components[group_root].add(account)
    return [sorted(accounts) for accounts in components.values() if len(accounts) > 1]
