"""The seller networks as one table for `wildwatch export --sellers`: one row per account, highest risk first.

Every row repeats its network's columns (id, risk and why, decision, size, marketplaces), so a
spreadsheet filter on network_id shows one network; `linked_by` says why the account is in it (the
shared key and the account on the other side). With a pseudonym key, handles are written as
[type:pseudonym] (wildwatch.pseudonym); with None they are in clear (a lead's export).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from store.columns import as_utc
from store.db import session_scope
from store.models import Listing, ListingHandle, Marketplace, SellerAccount, SellerLink, SellerNetwork

COLUMNS = ["network_id", "network_risk", "network_risk_reason", "network_decision", "network_accounts",
           "network_listings", "network_marketplaces", "marketplace", "seller_id", "seller_name", "account_risk",
           "account_listings", "account_flagged", "account_max_score", "first_seen_at", "last_seen_at", "handles",
           "linked_by", "listing_ids", "listing_urls"]


def sellers_frame(engine: Engine, key: bytes | None, *, all_networks: bool = False, min_risk: float | None = None,
                  marketplace: str | None = None, since: datetime | None = None) -> pd.DataFrame:
    from wildwatch.networks import handle_link_key
    from wildwatch.pseudonym import pseudonymise_key, pseudonymise_text

    def hide(link_key: str, source: str = "handle") -> str:
        return pseudonymise_key(link_key, key) if key is not None and source == "handle" else link_key

    with session_scope(engine) as session:
        names = dict(session.execute(select(Marketplace.id, Marketplace.name)).all())
        stmt = select(SellerNetwork).where(SellerNetwork.active.is_(True))
        if not all_networks:
            stmt = stmt.where(SellerNetwork.accounts >= 2)
        if min_risk is not None:
            stmt = stmt.where(SellerNetwork.risk >= min_risk)
        networks = {n.id: n for n in session.scalars(stmt)}
        accounts = [a for a in session.scalars(select(SellerAccount).where(SellerAccount.network_id.in_(list(networks))))
                    ] if networks else []
        by_network: dict[int, list[SellerAccount]] = defaultdict(list)
        for account in accounts:
            by_network[account.network_id].append(account)
        if marketplace is not None:
            by_network = defaultdict(list, {n: acc for n, acc in by_network.items()
                                            if any(names.get(a.marketplace_id) == marketplace for a in acc)})
        if since is not None:
            since_utc = as_utc(since)
            by_network = defaultdict(list, {n: acc for n, acc in by_network.items()
                                            if any(a.last_seen_at and as_utc(a.last_seen_at) >= since_utc for a in acc)})
        account_by_id = {a.id: a for acc in by_network.values() for a in acc}
        links: dict[int, list[str]] = defaultdict(list)
        for link in session.scalars(select(SellerLink).where(SellerLink.network_id.in_(list(by_network)))
                                    .order_by(SellerLink.id)) if by_network else []:
            a, b = account_by_id.get(link.account_a_id), account_by_id.get(link.account_b_id)
            if a is None or b is None:
                continue
            shown = hide(link.key, link.source)
            for one, other in ((a, b), (b, a)):
                links[one.id].append(f"{link.source} {shown} with {names.get(other.marketplace_id)}:{other.account_key}")
        listing_rows: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for account in account_by_id.values():
            stmt = select(Listing.id, Listing.external_id, Listing.url).where(
                Listing.marketplace_id == account.marketplace_id)
            if account.seller_id is None and account.account_key.startswith("listing:"):
                stmt = stmt.where(Listing.external_id == account.account_key[len("listing:"):])
            else:
                stmt = stmt.where(Listing.seller_id == account.seller_id)
            listing_rows[account.id] = list(session.execute(stmt.order_by(Listing.id)).all())
        handles: dict[int, set[str]] = defaultdict(set)
        owner = {listing_id: account_id for account_id, rows in listing_rows.items() for listing_id, _, _ in rows}
        ids = list(owner)
        for start in range(0, len(ids), 500):
            for listing_id, kind, value in session.execute(
                    select(ListingHandle.listing_id, ListingHandle.type, ListingHandle.value)
                    .where(ListingHandle.listing_id.in_(ids[start:start + 500]))):
                handles[owner[listing_id]].add(hide(handle_link_key(kind, value)))
        rows = []
        ordered = sorted(by_network, key=lambda n: (-networks[n].risk, n))
        for network_id in ordered:
            network = networks[network_id]
            for account in sorted(by_network[network_id], key=lambda a: (-a.risk, a.id)):
                seller_name = account.seller_name
                if key is not None:
                    seller_name = pseudonymise_text(seller_name, key)
                rows.append({
                    "network_id": network.id, "network_risk": network.risk, "network_risk_reason": network.risk_reason,
                    "network_decision": network.current_decision, "network_accounts": network.accounts,
                    "network_listings": network.listings, "network_marketplaces": "; ".join(network.marketplaces),
                    "marketplace": names.get(account.marketplace_id), "seller_id": account.seller_id,
                    "seller_name": seller_name, "account_risk": account.risk, "account_listings": account.listings,
                    "account_flagged": account.flagged, "account_max_score": account.max_score,
                    "first_seen_at": account.first_seen_at, "last_seen_at": account.last_seen_at,
                    "handles": "; ".join(sorted(handles[account.id])),
                    "linked_by": "; ".join(links[account.id]),
                    "listing_ids": "; ".join(external for _, external, _ in listing_rows[account.id]),
                    "listing_urls": "; ".join(url for _, _, url in listing_rows[account.id]),
                })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("first_seen_at", "last_seen_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame
