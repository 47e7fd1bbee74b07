"""Extraction on real shops' product pages: Zyte's product-extraction benchmark (MIT, 140 pages of ~70 shops).

The pages are read where they lie (a checkout or a bare git copy of
`scrapinghub/product-extraction-benchmark`, path from ``--zyte`` or
``WILDWATCH_ZYTE_BENCH``); they are not copied into the repository.  Each page is
read by wildwatch's extractor and discovery decision, and by the baseline a user
would otherwise pick (extruct for structured data, price-parser for its price,
trafilatura for title and main text), in the same run, on the same pages.

The benchmark's ground truth has prices, no titles or descriptions: price is
judged against it (the same decimal match as its own ``evaluate.py``), title and
description only for being present.
"""
from __future__ import annotations

import gzip
import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from bench.results import Figure, StageResult

__all__ = ["BenchPage", "load_pages", "measure", "run", "run_or_skip", "wildwatch_reader", "baseline_reader", "ENV"]

STAGE = "extraction"
ENV = "WILDWATCH_ZYTE_BENCH"
DEFAULT_PLACES = (Path("product-extraction-benchmark"),)  # a clone beside the working directory
log = logging.getLogger(__name__)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass
class BenchPage:
    key: str
    url: str
    html: str
    prices: set[Decimal] = field(default_factory=set)

    @property
    def cjk(self) -> bool:
        """A Chinese, Japanese or Korean shop's page: its <title> is written in those scripts."""
        match = _TITLE.search(self.html)
        return bool(match and _CJK.search(match.group(1)))


@dataclass
class Reading:
    """What one extractor made of one page."""

    title: str | None = None
    description: str | None = None
    price: Decimal | None = None
    accepted: bool | None = None  # taken for a listing by discovery (None: the reader has no such decision)
    accepted_unlinked: bool | None = None  # the same, reached by a link of no listing shape from a page


