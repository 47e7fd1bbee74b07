"""JavaScript pages without a browser each time: learn a page template's JSON endpoint once, then replay it.

A page that draws its listing from a JSON endpoint (XHR/fetch) costs a Chromium render per page. Here the
first page of a template (same URL shape: /app/item/<id>, /m/goods.php?id=<id>) is rendered while the
JSON answers the page fetches are recorded (Playwright's `response` event, through scrapy-playwright's
`playwright_page_event_handlers`). When one recorded answer holds every field the rendered extraction
found, two things are learned: a mapping from JSON paths to listing fields (with the small transform
each needs: paragraphs, whitespace, a URL joined onto the page) and a URL template that turns the page
URL into the endpoint URL (/app/item/ABC -> /api/items/ABC). A second page is rendered to confirm both;
then the template's other pages are fetched from the endpoint with plain HTTP through the same
downloader middlewares as every page (robots.txt for the endpoint URL, AutoThrottle, retries, user agent)
and the listing is built from the JSON through the mapping.

Rendering stays for every page where that fails (endpoint error, refused by robots.txt, JSON no longer
matching: missing fields or another shape), each with a counted, logged reason, and a template is
dropped after `WILDWATCH_JSON_REPLAY_MAX_FAILURES` failures in a row. Only GET requests to the page's own
registrable domain, without a body and without credential-looking parameters or headers, are replayed.

Evidence: a listing read from the endpoint has `extraction = "json-endpoint"` and `rendered = False`
(a rendered one keeps its extraction method and `rendered = True`); the crawl stats count both ways
under `wildwatch/json_replay/`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

import scrapy

logger = logging.getLogger(__name__)

EXTRACTION = "json-endpoint"  # the `extraction` of a listing read from a replayed endpoint
MAX_JSON_BYTES = 2 * 1024 * 1024
# A template whose first renders show no usable endpoint is not recorded again after this many tries.
MAX_LEARN_ATTEMPTS = 3
# Recorded renders of an unknown template at once: one to learn from, one to confirm it, side by side.
LEARNING_RENDERS = 2
# Query parameter or header names that carry credentials or one-time values: such a request is not replayed.
_CREDENTIAL_NAME = re.compile(
    r"(^|[_\-.])(token|access[_-]?token|auth\w*|session\w*|sess|sid|ssid|secret|passw\w*|pwd|sig|signature|"
    r"csrf\w*|xsrf\w*|api[_-]?key|apikey|key|nonce|jwt|bearer|credential\w*|cookie)($|[_\-.])", re.I)
_CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization", "x-csrf-token", "x-xsrf-token",
                       "x-api-key", "x-auth-token"}
_RECORDED_TYPES = {"fetch", "xhr"}


# ---- same site ------------------------------------------------------------------------------

_EXTRACT = None


def registrable_domain(url: str) -> str:
    """The registrable domain of a URL's host (example.co.uk for shop.example.co.uk); an IP address or
    a single-label host is its own. The public suffix list is tldextract's bundled copy: no network."""
    global _EXTRACT
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host or re.fullmatch(r"[\d.]+|[0-9a-f:]+", host) or "." not in host:
        return host
    if _EXTRACT is None:
        import tldextract

        # Private suffixes too (github.io, blogspot.com): two tenants there are two sites.
        _EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
    parts = _EXTRACT(host)
    return parts.top_domain_under_public_suffix or host


def same_registrable_domain(url: str, page_url: str) -> bool:
    """An endpoint the page's own site serves (any subdomain of the same registrable domain), http(s) only."""
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    return registrable_domain(url) == registrable_domain(page_url) != ""


# ---- recorded requests ----------------------------------------------------------------------

@dataclass
class Recorded:
    """One JSON answer a rendered page fetched."""

    url: str
    method: str
    resource_type: str
    has_body: bool
    header_names: frozenset[str]
    status: int
    data: Any


