"""The one canonical listing schema that every marketplace's pages become."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit


@dataclass
class ListingItem:
    """A marketplace listing as extracted from its detail page.

    `listing_id` is the marketplace's own id (unique within `marketplace`);
    `price` is a number in `currency` when one could be parsed, and `price_text`
    keeps what the page showed, so nothing the seller wrote is lost.
    """

    marketplace: str
    listing_id: str
    url: str
    title: str
    description: str = ""
    price: float | None = None
    currency: str | None = None
    price_text: str | None = None
    seller_id: str | None = None
    seller_name: str | None = None
    seller_url: str | None = None
    location: str | None = None
    images: list[str] = field(default_factory=list)
    posted_at: str | None = None
    category: str | None = None
    extraction: str = ""  # how the fields were found: "selectors", "jsonld", "microdata", "opengraph", "heuristic"
    rendered: bool = False  # True when the page went through a browser
    crawled_at: str = ""  # ISO 8601 UTC
    # Filled by the score pipeline.
    score: dict | None = None

    CONTENT_FIELDS = (
        "title", "description", "price", "currency", "price_text", "seller_id",
        "seller_name", "location", "images", "posted_at", "category",
    )

    def content_hash(self) -> str:
        """SHA-256 over the fields a seller controls; a change means a new snapshot."""
        payload = {name: getattr(self, name) for name in self.CONTENT_FIELDS}
        # Image hosts rotate (CDN shards, the demo's random port); the picture is the path.
        payload["images"] = [urlsplit(url).path or url for url in self.images]
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        return asdict(self)


def listing_from_fields(
    fields: dict,
    *,
    marketplace: str,
    url: str,
    extraction: str,
    rendered: bool,
    crawled_at: datetime,
    default_currency: str | None = None,
) -> ListingItem:
    """A ListingItem from extracted fields (`crawler.extractors.listing`), the price parsed once, here.

    The crawl and the tip intake both build listings this way, so a page gives the same
    listing whichever path fetched it.
    """
    from crawler.extractors.price import parse_price

    # The page's own currency (structured data) reads its "$", "kr" or "24.990" before the site's default does.
    price = parse_price(fields.get("price"), fields.get("currency") or default_currency)
    currency = fields.get("currency") or price.currency
    return ListingItem(
        marketplace=marketplace,
        listing_id=str(fields["listing_id"]),
        url=url,
        title=fields["title"],
        description=fields.get("description") or "",
        price=price.amount,
        currency=currency.upper() if isinstance(currency, str) else None,
        price_text=fields.get("price"),
        seller_id=fields.get("seller_id"),
        seller_name=fields.get("seller_name"),
        seller_url=fields.get("seller_url"),
        location=fields.get("location"),
        images=list(fields.get("images") or []),
        posted_at=fields.get("posted_at"),
        category=fields.get("category"),
        extraction=extraction,
        rendered=rendered,
        crawled_at=crawled_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
    )
