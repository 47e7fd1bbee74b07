"""Real ordinary product listings as negatives: Zyte's product-extraction benchmark, read by wildwatch's extractor.

`scrapinghub/product-extraction-benchmark` (MIT, © Zyte; 140 product pages of 62 real shops saved in
2021, `dataset/html/*.html.gz`) is read where it lies (a checkout or the bare git copy the search tool's
`fetch` makes, as `wildwatch bench --only extraction --zyte PATH` reads it).  Each page goes through the
crawler's own `extract_listing` (selectors -> JSON-LD/microdata -> OpenGraph -> heuristics) and
`parse_price`, exactly as a crawl stores a listing: title, description, price, currency.

None of the pages is wildlife trade (the titles were read: phones, clothes, furniture, food, books,
tickets, toys).  Pages whose product is itself made of an animal (real leather goods, meat) are left
out (``ANIMAL_PRODUCTS``): they are not wildlife trade either, but the peer project's label "of animal
origin" would call them positives, and a negative set should not argue with it.

The shops are split by a SHA-256 of the host: about 70% of the shops are training negatives
(data/labelled/extra/product-pages.csv), the other shops' pages are only ever measured on
(data/real/product-pages/heldout.jsonl: every flag there is a false alarm on a real ordinary listing).

    python scripts/build_product_pages.py --zyte /path/to/product-extraction-benchmark

Running it again writes the same bytes.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extraction import load_pages  # noqa: E402
from crawler.extractors.listing import ExtractionError, extract_listing  # noqa: E402
from crawler.extractors.price import parse_price  # noqa: E402

EXTRA = ROOT / "data" / "labelled" / "extra"
HELDOUT = ROOT / "data" / "real" / "product-pages"
COLUMNS = ["id", "title", "description", "price", "currency", "label", "group", "category", "lang", "source"]
HELDOUT_SHARE = 0.3
MAX_DESCRIPTION = 2000  # a few pages carry whole manuals; the first 2,000 characters say what is sold
SOURCE = "real:zyte-product-extraction-benchmark"
# Benchmark keys (first 8 hex digits) of pages whose product is made of an animal: dropped (see above).
ANIMAL_PRODUCTS = {
    "09b6ff55": "招牌肉乾 (meat jerky)",
    "24d6d89f": "西莎小羊肉餐盒 (lamb dog food)",
    "412fe668": "鵝肉鬆 (goose meat floss)",
    "4ff59071": "KONMAY real leather jewellery cord",
    "9d939d48": "Vintage Chanel leather bag",
    "f48e9949": "GANT leather Chelsea boot",
}


def host_is_heldout(host: str) -> bool:
    digest = hashlib.sha256(("product-pages-split:" + host).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < HELDOUT_SHARE


def _lang(text: str) -> str:
    """"zh" for a title with Chinese characters, else "other" (Latin, Cyrillic, Hebrew, Arabic, Korean
    titles of many languages: not told apart here)."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "other"


def rows(zyte: Path) -> list[dict]:
    out = []
    for page in load_pages(zyte):
        if page.key[:8] in ANIMAL_PRODUCTS:
            continue
        try:
            fields = extract_listing(page.html, page.url).fields
        except ExtractionError:
            continue
        title = " ".join(str(fields.get("title") or "").split())
        if not title:
            continue
        description = " ".join(str(fields.get("description") or "").split())[:MAX_DESCRIPTION]
        price = parse_price(fields.get("price"), fields.get("currency"))
        host = urlsplit(page.url).netloc
        out.append({"id": f"zyte-{page.key[:12]}", "title": title, "description": description,
                    "price": "" if price.amount is None else price.amount, "currency": price.currency or "",
                    "label": 0, "group": "", "category": "ordinary", "lang": _lang(title),
                    "source": f"{SOURCE}:{host}"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zyte", type=Path, required=True, help="the benchmark: a checkout or a bare git copy")
    args = parser.parse_args()
    every = rows(args.zyte)
    training = [r for r in every if not host_is_heldout(r["source"].rsplit(":", 1)[-1])]
    heldout = [r for r in every if host_is_heldout(r["source"].rsplit(":", 1)[-1])]
    EXTRA.mkdir(parents=True, exist_ok=True)
    with (EXTRA / "product-pages.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(training)
    HELDOUT.mkdir(parents=True, exist_ok=True)
    with (HELDOUT / "heldout.jsonl").open("w", encoding="utf-8") as handle:
        for r in heldout:
            record = {k: r[k] for k in ("id", "title", "description", "label", "category", "lang")}
            record["price"] = r["price"] if r["price"] != "" else None
            record["currency"] = r["currency"] or None
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    shops = {r["source"] for r in every}
    print(f"{len(every)} pages of {len(shops)} shops ({len(ANIMAL_PRODUCTS)} animal products left out): "
          f"{len(training)} training, {len(heldout)} held out")


if __name__ == "__main__":
    main()