def not_replayable(recorded: Recorded, page_url: str) -> str | None:
    """Why a recorded request must not be replayed with plain HTTP, or None when it may be."""
    if recorded.method.upper() != "GET":
        return "method"
    if recorded.has_body:
        return "request_body"
    if not same_registrable_domain(recorded.url, page_url):
        return "other_site"
    names = [name for name, _ in parse_qsl(urlsplit(recorded.url).query, keep_blank_values=True)]
    if any(_CREDENTIAL_NAME.search(name) for name in names) or urlsplit(recorded.url).username:
        return "credentials"
    if recorded.header_names & _CREDENTIAL_HEADERS:
        return "credentials"
    if recorded.status != 200:
        return "status"
    return None


# ---- page templates and URL templates -------------------------------------------------------

def template_key(url: str) -> str:
    """A page's template: host and path with its last segment and every query value wildcarded
    (/app/item/* ; /m/goods.php?id=* keeps the script name, its id is in the query)."""
    parts = urlsplit(url)
    trailing = len(parts.path) > 1 and parts.path.endswith("/")
    segments = parts.path.rstrip("/").split("/")
    if len(segments) > 1 and segments[-1] and not (parts.query and "." in segments[-1]):
        segments[-1] = "*"
    keys = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    query = "&".join(f"{name}=*" for name in keys)
    path = "/".join(segments) + ("/" if trailing else "")
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{query}" if query else "")


def _url_tokens(url: str, listing_id: str | None = None) -> list[str]:
    """Values in a page URL that may name the listing, likeliest first: the listing's id, query values,
    the last path segment, then the other path segments (longest first)."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    values = sorted((value for _, value in parse_qsl(parts.query)), key=len, reverse=True)
    ordered = ([listing_id] if listing_id else []) + values + segments[-1:] + \
        sorted(segments[:-1], key=len, reverse=True)
    seen: list[str] = []
    for token in ordered:
        if token and len(token) >= 2 and token not in seen:
            seen.append(token)
    return seen


@dataclass(frozen=True)
class UrlTemplate:
    """Page URL -> endpoint URL: the page regex's `id` group fills the endpoint's `{id}`."""

    page_pattern: str
    endpoint: str

    def endpoint_for(self, page_url: str) -> str | None:
        match = re.fullmatch(self.page_pattern, page_url)
        if not match:
            return None
        return self.endpoint.replace("{id}", quote(unquote(match.group("id")), safe=""))


def learn_url_template(page_url: str, endpoint_url: str, listing_id: str | None = None) -> UrlTemplate | None:
    """The template that maps this page URL to this endpoint URL, from the one value they share
    (both compared unquoted)."""
    plain_page, plain_endpoint = unquote(page_url), unquote(endpoint_url)
    for token in _url_tokens(page_url, listing_id):
        if plain_endpoint.count(token) != 1 or plain_page.count(token) != 1:
            continue
        at = plain_page.index(token)
        pattern = re.escape(plain_page[:at]) + r"(?P<id>[^/?#&]+)" + re.escape(plain_page[at + len(token):])
        at = plain_endpoint.index(token)
        return UrlTemplate(pattern, plain_endpoint[:at] + "{id}" + plain_endpoint[at + len(token):])
    return None


def _normalise_page_url(url: str) -> str:
    return unquote(url)


# ---- JSON paths -> listing fields ----------------------------------------------------------

Path = tuple  # of str keys and int indexes


def _walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every scalar (and every list of scalars) in a JSON document, with its path."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, path + (str(key),))
    elif isinstance(data, list):
        if data and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in data):
            yield path, data
        for index, value in enumerate(data[:50]):
            if isinstance(value, (dict, list)):
                yield from _walk(value, path + (index,))
    elif isinstance(data, (str, int, float)) and not isinstance(data, bool):
        yield path, data


def _get(data: Any, path: Path) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or step >= len(data):
                return None
            data = data[step]
        else:
            if not isinstance(data, dict) or step not in data:
                return None
            data = data[step]
    return data


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# Text transforms from a JSON value to what the rendered page shows. A value that several of them turn into
# the rendered text (a one-line description) leaves them all as candidates until a page tells them apart.
TRANSFORMS = {
    "same": lambda s: s,
    "strip": lambda s: s.strip(),
    "spaces": lambda s: " ".join(s.split()),
    "paragraphs": lambda s: "\n\n".join(_lines(s)),
    "lines": lambda s: "\n".join(_lines(s)),
}


class Ambiguous(ValueError):
    """The candidate transforms of a field give different values for this answer."""


@dataclass(frozen=True)
class FieldMap:
    """How one listing field is read from the JSON: `prefix + transform(value at path) + suffix`,
    then joined onto the page URL when `url` (the rendered extraction makes links absolute)."""

    path: Path
    transforms: tuple[str, ...] = ("same",)
    prefix: str = ""
    suffix: str = ""
    url: bool = False
    many: bool = False

    def _candidates(self, value: Any, page_url: str) -> set[str] | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return None
        out = set()
        for name in self.transforms:
            text = self.prefix + TRANSFORMS[name](str(value)) + self.suffix
            out.add(urljoin(page_url, text) if self.url else text)
        return out

    def _one(self, value: Any, page_url: str) -> str | None:
        values = self._candidates(value, page_url)
        if values is None:
            return None
        if len(values) > 1:
            raise Ambiguous(str(self.path))
        return values.pop()

    def read(self, data: Any, page_url: str) -> Any:
        """The field's value; None when the JSON no longer holds it; Ambiguous when transforms disagree."""
        value = _get(data, self.path)
        if self.many:
            if not isinstance(value, list):
                return None
            out = [self._one(v, page_url) for v in value]
            return None if any(v is None for v in out) else out
        return self._one(value, page_url)

    def narrowed(self, data: Any, page_url: str, target: Any) -> "FieldMap | None":
        """This map keeping only the transforms that turn `data` into `target`; None when none does."""
        value = _get(data, self.path)
        pairs = list(zip(value, target)) if self.many and isinstance(value, list) and isinstance(target, list) \
            and len(value) == len(target) else ([] if self.many else [(value, target)])
        if not pairs and target:
            return None
        keep = []
        for name in self.transforms:
            probe = FieldMap(self.path, (name,), self.prefix, self.suffix, self.url)
            if all((probe._candidates(v, page_url) or set()) == {str(t)} for v, t in pairs):
                keep.append(name)
        return FieldMap(self.path, tuple(keep), self.prefix, self.suffix, self.url, self.many) if keep else None


