"""Reads and decisions on seller networks for the review app, the exports and the evidence package.

The networks themselves are written by wildwatch.networks.rebuild_networks. A seller decision is
like a listing decision: appended (never changed), audited with the decision it replaces, and an
analyst may not overrule another analyst's decision without the lead role.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.columns import utcnow
from store.db import lock_for_writing
from store.errors import StoreError
from store.models import (
    DECISIONS,
    Listing,
    ListingHandle,
    Marketplace,
    SellerAccount,
    SellerCommonKey,
    SellerDecision,
    SellerLink,
    SellerNetwork,
    User,
)
from store.decisions import DECISION_LABELS, PermissionDenied, audit, checked_decision


@dataclass
class AccountView:
    account: SellerAccount
    marketplace: str
    listings: list[Listing]


@dataclass
class LinkView:
    link: SellerLink
    a: SellerAccount
    b: SellerAccount
    listings: dict[int, Listing]  # the evidence's listings, by id


@dataclass
class NetworkDetail:
    network: SellerNetwork
    accounts: list[AccountView]
    links: list[LinkView]
    common: list[tuple[SellerCommonKey, list[int]]]   # common keys these listings show (not links), listing ids
    decisions: list[SellerDecision]
    merged_from: list[int] = field(default_factory=list)

    @property
    def decision(self) -> SellerDecision | None:
        return self.decisions[-1] if self.decisions else None

    def listing_ids(self) -> list[int]:
        return [listing.id for view in self.accounts for listing in view.listings]


def _account_listings(session: Session, account: SellerAccount) -> list[Listing]:
    stmt = select(Listing).where(Listing.marketplace_id == account.marketplace_id)
    if account.seller_id is None and account.account_key.startswith("listing:"):
        stmt = stmt.where(Listing.external_id == account.account_key[len("listing:"):])
    else:
        stmt = stmt.where(Listing.seller_id == account.seller_id)
    return list(session.scalars(stmt.order_by(Listing.current_score.desc().nulls_last(), Listing.id)))


def _merged_from(session: Session, network_id: int) -> list[int]:
    return list(session.scalars(select(SellerNetwork.id).where(SellerNetwork.merged_into_id == network_id)
                                .order_by(SellerNetwork.id)))


def network_decisions(session: Session, network_id: int) -> list[SellerDecision]:
    """Decisions on this network and on the networks merged into it, oldest first."""
    ids = [network_id, *_merged_from(session, network_id)]
    return list(session.scalars(select(SellerDecision).where(SellerDecision.network_id.in_(ids))
                                .order_by(SellerDecision.decided_at, SellerDecision.id)))


def network_detail(session: Session, network_id: int) -> NetworkDetail | None:
    network = session.get(SellerNetwork, network_id)
    if network is None:
        return None
    if not network.active and network.merged_into_id is not None:
        merged = session.get(SellerNetwork, network.merged_into_id)
        if merged is not None:
            network = merged
    accounts = list(session.scalars(select(SellerAccount).where(SellerAccount.network_id == network.id)
                                    .order_by(SellerAccount.risk.desc(), SellerAccount.id)))
    names = dict(session.execute(select(Marketplace.id, Marketplace.name)).all())
    views = [AccountView(a, names.get(a.marketplace_id, "?"), _account_listings(session, a)) for a in accounts]
    by_id = {a.id: a for a in accounts}
    listing_by_id = {listing.id: listing for view in views for listing in view.listings}
    links = []
    for link in session.scalars(select(SellerLink).where(SellerLink.network_id == network.id)
                                .order_by(SellerLink.source, SellerLink.key, SellerLink.id)):
        wanted = {e.get("listing_id") for e in link.evidence if isinstance(e, dict)}
        links.append(LinkView(link, by_id[link.account_a_id], by_id[link.account_b_id],
                              {i: listing_by_id[i] for i in wanted if i in listing_by_id}))
    common = []
    ids = list(listing_by_id)
    if ids:
        keys = session.execute(select(ListingHandle.type, ListingHandle.value, ListingHandle.listing_id)
                               .where(ListingHandle.listing_id.in_(ids))).all()
        from wildwatch.networks import handle_link_key

        shown: dict[str, list[int]] = {}
        for kind, value, listing_id in keys:
            shown.setdefault(handle_link_key(kind, value), []).append(listing_id)
        if shown:
            for row in session.scalars(select(SellerCommonKey).where(SellerCommonKey.source == "handle",
                                                                     SellerCommonKey.key.in_(list(shown)))):
                common.append((row, sorted(set(shown[row.key]))))
    return NetworkDetail(network, views, links, common, network_decisions(session, network.id),
                         _merged_from(session, network.id))


def network_of_listing(session: Session, listing_id: int) -> int | None:
    """The id of the network the listing's account is in (None until the first rebuild saw it)."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        return None
    seller = (listing.seller_id or "").strip()
    key = seller[:255] if seller else f"listing:{listing.external_id}"[:255]
    return session.scalar(select(SellerAccount.network_id).where(SellerAccount.marketplace_id == listing.marketplace_id,
                                                                 SellerAccount.account_key == key))


