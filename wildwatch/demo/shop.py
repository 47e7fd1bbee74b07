"""What the Demo Bazaar shows on one night: lookups, pagination, search, related items.

Pure and immutable once built, so request threads can share one instance
without locks, and the paging rules can be tested without a server.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from wildwatch.demo.catalog import DemoListing, live_listings


@dataclass(frozen=True)
class Page:
    """One page of results; `has_next` decides whether a "next" link is shown."""

    items: tuple[DemoListing, ...]
    number: int
    has_next: bool


class ShopView:
    """The catalog as the shop presents it on `night` (listings ordered by id)."""

    def __init__(self, catalog: Sequence[DemoListing], night: int, page_size: int):
        if night < 1:
            raise ValueError(f"night must be 1 or more, got {night}")
        if page_size < 1:
            raise ValueError(f"page_size must be 1 or more, got {page_size}")
        self.night = night
        self.page_size = page_size
        self.all_by_id = {item.id: item for item in catalog}
        self.live = tuple(sorted(live_listings(catalog, night), key=lambda item: item.id))
        self.live_by_id = {item.id: item for item in self.live}
        # Categories and sellers exist even on nights when none of their listings are live.
        self.categories = tuple(sorted({item.category for item in catalog}))
        self.sellers = {item.seller_id: item.seller_name for item in catalog}

    def paginate(self, items: Sequence[DemoListing], number: int) -> Page:
        """Page `number` (from 1); a page past the end is empty, never an error."""
        if number < 1:
            raise ValueError(f"page must be 1 or more, got {number}")
        start = (number - 1) * self.page_size
        chunk = tuple(items[start:start + self.page_size])
        return Page(chunk, number, has_next=start + self.page_size < len(items))

    def in_category(self, slug: str) -> list[DemoListing]:
        return [item for item in self.live if item.category == slug]

    def by_seller(self, seller_id: str) -> list[DemoListing]:
        return [item for item in self.live if item.seller_id == seller_id]

    def search(self, query: str) -> list[DemoListing]:
        """Case-insensitive substring match in title or description; a blank query finds nothing."""
        needle = query.strip().casefold()
        if not needle:
            return []
        return [item for item in self.live
                if needle in item.title.casefold() or needle in item.description.casefold()]

    def related(self, listing: DemoListing, count: int = 3) -> list[DemoListing]:
        """The next live listings of the same category (wrapping round), topped up from the rest."""
        same = [item for item in self.live if item.category == listing.category and item.id != listing.id]
        later = [item for item in same if item.id > listing.id]
        picks = (later + [item for item in same if item.id < listing.id])[:count]
        for item in self.live:
            if len(picks) >= count:
                break
            if item.id != listing.id and item not in picks:
                picks.append(item)
        return picks
