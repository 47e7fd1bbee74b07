"""Site configuration: one YAML file per marketplace, validated at load.

A new marketplace is a config file, not new code. Anything wrong in a file
(an unknown key, a bad selector, a bad regex) is reported with the file, the key
and the reason before a single request is sent.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlparse

import yaml
from parsel import Selector
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wildwatch.errors import UserError

FIELD_NAMES = (
    "listing_id", "title", "description", "price", "currency", "seller_id", "seller_name",
    "seller_url", "location", "images", "posted_at", "category",
)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class SiteConfigError(UserError, ValueError):
    """A site config file is missing, unreadable or invalid."""


def check_selector(selector: str) -> str:
    """Compile a CSS or XPath selector (prefix `xpath:`) once, so typos fail at load."""
    probe = Selector(text="<html><body></body></html>")
    try:
        if selector.startswith("xpath:"):
            probe.xpath(selector[len("xpath:"):])
        else:
            probe.css(selector)
    except Exception as exc:  # parsel raises several exception types for bad expressions
        raise ValueError(f"bad selector {selector!r}: {exc}") from None
    return selector


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkRules(_Strict):
    """How the spider walks the site: hubs to follow, detail links, next pages."""

    follow: list[str] = Field(default_factory=list, description="selectors of hub/category links")
    listing: list[str] = Field(default_factory=list, description="selectors of listing detail links")
    next_page: list[str] = Field(default_factory=list, description="selectors of next-page links")
    deny: list[str] = Field(default_factory=list, description="regexes of URLs never to fetch")
    listing_url_pattern: str | None = Field(
        default=None, description="regex a detail URL matches; named group `id` gives the listing id"
    )

    @field_validator("follow", "listing", "next_page")
    @classmethod
    def _selectors(cls, values: list[str]) -> list[str]:
        return [check_selector(value) for value in values]

    @field_validator("deny")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _check_regexes(values)

    @field_validator("listing_url_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            _compile(value)
        return value


class JavaScript(_Strict):
    """Which pages need a browser, and what to wait for before reading them."""

    mode: Literal["none", "all", "patterns"] = "none"
    url_patterns: list[str] = Field(default_factory=list)
    wait_for: str | None = Field(default=None, description="CSS selector present once the page has rendered")
    timeout_ms: int = Field(default=15000, ge=500, le=120000)

    @field_validator("url_patterns")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _check_regexes(values)

    @field_validator("wait_for")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return check_selector(value) if value else value

    @model_validator(mode="after")
    def _patterns_needed(self) -> "JavaScript":
        if self.mode == "patterns" and not self.url_patterns:
            raise ValueError("mode 'patterns' needs at least one entry in url_patterns")
        return self

    def needs_browser(self, url: str) -> bool:
        if self.mode == "all":
            return True
        if self.mode == "patterns":
            return any(re.search(pattern, url) for pattern in self.url_patterns)
        return False


class Politeness(_Strict):
    """Per-site manners; AutoThrottle adapts the delay to the server's latency on top."""

    download_delay: float = Field(default=0.5, ge=0, le=120)
    concurrency: int = Field(default=4, ge=1, le=64)
    autothrottle: bool = True
    obey_robots: bool = True
    max_pages: int = Field(default=0, ge=0, description="stop after this many responses (0 = no limit)")


class Limits(_Strict):
    """What one page may cost: bytes and seconds. A page past a limit is skipped with a counted reason,
    so one hostile page (20 MB of markup, a server that never answers) cannot exhaust memory or time."""

    max_page_mb: float = Field(default=10, gt=0, le=1024,
                               description="pages larger than this are not downloaded (rendered pages too)")
    warn_page_mb: float = Field(default=2, gt=0, le=1024, description="pages larger than this are logged")
    timeout_seconds: float = Field(default=30, ge=1, le=600, description="a request that takes longer fails")

    @model_validator(mode="after")
    def _warn_below_max(self) -> "Limits":
        if self.warn_page_mb > self.max_page_mb:
            raise ValueError(f"warn_page_mb ({self.warn_page_mb}) must not exceed max_page_mb ({self.max_page_mb})")
        return self


def _core_langs() -> tuple[str, ...]:
    from classifier.lexicon import CORE_LANGS

    return CORE_LANGS