@dataclass(frozen=True)
class NetworkFilters:
    min_accounts: int = 1
    decision: str | None = None   # a decision value, "undecided", or None for all
    min_risk: float | None = None


def networks_query(filters: NetworkFilters) -> Any:
    stmt = select(SellerNetwork).where(SellerNetwork.active.is_(True))
    if filters.min_accounts > 1:
        stmt = stmt.where(SellerNetwork.accounts >= filters.min_accounts)
    if filters.decision == "undecided":
        stmt = stmt.where(SellerNetwork.current_decision.is_(None))
    elif filters.decision:
        if filters.decision not in DECISIONS:
            raise StoreError(f"unknown decision {filters.decision!r}")
        stmt = stmt.where(SellerNetwork.current_decision == filters.decision)
    if filters.min_risk is not None:
        stmt = stmt.where(SellerNetwork.risk >= filters.min_risk)
    return stmt


def networks_page(session: Session, filters: NetworkFilters, *, page: int = 1, per_page: int = 50
                  ) -> tuple[list[tuple[SellerNetwork, list[tuple[str, SellerAccount]]]], int]:
    """Networks highest risk first (then most confirmed, most flagged), each with its accounts; and the total."""
    stmt = networks_query(filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(SellerNetwork.risk.desc(), SellerNetwork.confirmed.desc(),
                                              SellerNetwork.flagged.desc(), SellerNetwork.id)
                                .limit(per_page).offset((page - 1) * per_page)))
    names = dict(session.execute(select(Marketplace.id, Marketplace.name)).all())
    members: dict[int, list[tuple[str, SellerAccount]]] = {row.id: [] for row in rows}
    if rows:
        for account in session.scalars(select(SellerAccount).where(SellerAccount.network_id.in_(list(members)))
                                       .order_by(SellerAccount.risk.desc(), SellerAccount.id)):
            members[account.network_id].append((names.get(account.marketplace_id, "?"), account))
    return [(row, members[row.id]) for row in rows], total


def _decision_dict(row: SellerDecision | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"network_id": row.network_id, "decision": row.decision, "analyst": row.analyst, "note": row.note,
            "decided_at": row.decided_at.isoformat() if row.decided_at else None}


def decide_network(session: Session, network_id: int, user: User, decision: str,
                   note: str | None = None) -> SellerDecision:
    """Record `user`'s decision on a seller network, audited; same permission rule as listing decisions."""
    from wildwatch.networks import refresh_network_risk

    note = checked_decision(user, decision, note)
    lock_for_writing(session)
    network = session.get(SellerNetwork, network_id, with_for_update=True)
    if network is None:
        raise StoreError(f"no seller network with id {network_id!r}")
    if not network.active:
        raise StoreError(f"seller network {network_id} was merged into network {network.merged_into_id}; "
                         "decide on that one")
    history = network_decisions(session, network_id)
    previous = history[-1] if history else None
    if previous is not None and previous.analyst != user.name and user.role != "lead":
        raise PermissionDenied(
            f"seller network {network_id} was decided by {previous.analyst!r} ({DECISION_LABELS[previous.decision]});"
            " only a lead can change another analyst's decision")
    if previous is not None and (previous.analyst, previous.decision, previous.note) == (user.name, decision, note):
        return previous
    names = dict(session.execute(select(Marketplace.id, Marketplace.name)).all())
    members = [{"account_id": a.id, "marketplace": names.get(a.marketplace_id), "account": a.account_key}
               for a in session.scalars(select(SellerAccount).where(SellerAccount.network_id == network_id)
                                        .order_by(SellerAccount.id))]
    row = SellerDecision(network_id=network_id, analyst=user.name, decision=decision, note=note,
                         decided_at=utcnow(), members=members)
    session.add(row)
    session.flush()
    audit(session, user.name, "seller_decision", before=_decision_dict(previous),
          after={**(_decision_dict(row) or {}), "accounts": len(members)})
    refresh_network_risk(session, network_id)
    return row


def seller_audit(session: Session, network_id: int) -> list[Any]:
    """Audit entries about this network (seller decisions, evidence packages)."""
    from store.models import AuditEntry

    ids = [network_id, *_merged_from(session, network_id)]
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action.in_(("seller_decision", "seller_evidence")))
                           .order_by(AuditEntry.at, AuditEntry.id))
    return [row for row in rows if isinstance(row.after, dict) and row.after.get("network_id") in ids]