def _git_show(git_dir: Path, path: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout


def _is_bare(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def find_benchmark(path: str | Path | None = None) -> Path:
    """The benchmark's folder (checkout or bare git directory): the argument, else $WILDWATCH_ZYTE_BENCH,
    else ./product-extraction-benchmark; FileNotFoundError saying how to get it."""
    from wildwatch.config import zyte_benchmark_path

    configured = zyte_benchmark_path()
    candidates = [Path(path)] if path else ([configured] if configured else list(DEFAULT_PLACES))
    for candidate in candidates:
        if (candidate / "dataset" / "ground-truth.json").is_file() or _is_bare(candidate):
            return candidate
    raise FileNotFoundError(
        f"Zyte product-extraction benchmark not found at {', '.join(map(str, candidates))}: clone "
        f"https://github.com/scrapinghub/product-extraction-benchmark and point {ENV} (or --zyte) at it")


def load_pages(path: str | Path | None = None, limit: int | None = None) -> list[BenchPage]:
    """The benchmark's pages with their URL and ground-truth prices, in key order."""
    root = find_benchmark(path)
    bare = not (root / "dataset" / "ground-truth.json").is_file()

    def read(rel: str) -> bytes:
        return _git_show(root, rel) if bare else (root / rel).read_bytes()

    truth = json.loads(read("dataset/ground-truth.json"))
    pages = []
    for key in sorted(truth)[:limit]:
        entry = truth[key]
        html = gzip.decompress(read(f"dataset/html/{key}.html.gz")).decode("utf-8", errors="replace")
        prices = set()
        for value in entry.get("price", []):
            try:
                prices.add(Decimal(value))
            except InvalidOperation:
                pass
        pages.append(BenchPage(key, entry["url"], html, prices))
    return pages


def _decimal(value: float | str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _price_correct(reading: Reading, page: BenchPage) -> str | None:
    """"exact" when the reading is one of the annotated prices; "thousands" when it is an annotation times
    1,000 and the page shows it with a dot for thousands (the annotators read some pages' dot as a decimal
    mark: $24.990 in Chilean pesos annotated 24.99, $5.000 annotated 5) or wrote it with three decimals
    (23,450 rupees annotated 23.450)."""
    if reading.price is None:
        return None
    if any(reading.price == p.quantize(Decimal("0.01")) for p in page.prices):
        return "exact"
    dotted = f"{reading.price:,.0f}".replace(",", ".")
    if reading.price == reading.price.to_integral_value() and \
            any(reading.price == (p * 1000).quantize(Decimal("0.01")) and (dotted in page.html or
                                                                        p.as_tuple().exponent == -3)
                for p in page.prices):
        return "thousands"
    return None


# ---- the two readers -------------------------------------------------------------------------------

def wildwatch_reader(page: BenchPage, parser: str = "wildwatch") -> Reading:
    """wildwatch: `extract_listing` for the fields, `is_listing_page` for discovery's decision (the page
    reached as a listing link, as a crawl reaches it from a result page; and at a URL of no listing shape,
    linked plainly). ``parser="price-parser"`` reads the same price text with
    price-parser instead of `parse_price`, to measure the two parsers on the same texts."""
    from crawler.extractors.discovery import is_listing_page
    from crawler.extractors.listing import ExtractionError, extract_listing
    from crawler.extractors.price import parse_price

    try:
        extraction = extract_listing(page.html, page.url)
    except ExtractionError:
        return Reading(accepted=False)
    fields = extraction.fields
    if parser == "price-parser":
        from price_parser import Price

        parsed = Price.fromstring(str(fields.get("price") or ""), currency_hint=str(fields.get("currency") or ""))
        amount = parsed.amount_float
    else:
        amount = parse_price(fields.get("price"), fields.get("currency")).amount
    base = "{0.scheme}://{0.netloc}/".format(urlsplit(page.url))
    accepted = is_listing_page(page.html, page.url, base, extraction, hinted=True)
    plain = is_listing_page(page.html, base + "page", base, extraction, hinted=False)
    return Reading(fields.get("title"), fields.get("description"), _decimal(amount), accepted, plain)


def baseline_reader(page: BenchPage) -> Reading:
    """extruct + price-parser (the benchmark's own baseline code: OpenGraph, then JSON-LD, then microdata
    Product offers) for the price; title from the Product's name, else trafilatura's metadata; description
    from the Product, else trafilatura's main text."""
    import extruct
    import trafilatura
    from price_parser import Price

    try:
        data = extruct.extract(page.html, base_url=page.url, uniform=True,
                               syntaxes=["microdata", "opengraph", "json-ld"], errors="ignore")
    except Exception:  # noqa: BLE001 - a page extruct cannot read still gets trafilatura's reading
        data = {}
    title = description = price = None
    for syntax in ("opengraph", "json-ld", "microdata"):
        for node in data.get(syntax) or []:
            if not isinstance(node, dict):
                continue
            lowered = {str(k).lower(): v for k, v in node.items()}
            if syntax == "opengraph":
                amount = lowered.get("og:price:amount") or lowered.get("product:price:amount")
                currency = lowered.get("og:price:currency") or lowered.get("product:price:currency")
                title = title or lowered.get("og:title")
                description = description or lowered.get("og:description")
            elif "product" in str(lowered.get("@type", "")).lower():
                offers = lowered.get("offers") or {}
                offer = (offers[0] if offers and isinstance(offers, list) else offers) or {}
                offer = offer if isinstance(offer, dict) else {}
                amount = offer.get("price") or offer.get("highPrice") or offer.get("lowPrice")
                currency = offer.get("priceCurrency")
                title = lowered.get("name") or title
                description = lowered.get("description") or description
            else:
                continue
            if amount not in (None, ""):
                parsed = Price.fromstring(str(amount), currency_hint=str(currency or ""))
                if parsed.amount is not None:
                    price = _decimal(parsed.amount_float)
            break
    try:
        if not title:
            meta = trafilatura.extract_metadata(page.html)
            title = meta.title if meta else None
        if not description:
            description = trafilatura.extract(page.html, url=page.url)
    except Exception:  # noqa: BLE001
        pass
    return Reading(str(title) if title else None, str(description) if description else None, price, None)


# ---- figures ----------------------------------------------------------------------------------------

@dataclass
class Tally:
    pages: int = 0
    priced: int = 0
    title: int = 0
    description: int = 0
    price_correct: int = 0
    price_thousands: int = 0  # of price_correct: matched under the annotation's thousands reading
    cjk_priced: int = 0
    cjk_correct: int = 0
    accepted: int = 0
    accepted_unlinked: int = 0
    errors: int = 0
    wrong: list[str] = field(default_factory=list)

    def share(self, count: int, of: int | None = None) -> float:
        total = self.pages if of is None else of
        return 100.0 * count / total if total else 0.0


def measure(pages: list[BenchPage], reader: Callable[[BenchPage], Reading]) -> Tally:
    """One reader over every page; a page that raises counts as read with nothing (and is counted)."""
    tally = Tally()
    for page in pages:
        tally.pages += 1
        tally.priced += bool(page.prices)
        try:
            reading = reader(page)
        except Exception:  # noqa: BLE001 - one broken page never stops a run
            log.debug("reading %s failed", page.url, exc_info=True)
            tally.errors += 1
            reading = Reading(accepted=False)
        tally.title += bool(reading.title and reading.title.strip())
        tally.description += bool(reading.description and reading.description.strip())
        tally.accepted += bool(reading.accepted)
        tally.accepted_unlinked += bool(reading.accepted_unlinked)
        if page.prices:
            match = _price_correct(reading, page)
            tally.cjk_priced += page.cjk
            if match:
                tally.price_correct += 1
                tally.price_thousands += match == "thousands"
                tally.cjk_correct += page.cjk
            else:
                tally.wrong.append(f"{page.key[:10]} {page.url[:70]} got {reading.price} want "
                                   f"{', '.join(map(str, sorted(page.prices)))}")
    return tally


def crawl_stored(pages: list[BenchPage], models_dir: Path, workdir: Path, max_pages: int = 2000) -> dict:
    """A real `wildwatch crawl --url` over the pages: each served on 127.0.0.1 at its own path, one index page
    at / linking them all, `--render never`; how many of them were stored, in how many requests."""
    import functools
    import sqlite3
    import threading
    from html import escape
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote

    from bench.runs import child_env
    from wildwatch.config import PROJECT_ROOT

    site = workdir / "site"
    paths: dict[str, BenchPage] = {}
    for page in pages:
        path = unquote(urlsplit(page.url).path or "/")
        target = site / path.lstrip("/")
        target = target / "index.html" if path.endswith("/") else target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page.html, encoding="utf-8")
        except OSError:  # a path that is both a page and a folder of pages: served once
            continue
        paths.setdefault(path, page)
    links = "".join(f'<li><a href="{escape(p)}">{escape(p)}</a></li>' for p in paths)
    (site / "index.html").write_text(f"<html><head><title>Products</title></head><body><h1>Products</h1><ul>{links}"
                                     "</ul></body></html>", encoding="utf-8")
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def guess_type(self, path):  # noqa: D102 - every saved page is HTML, whatever its name
            return "text/html; charset=utf-8"

        def log_request(self, code="-", size="-"):  # noqa: D102
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    data_dir = workdir / "data"
    try:
        subprocess.run([sys.executable, "-m", "wildwatch", "crawl", "--url", f"http://127.0.0.1:{server.server_port}/",
                        "--delay", "0", "--render", "never", "--max-pages", str(max_pages)],
                       env=child_env(WILDWATCH_DATA_DIR=data_dir, WILDWATCH_MODELS_DIR=models_dir,
                                     WILDWATCH_DATABASE_URL=f"sqlite:///{data_dir / 'crawl.db'}"),
                       cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800)
    finally:
        server.shutdown()
        server.server_close()
    with sqlite3.connect(data_dir / "crawl.db") as db:
        stored = {unquote(urlsplit(url).path) for (url,) in db.execute("SELECT url FROM listings")}
    return {"pages": len(paths), "stored": len(stored & set(paths)), "requests": len(requests)}


def run_or_skip(path: str | Path | None = None, models_dir: Path | None = None,
                workdir: Path | None = None) -> StageResult:
    """`run`, or the stage marked skipped (with where to get what is missing) when the benchmark's pages or
    the baseline's libraries are not here: the other stages still run."""
    try:
        find_benchmark(path)
        import price_parser  # noqa: F401
        import trafilatura  # noqa: F401
    except (FileNotFoundError, ImportError) as exc:
        hint = " (pip install 'wildwatch[bench]')" if isinstance(exc, ImportError) else ""
        return StageResult(STAGE, skipped=f"{exc}{hint}")
    return run(path, models_dir=models_dir, workdir=workdir)


def run(path: str | Path | None = None, limit: int | None = None, models_dir: Path | None = None,
        workdir: Path | None = None) -> StageResult:
    """Title, price, description and discovery figures of wildwatch beside the baseline's, same pages, same run;
    with a model and a work folder, also what a real `crawl --url` over the pages stores."""
    pages = load_pages(path, limit)
    ours, base = measure(pages, wildwatch_reader), measure(pages, baseline_reader)
    with_pp = measure(pages, lambda page: wildwatch_reader(page, parser="price-parser"))
    baseline = "extruct + trafilatura + price-parser"
    result = StageResult(STAGE)
    n = ours.pages
    result.figures += [
        Figure(STAGE, f"price correct ({ours.priced} pages with a price)", ours.share(ours.price_correct, ours.priced),
               "%", baseline, base.share(base.price_correct, base.priced), goal="≥ 90%", goal_value=90),
        Figure(STAGE, f"description present ({n} pages)", ours.share(ours.description), "%", baseline,
               base.share(base.description), goal="≥ 95%", goal_value=95),
        Figure(STAGE, f"title present ({n} pages)", ours.share(ours.title), "%", baseline, base.share(base.title)),
        Figure(STAGE, f"accepted as listings by discovery ({n} product pages)", ours.share(ours.accepted), "%",
               goal="≥ 95%", goal_value=95, note="the baseline has no such decision"),
        Figure(STAGE, "accepted as listings, reached by a plain link (no listing-shaped URL, not a result card)",
               ours.share(ours.accepted_unlinked), "%", note="recognised by what the page shows alone"),
        Figure(STAGE, "price correct, wildwatch's price texts parsed by parse_price", ours.share(ours.price_correct,
               ours.priced), "%", "the same texts parsed by price-parser", with_pp.share(with_pp.price_correct,
                                                                                        with_pp.priced)),
    ]
    result.notes.append(f"price correct under the annotation's thousands reading (page shows 24.990, annotated "
                        f"24.99): wildwatch {ours.price_thousands}, baseline {base.price_thousands}, price-parser "
                        f"variant {with_pp.price_thousands}; exact matches only: wildwatch "
                        f"{ours.share(ours.price_correct - ours.price_thousands, ours.priced):.1f}%, baseline "
                        f"{base.share(base.price_correct - base.price_thousands, base.priced):.1f}%")
    result.notes.append(f"{n} pages of the Zyte product-extraction benchmark ({find_benchmark(path)}); "
                        f"page errors: wildwatch {ours.errors}, baseline {base.errors}")
    if ours.cjk_priced:
        result.figures.insert(2, Figure(STAGE, f"price correct on Chinese, Japanese and Korean shops' pages "
                                               f"({ours.cjk_priced})", ours.share(ours.cjk_correct, ours.cjk_priced),
                                        "%", baseline, base.share(base.cjk_correct, base.cjk_priced)))
    if models_dir is not None and workdir is not None:
        crawl = crawl_stored(pages, Path(models_dir), Path(workdir))
        result.figures.append(Figure(STAGE, f"stored by a real crawl --url from one index page ({crawl['pages']} "
                                     f"pages served on 127.0.0.1)", 100.0 * crawl["stored"] / max(crawl["pages"], 1),
                                     "%", note=f"{crawl['requests']} requests"))
        result.details["crawl"] = crawl
    result.details["wrong_prices"] = ours.wrong
    result.details["baseline_wrong_prices"] = base.wrong
    return result