def _match_scalar(target: str, value: Any, page_url: str, url_field: bool) -> FieldMap | None:
    """The FieldMap (path filled in later) that turns `value` into `target`, or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value)
    names = tuple(name for name, transform in TRANSFORMS.items() if transform(text) == target)
    if names:
        return FieldMap((), names)
    if url_field and text and urljoin(page_url, text) == target:
        return FieldMap((), ("same",), url=True)
    # A value inside fixed text (a seller link built from a seller id): affixes, joined onto the page.
    if len(text) >= 3 and text in target:
        at = target.index(text)
        prefix, suffix = target[:at], target[at + len(text):]
        if url_field and prefix.startswith(("http://", "https://")):
            # Keep only the path part of the prefix: the host is the page's own.
            split = urlsplit(prefix)
            if (split.scheme, split.netloc) == tuple(urlsplit(page_url)[:2]):
                return FieldMap((), ("same",), prefix[len(f"{split.scheme}://{split.netloc}"):], suffix, url=True)
        return FieldMap((), ("same",), prefix, suffix)
    return None


def learn_mapping(fields: dict[str, Any], sources: dict[str, str], data: Any, page_url: str,
                  url_fields: set[str]) -> tuple[dict[str, FieldMap], list[str]]:
    """A FieldMap for every extracted field found in `data`, and the fields found nowhere.

    Fields the extraction took from the page URL (source "url") are not looked for: they are
    derived from the URL again."""
    candidates = list(_walk(data))
    mapping: dict[str, FieldMap] = {}
    missing: list[str] = []
    for name, target in fields.items():
        if sources.get(name) == "url" or target in (None, "", []):
            continue
        found = None
        for path, value in candidates:
            if isinstance(target, list):
                if not isinstance(value, list) or len(value) != len(target):
                    continue
                maps = [_match_scalar(str(t), v, page_url, name in url_fields) for t, v in zip(target, value)]
                if maps and all(m is not None for m in maps) and \
                        len({(m.prefix, m.suffix, m.url) for m in maps}) == 1:
                    common = tuple(n for n in maps[0].transforms if all(n in m.transforms for m in maps))
                    if common:
                        found = FieldMap(path, common, maps[0].prefix, maps[0].suffix, maps[0].url, many=True)
            elif not isinstance(value, list):
                match = _match_scalar(str(target), value, page_url, name in url_fields)
                if match is not None:
                    found = FieldMap(path, match.transforms, match.prefix, match.suffix, match.url)
            if found is not None:
                break
        if found is None:
            missing.append(name)
        else:
            mapping[name] = found
    return mapping, missing


def narrow_mapping(mapping: dict[str, FieldMap], data: Any, page_url: str,
                   wanted: dict[str, Any]) -> dict[str, FieldMap] | None:
    """The mapping keeping, per field, the transforms this page confirms; None when the page contradicts it
    (a field of the page the mapping does not give, or one no transform reproduces)."""
    if set(wanted) != set(mapping):
        return None
    out = {}
    for name, field_map in mapping.items():
        narrowed = field_map.narrowed(data, page_url, wanted[name])
        if narrowed is None:
            return None
        out[name] = narrowed
    return out


def apply_mapping(mapping: dict[str, FieldMap], data: Any, page_url: str) -> tuple[dict[str, Any], list[str]]:
    """The listing's fields read from `data`, and the mapped fields it no longer holds.
    Raises Ambiguous when a field's remaining transforms disagree on this answer."""
    fields: dict[str, Any] = {}
    missing: list[str] = []
    for name, field_map in mapping.items():
        value = field_map.read(data, page_url)
        if value in (None, "", []):
            missing.append(name)
        else:
            fields[name] = value
    return fields, missing


