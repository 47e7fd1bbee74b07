"""Listing fields from schema.org Product data (JSON-LD, microdata) and OpenGraph.

Many marketplaces publish Product markup for search engines; it is the most
stable thing on a page, so it is read whenever present (via extruct).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Iterable

logger = logging.getLogger(__name__)

_PRODUCT_TYPES = {"product", "individualproduct", "productmodel", "vehicle", "offer"}


# What a page needs for extruct to find anything read below: a JSON-LD script type (application/ld+json),
# microdata (itemscope), or OpenGraph/product properties (og:..., product:...), also with the "+" or ":"
# written as a character reference.  A page without any is most plain HTML pages; parsing it a second
# time for extruct found nothing.
_STRUCTURED_MARKERS = re.compile(r"ld(?:\+|&#|&plus;)|itemscope|(?:og|product)(?::|&#|&colon;)", re.IGNORECASE)


def extract_structured(html: str, url: str) -> tuple[dict[str, Any], str]:
    """Fields from the first schema.org Product on the page, else from OpenGraph.

    Returns (fields, method) where method is "jsonld", "microdata", "opengraph" or "".
    Broken markup is ignored, never raised: the other extractors still run.
    """
    if not _STRUCTURED_MARKERS.search(html):
        return {}, ""
    import extruct  # imported on the first page that has structured data: 10 MB a crawl without any does not need

    try:
        data = extruct.extract(
            html, base_url=url, syntaxes=["json-ld", "microdata", "opengraph"], uniform=True, errors="ignore"
        )
    except Exception as exc:  # extruct surfaces lxml/json errors of hostile pages
        logger.debug("structured data unreadable on %s: %s", url, exc)
        return {}, ""
    for syntax, method in (("json-ld", "jsonld"), ("microdata", "microdata")):
        product = _first_product(data.get(syntax) or [])
        if product is not None:
            return _product_fields(product), method
    og = _opengraph(data.get("opengraph") or [])
    return (og, "opengraph") if og else ({}, "")


def _walk(nodes: Iterable[Any]) -> Iterable[dict]:
    for node in nodes:
        if isinstance(node, list):
            yield from _walk(node)
        elif isinstance(node, dict):
            yield node
            for key in ("@graph", "mainEntity", "itemOffered", "item"):
                if key in node:
                    yield from _walk(node[key] if isinstance(node[key], list) else [node[key]])


def _types(node: dict) -> set[str]:
    value = node.get("@type") or node.get("type") or []
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _first_product(nodes: list) -> dict | None:
    for node in _walk(nodes):
        types = _types(node)
        if types & _PRODUCT_TYPES - {"offer"}:
            return node
    for node in _walk(nodes):
        if "offer" in _types(node) and isinstance(node.get("itemOffered"), dict):
            merged = dict(node["itemOffered"])
            merged.setdefault("offers", {k: v for k, v in node.items() if k != "itemOffered"})
            return merged
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return _text(value[0]) if value else None
    if isinstance(value, dict):
        for key in ("name", "@value", "value", "url", "@id"):
            if value.get(key):
                return _text(value[key])
        return None
    text = str(value).strip()
    return text or None


def _images(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    images = []
    for item in values:
        if isinstance(item, dict):
            item = item.get("contentUrl") or item.get("url")
        if isinstance(item, str) and item.strip():
            images.append(item.strip())
    return images


def _offer(product: dict) -> dict:
    offers = product.get("offers")
    if isinstance(offers, list):
        offers = next((o for o in offers if isinstance(o, dict)), None)
    return offers if isinstance(offers, dict) else {}


def _location(product: dict, offer: dict) -> str | None:
    for value in (offer.get("availableAtOrFrom"), offer.get("areaServed"), product.get("areaServed"),
                  offer.get("eligibleRegion")):
        if isinstance(value, dict) and isinstance(value.get("address"), dict):
            address = value["address"]
            parts = [address.get(k) for k in ("addressLocality", "addressRegion", "addressCountry")]
            joined = ", ".join(str(p) for p in parts if p and isinstance(p, str))
            if joined:
                return joined
        text = _text(value)
        if text:
            return text
    return None


def _product_fields(product: dict) -> dict[str, Any]:
    offer = _offer(product)
    seller = offer.get("seller") or product.get("seller") or {}
    price = offer.get("price", offer.get("lowPrice"))
    if price is None and isinstance(offer.get("priceSpecification"), dict):
        price = offer["priceSpecification"].get("price")
    fields: dict[str, Any] = {
        "listing_id": _text(product.get("sku") or product.get("productID") or product.get("identifier")
                            or product.get("mpn")),
        "title": _text(product.get("name")),
        "description": _text(product.get("description")),
        "price": None if price in (None, "") else str(price),
        "currency": _text(offer.get("priceCurrency")),
        "seller_name": _text(seller.get("name")) if isinstance(seller, dict) else _text(seller),
        "seller_id": _text(seller.get("identifier")) if isinstance(seller, dict) else None,
        "seller_url": _text(seller.get("url")) if isinstance(seller, dict) else None,
        "images": _images(product.get("image")),
        "category": _text(product.get("category")),
        "location": _location(product, offer),
        "posted_at": _text(product.get("datePosted") or product.get("releaseDate") or offer.get("validFrom")),
    }
    return {key: value for key, value in fields.items() if value not in (None, [], "")}


def _opengraph(items: list) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict):
            props.update({k: v for k, v in item.items() if isinstance(k, str)})
    fields = {
        "title": _text(props.get("og:title")),
        "description": _text(props.get("og:description")),
        "images": _images(props.get("og:image")),
        "price": _text(props.get("product:price:amount") or props.get("og:price:amount")),
        "currency": _text(props.get("product:price:currency") or props.get("og:price:currency")),
    }
    return {key: value for key, value in fields.items() if value not in (None, [], "")}