class Search(_Strict):
    """Search-seeded crawling: the site's search URL queried with lexicon terms, a few each night."""

    url_template: str = Field(description="search URL with {query} (and optionally {page}), relative or absolute")
    encoding: str = Field(default="utf-8", description="how the query is percent-encoded (gbk on many Chinese sites)")
    groups: list[str] = Field(default_factory=list, description="lexicon groups to draw terms from (all when empty)")
    kinds: list[Literal["species", "product", "coded"]] = Field(
        default_factory=lambda: ["product", "species", "coded"], description="lexicon term kinds to search for")
    langs: list[str] = Field(
        default_factory=lambda: list(_core_langs()),
        description="lexicon languages whose terms are searched (add vi, id, es, fr, pt, de, it, tl or sw for a "
                    "marketplace in that language)")
    terms_per_night: int = Field(default=20, ge=1, le=10_000, description="cap on queries per night")
    max_pages_per_query: int = Field(default=3, ge=1, le=100, description="result pages followed per query")

    @field_validator("url_template")
    @classmethod
    def _template(cls, value: str) -> str:
        if "{query}" not in value:
            raise ValueError("needs a {query} placeholder, e.g. /search?q={query}")
        try:
            value.format(query="x", page=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"placeholders other than {{query}} and {{page}} are not allowed: {exc}") from None
        return value

    @field_validator("langs")
    @classmethod
    def _langs(cls, value: list[str]) -> list[str]:
        from classifier.lexicon import LANGS

        unknown = sorted(set(value) - LANGS)
        if unknown:
            raise ValueError(f"unknown lexicon language(s) {', '.join(unknown)}; use {', '.join(sorted(LANGS))}")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value


class Discover(_Strict):
    """Crawling a site with no selectors at all: listings found by URL shape and page structure."""

    enabled: bool = False
    render: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: render a page in Chromium when its raw HTML is an empty JavaScript shell")
    max_depth: int = Field(default=3, ge=0, le=20, description="link hops from the start pages (pagination is free)")
    max_pages_per_chain: int = Field(default=200, ge=1, le=10_000, description="next-page links followed in a row")


class Monitoring(_Strict):
    """Crawl-health limits checked by the Spidermon monitors at the end of every crawl."""

    min_listings: int = Field(default=1, ge=0, description="fewer listings than this fails the crawl's health")
    max_missing_share: float = Field(default=0.2, ge=0, le=1,
                                     description="share of detail pages without title or description allowed")
    max_error_share: float = Field(default=0.1, ge=0, le=1, description="errors per page fetched allowed")
    max_errors: int = Field(default=50, ge=0, description="errors allowed regardless of share")


class FieldRule(_Strict):
    """A selector plus an optional regex whose first group (or group `value`) is kept."""

    selector: str
    regex: str | None = None

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str) -> str:
        return check_selector(value)

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None and _compile(value).groups < 1:
            raise ValueError(f"regex {value!r} needs a capturing group for the value")
        return value