# ---- per-template state ---------------------------------------------------------------------

@dataclass
class Template:
    """What is known about one page template."""

    key: str
    status: str = "unknown"  # unknown, candidate (learned, unconfirmed), confirmed, dropped, refused, none
    url_template: UrlTemplate | None = None
    mapping: dict[str, FieldMap] = field(default_factory=dict)
    url_fields: frozenset[str] = frozenset()  # fields derived from the page URL, not the JSON
    attempts: int = 0
    failures: int = 0  # replay failures in a row
    in_flight: int = 0  # recorded renders of this template under way
    announced: bool = False  # counted and logged as learned (once per learned mapping)
    changed: asyncio.Event | None = None

    def notify(self) -> None:
        if self.changed is not None:
            self.changed.set()
            self.changed = None


class JsonReplay:
    """The spider's JSON-endpoint replay: routing of detail-page requests, recording, learning, reading."""

    def __init__(self, spider, *, max_failures: int = 3, wait_seconds: float = 60.0):
        self.spider = spider
        self.max_failures = max_failures
        self.wait_seconds = wait_seconds
        self.templates: dict[str, Template] = {}
        self.recordings: dict[str, list[Recorded]] = {}
        self.robots_check = None  # the robots.txt middleware's process_request, set by JsonReplayMiddleware

    def _count(self, key: str) -> None:
        self.spider._count("json_replay/" + key)

    # -- routing (downloader middleware) --

    async def route(self, request: scrapy.Request) -> scrapy.Request | None:
        """None: render this page (recording its JSON answers while the template is learned);
        or the endpoint request that replaces the rendering."""
        key = template_key(request.url)
        template = self.templates.setdefault(key, Template(key))
        while template.status in ("unknown", "candidate"):
            # Two pages of an unknown template are rendered and recorded side by side (one teaches, the other
            # confirms); one more when a candidate waits for its confirmation. The template's other pages wait
            # for the outcome rather than be rendered too.
            if template.in_flight < (LEARNING_RENDERS if template.status == "unknown" else 1):
                template.in_flight += 1
                self.record(request, key)
                return None
            if template.changed is None:
                template.changed = asyncio.Event()
            try:
                await asyncio.wait_for(template.changed.wait(), self.wait_seconds)
            except asyncio.TimeoutError:
                if template.status in ("unknown", "candidate") and template.in_flight:
                    # The learning renders never reported back (cancelled, lost): stop waiting for them, bounded.
                    template.in_flight = 0
                    self._give_up_or_retry(template, "its render never finished")
                    template.notify()
                return None
        if template.status != "confirmed":
            return None
        assert template.url_template is not None
        endpoint = template.url_template.endpoint_for(_normalise_page_url(request.url))
        if endpoint is None:
            self._count("fallback/url_not_in_template")
            return None
        replacement = self._endpoint_request(request, endpoint, key)
        if self.robots_check is not None:
            # robots.txt for the endpoint URL is read here, before the request exists for the scheduler: an
            # endpoint the site disallows is never fetched, and its template is refused on the first one.
            from scrapy.exceptions import IgnoreRequest

            try:
                await self.robots_check(replacement)
            except IgnoreRequest:
                self.failed(key, "robots", request.url, counts_against=False, detail=endpoint)
                return None
        return replacement

    def record(self, request: scrapy.Request, key: str) -> None:
        """Record the JSON answers of this request's render (its template is learned from them)."""
        request.meta["jsonapi_record"] = key
        handlers = dict(request.meta.get("playwright_page_event_handlers") or {})
        handlers["response"] = "record_json_response"  # the spider's method, by name: requests stay serialisable
        request.meta["playwright_page_event_handlers"] = handlers
        self.recordings[_normalise_page_url(request.url)] = []
        if len(self.recordings) > 256:  # pages whose callback never ran (cancelled): forget the oldest
            self.recordings.pop(next(iter(self.recordings)))

    def _endpoint_request(self, request: scrapy.Request, endpoint: str, key: str) -> scrapy.Request:
        keep = {k: v for k, v in request.meta.items()
                if k in ("listing_id", "listing_hint", "hops", "chain", "search_term", "search_page", "found_on",
                         "wildwatch_page")}
        callback = request.callback.__name__ if request.callback else "parse_listing"
        meta = {**keep, "jsonapi_page": request.url, "jsonapi_key": key, "jsonapi_callback": callback,
                "jsonapi_priority": request.priority}
        return scrapy.Request(endpoint, callback=self.spider.parse_json_listing, errback=self.spider.on_json_error,
                              headers={"Accept": "application/json"}, meta=meta, priority=request.priority,
                              dont_filter=True)

    # -- recording (Playwright response event) --

    async def on_response(self, response) -> None:
        """Keep a fetch/XHR JSON answer of a page being learned. Never raises: recording is best effort."""
        try:
            request = response.request
            if request.resource_type not in _RECORDED_TYPES:
                return
            page_url = _normalise_page_url(response.frame.page.url)
            bucket = self.recordings.get(page_url)
            if bucket is None:
                return
            headers = await response.all_headers()
            if "json" not in headers.get("content-type", "").lower():
                return
            body = await response.body()
            if len(body) > MAX_JSON_BYTES:
                return
            request_headers = await request.all_headers()
            bucket.append(Recorded(
                url=request.url, method=request.method, resource_type=request.resource_type,
                has_body=bool(request.post_data_buffer), header_names=frozenset(h.lower() for h in request_headers),
                status=response.status, data=json.loads(body),
            ))
        except Exception as exc:  # noqa: BLE001 - a closed page or a bad body only means nothing is recorded
            logger.debug("JSON answer not recorded: %r", exc)

    # -- learning (spider callback of the rendered page) --

    def learned_from_render(self, response, extraction) -> None:
        """After a recorded render: learn or confirm the template from its JSON answers and fields."""
        key = response.meta.get("jsonapi_record")
        if not key:
            return
        template = self.templates.setdefault(key, Template(key))
        template.in_flight = max(0, template.in_flight - 1)
        page_url = _normalise_page_url(response.meta.get("jsonapi_page") or response.request.url)
        recorded = self.recordings.pop(page_url, None) or self.recordings.pop(_normalise_page_url(response.url), [])
        try:
            self._learn(template, page_url, extraction, recorded)
        finally:
            template.notify()

    def abandon(self, request) -> None:
        """A recorded render that failed: its template goes back to where it was."""
        key = request.meta.get("jsonapi_record")
        if not key or key not in self.templates:
            return
        template = self.templates[key]
        self.recordings.pop(_normalise_page_url(request.url), None)
        template.in_flight = max(0, template.in_flight - 1)
        if template.status in ("unknown", "candidate"):
            self._give_up_or_retry(template, "the render failed")
        template.notify()

    def _give_up_or_retry(self, template: Template, why: str) -> None:
        """Bounded: a template whose renders keep failing is not held back for learning forever."""
        template.attempts += 1
        if template.attempts >= MAX_LEARN_ATTEMPTS:
            template.status = "none"
            self._count("templates_without_endpoint")
            logger.info("no JSON endpoint learned for pages like %s after %d renders (last: %s): they stay rendered",
                        template.key, template.attempts, why)

    def _learn(self, template: Template, page_url: str, extraction, recorded: list[Recorded]) -> None:
        verifying = template.status in ("candidate", "confirmed")
        if template.status not in ("unknown", "candidate", "confirmed"):
            return  # dropped or refused meanwhile
        if template.status == "confirmed" and extraction is None:
            return
        if extraction is None:  # the rendered page gave no listing: nothing to learn from
            self._give_up_or_retry(template, "no listing on the rendered page")
            return
        url_fields = frozenset(n for n, s in extraction.sources.items() if s == "url")
        if verifying and template.url_template is not None:
            endpoint = template.url_template.endpoint_for(page_url)
            for item in recorded:
                if unquote(item.url) == (unquote(endpoint) if endpoint else None):
                    wanted = {k: v for k, v in extraction.fields.items()
                              if k not in url_fields and v not in (None, "", [])}
                    narrowed = narrow_mapping(template.mapping, item.data, page_url, wanted)
                    if narrowed is not None:
                        template.mapping = narrowed
                        if template.status == "confirmed":  # a refining render of a confirmed template
                            return
                        template.status = "confirmed"
                        template.failures = 0
                        if template.announced:
                            return
                        template.announced = True
                        self._count("templates_learned")
                        logger.info("JSON endpoint learned for pages like %s: %s (fields %s); later pages of this "
                                    "template are read from it without a browser", template.key,
                                    template.url_template.endpoint, ", ".join(sorted(template.mapping)))
                        return
            if template.status == "confirmed":
                logger.info("refining render of %s does not match its JSON endpoint's answer", page_url)
                return
            logger.info("JSON endpoint for %s not confirmed on %s: learning again", template.key, page_url)
        template.attempts += 1
        reasons = []
        for item in recorded:
            reason = not_replayable(item, page_url)
            if reason:
                self._count(f"not_replayable/{reason}")
                reasons.append(f"{item.url}: {reason.replace('_', ' ')}")
                continue
            mapping, missing = learn_mapping(extraction.fields, extraction.sources, item.data, page_url,
                                             url_fields={"seller_url", "images"})
            if missing or not mapping.get("title"):
                reasons.append(f"{item.url}: fields not in the JSON: {', '.join(missing) or 'title'}")
                continue
            listing_id = extraction.fields.get("listing_id")
            url_template = learn_url_template(page_url, item.url, str(listing_id) if listing_id else None)
            if url_template is None:
                reasons.append(f"{item.url}: the page URL does not name it")
                continue
            template.mapping, template.url_template, template.url_fields = mapping, url_template, url_fields
            template.status = "candidate"
            return
        if template.attempts >= MAX_LEARN_ATTEMPTS:
            template.status = "none"
            self._count("templates_without_endpoint")
            logger.info("no replayable JSON endpoint for pages like %s after %d renders (%s): they stay rendered",
                        template.key, template.attempts, "; ".join(reasons[:3]) or "no JSON answers recorded")
        else:
            template.status = "unknown"

    # -- reading (spider callback of the endpoint) --

    def read(self, response) -> tuple[dict[str, Any] | None, str]:
        """(fields, "") from an endpoint answer, or (None, reason) when it no longer gives the listing."""
        key = response.meta["jsonapi_key"]
        template = self.templates.get(key)
        if template is None or template.status != "confirmed":
            return None, "template_unconfirmed"  # dropped or being told apart since this request was made
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if "json" not in content_type:
            return None, "not_json"
        try:
            data = json.loads(response.text)
        except (ValueError, AttributeError):
            return None, "not_json"
        try:
            fields, missing = apply_mapping(template.mapping, data, response.meta["jsonapi_page"])
        except Ambiguous:
            # Back to a candidate: the next page of the template routed is rendered and recorded to tell the
            # transforms apart (see `route`), the others wait for it.
            template.status = "candidate"
            return None, "ambiguous"
        if missing:
            return None, "missing_fields"
        return fields, ""

    async def wait_confirmed(self, key: str) -> bool:
        """Wait (bounded) while the template is a candidate being told apart; True once it is confirmed."""
        template = self.templates.get(key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while template is not None and template.status == "candidate" and loop.time() < deadline:
            if template.changed is None:
                template.changed = asyncio.Event()
            try:
                await asyncio.wait_for(template.changed.wait(), max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                break
        return template is not None and template.status == "confirmed"

    def succeeded(self, key: str) -> None:
        template = self.templates.get(key)
        if template is not None:
            template.failures = 0
        self._count("listings")

    def failed(self, key: str, reason: str, page_url: str, *, counts_against: bool = True,
               detail: str = "") -> None:
        """One page that falls back to rendering; the template is dropped after repeated failures."""
        self._count(f"fallback/{reason}")
        (logger.warning if counts_against else logger.info)(
            "reading %s from its JSON endpoint failed (%s%s): rendering it instead", page_url,
            reason.replace("_", " "), f": {detail}" if detail else "")
        template = self.templates.get(key)
        if template is None or template.status != "confirmed":
            return
        if reason in ("robots", "refused"):
            template.status = "refused"
            self._count("templates_dropped")
            logger.warning("robots.txt disallows the JSON endpoint of %s (%s): not replayed; its pages are rendered",
                           key, template.url_template.endpoint if template.url_template else "?")
            return
        if not counts_against:
            return
        template.failures += 1
        if template.failures >= self.max_failures:
            self._count("templates_dropped")
            logger.warning("JSON endpoint of %s dropped after %d failures in a row (last: %s); its pages are rendered, "
                           "and it may be learned again", key, template.failures, reason.replace("_", " "))
            template.status = "unknown" if template.attempts < MAX_LEARN_ATTEMPTS else "dropped"
            template.failures = 0
            template.mapping, template.url_template, template.announced = {}, None, False


class JsonReplayMiddleware:
    """Downloader middleware: a detail page bound for the browser is routed by the spider's JsonReplay
    (rendered and recorded, or replaced by its endpoint request). Placed before robots.txt, so the
    endpoint request passes every middleware a page does."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        replay = getattr(spider, "json_replay", None)
        if replay is None or not request.meta.get("playwright") or request.meta.get("jsonapi_render") \
                or request.meta.get("wildwatch_page") != "detail":
            return None
        if replay.robots_check is None:
            replay.robots_check = self._robots_check()
        return await replay.route(request)

    def _robots_check(self):
        """The enabled robots.txt middleware's check (raises IgnoreRequest), or a no-op when robots are not obeyed."""
        from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

        engine = getattr(self.crawler, "engine", None)
        for middleware in getattr(getattr(engine, "downloader", None), "middleware", None).middlewares \
                if engine else ():
            if isinstance(middleware, RobotsTxtMiddleware):
                return middleware.process_request

        async def allowed(request):
            return None

        return allowed