class SiteConfig(_Strict):
    """One marketplace."""

    name: str
    description: str = ""
    base_url: str
    start_urls: list[str] = Field(min_length=1)
    allowed_domains: list[str] = Field(default_factory=list)
    demo: bool = Field(default=False, description="served by `wildwatch nightly --demo`, skipped otherwise")
    enabled: bool = True
    links: LinkRules = Field(default_factory=LinkRules)
    fields: dict[str, FieldRule] = Field(default_factory=dict, description="field -> selector (or selector + regex)")
    javascript: JavaScript = Field(default_factory=JavaScript)
    politeness: Politeness = Field(default_factory=Politeness)
    limits: Limits = Field(default_factory=Limits)
    search: Search | None = Field(default=None, description="search URL template queried with lexicon terms")
    discover: Discover = Field(default_factory=Discover)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    currency: str | None = Field(default=None, description="currency assumed when a price names none")
    source_path: str | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (it names the spider)")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("fields", mode="before")
    @classmethod
    def _fields(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        for name in value:
            if name not in FIELD_NAMES:
                raise ValueError(f"unknown field {name!r}; known fields: {', '.join(FIELD_NAMES)}")
        # A bare string is shorthand for {selector: ...}.
        return {name: {"selector": rule} if isinstance(rule, str) else rule for name, rule in value.items()}

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("must be an ISO 4217 code such as CNY or USD")
        return value

    @model_validator(mode="after")
    def _urls(self) -> "SiteConfig":
        # Every URL the config makes the crawler fetch must be http(s): never file://, ftp:// or data:.
        for index, url in enumerate(self.start_urls):
            _http_url(urljoin(self.base_url, url), f"start_urls.{index}")
        if self.search is not None:
            example = self.search.url_template.format(query="x", page=1)
            _http_url(urljoin(self.base_url, example), "search.url_template")
        return self

    def needs_browser_at_all(self) -> bool:
        """Whether any page of this site may go through Chromium."""
        if self.discover.enabled:
            return self.discover.render != "never"
        return self.javascript.mode != "none"

    def absolute_start_urls(self) -> list[str]:
        return [urljoin(self.base_url, url) for url in self.start_urls]

    def domains(self) -> list[str]:
        """Domains the spider may fetch from (the base URL's host when none are listed)."""
        return self.allowed_domains or [urlparse(self.base_url).hostname or ""]

    def with_base_url(self, base_url: str) -> "SiteConfig":
        """The same site served elsewhere (the demo marketplace runs on a random port)."""
        data = self.model_dump()
        data["base_url"] = base_url
        if not self.allowed_domains or self.demo:
            data["allowed_domains"] = []
        data["source_path"] = self.source_path
        try:
            return SiteConfig.model_validate(data)
        except ValidationError as exc:
            raise SiteConfigError(f"{self.name}: {format_validation_error(exc)}") from None


def _compile(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None


def _check_regexes(values: list[str]) -> list[str]:
    """Compile every pattern once at load, so a typo names its key instead of failing mid-crawl."""
    for value in values:
        _compile(value)
    return values


def _http_url(value: str, key: str | None = None) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"{key + ': ' if key else ''}{value!r} is not an http(s) URL")
    return value


def load_site_config(path: Path) -> SiteConfig:
    """Read and validate one site file; errors name the file, the key and the reason."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SiteConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SiteConfigError(f"{path}:{where} is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise SiteConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        raise SiteConfigError(f"{path}: {format_validation_error(exc)}") from None
    return config.model_copy(update={"source_path": str(path)})


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        message = message.removeprefix("Value error, ")
        # Checks across keys (start_urls against base_url) name their key in the message.
        parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts)


def site_files(sites_dir: Path) -> list[Path]:
    return sorted(list(sites_dir.glob("*.yaml")) + list(sites_dir.glob("*.yml")))


def load_all_sites(sites_dir: Path) -> tuple[list[SiteConfig], list[str]]:
    """Every valid site in a folder, plus one error line per broken file (which is skipped)."""
    sites: list[SiteConfig] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in site_files(sites_dir):
        try:
            site = load_site_config(path)
        except SiteConfigError as exc:
            errors.append(str(exc))
            continue
        if site.name in seen:
            errors.append(f"{path}: name: {site.name!r} is already used by {seen[site.name]}")
            continue
        seen[site.name] = str(path)
        sites.append(site)
    return sites, errors


def resolve_site(spec: str, sites_dir: Path) -> SiteConfig:
    """A site given by name (a file in sites_dir) or by path to a config file."""
    candidate = Path(spec)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.exists():
            raise SiteConfigError(f"{candidate}: no such site config file")
        return load_site_config(candidate)
    for path in site_files(sites_dir):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(raw, dict) and raw.get("name") == spec:
            return load_site_config(path)
    known = ", ".join(p.stem for p in site_files(sites_dir)) or "none"
    raise SiteConfigError(f"no site named {spec!r} in {sites_dir} (known: {known})")


def site_name_for(url: str) -> str:
    """A marketplace name for a site known only by its URL: shop.example.com:8080 -> shop-example-com-8080."""
    parts = urlparse(url)
    name = re.sub(r"[^a-z0-9]+", "-", (parts.hostname or "").lower()).strip("-") or "site"
    if parts.port and parts.port not in (80, 443):
        name += f"-{parts.port}"
    return name[:64].rstrip("-_")


def discovery_site(url: str, *, name: str | None = None, render: str = "auto", max_pages: int = 2000,
                   max_depth: int = 3, obey_robots: bool = True, delay: float = 0.5) -> SiteConfig:
    """A config for a site never seen before (`wildwatch crawl --url`): no selectors, listings found
    by URL shape and page structure, same host only, bounded by depth and page budget."""
    try:
        _http_url(url)
    except ValueError as exc:
        raise SiteConfigError(f"--url: {exc}") from None
    parts = urlparse(url)
    base = f"{parts.scheme}://{parts.netloc}"
    data = {
        "name": name or site_name_for(url),
        "description": f"discovered from {url} (no site config)",
        "base_url": base,
        "start_urls": [url],
        "discover": {"enabled": True, "render": render, "max_depth": max_depth},
        "politeness": {"max_pages": max_pages, "obey_robots": obey_robots, "concurrency": 4,
                       "download_delay": delay, "autothrottle": delay > 0},
    }
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise SiteConfigError(f"--url {url}: {format_validation_error(exc)}") from None
