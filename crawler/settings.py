"""Scrapy settings for wildwatch: polite by default.

Only the values we mean are set; per-site politeness (delay, concurrency) comes
from the site config file and is applied per spider. Custom settings share the
WILDWATCH_ prefix.
"""
from wildwatch import __version__
from wildwatch.config import Settings as _Settings
from wildwatch.errors import UserError as _UserError

# The environment is read once, here (wildwatch.config), for `scrapy crawl` and scrapyd jobs; `wildwatch crawl`
# and `wildwatch nightly` set the same WILDWATCH_* values again from their own configuration
# (wildwatch.crawl.scrapy_settings). Components read only the Scrapy settings, never the environment.
_config = _Settings.from_env()

BOT_NAME = "wildwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# One spider class per site config file, so `scrapy list` shows marketplaces.
SPIDER_LOADER_CLASS = "crawler.spiderloader.SiteSpiderLoader"

# An honest user agent that says who we are and where to read about us.
USER_AGENT = f"wildwatch/{__version__} (+https://github.com/wildwatch/wildwatch; wildlife-trade monitoring)"
ROBOTSTXT_OBEY = True

# Politeness: per-domain concurrency and AutoThrottle; sites tune these in their config.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5  # each delay varies by ±50%
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Rendered pages that time out or fail to load (Playwright errors) are retried like network errors.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.CannotResolveHostError",
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    OSError,
    "scrapy.core.downloader.handlers.http11.TunnelError",
    "playwright.async_api.Error",
]
# Bounded time and memory against hostile or huge pages (each site's `limits` section overrides these;
# crawler.spiderloader): a larger page is skipped ("too large"), rendered pages included.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
DEPTH_LIMIT = 50
COOKIES_ENABLED = False

# Consoles that execute code stay off unless someone asks for them.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Pages that need JavaScript go through a browser; every other request stays plain HTTP.
# Scrapy also fetches file://, ftp://, s3:// and data: URLs by default: off, so no site config or
# hostile link can make the crawler read local files or leave HTTP (the spider refuses them too).
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "file": None,
    "ftp": None,
    "s3": None,
    "data": None,
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# Images, fonts and media are not needed to read a listing.
PLAYWRIGHT_ABORT_REQUEST = "crawler.browser.should_abort_request"
# Learn each JavaScript page template's JSON endpoint once and replay it without a browser (crawler.jsonreplay);
# a template whose endpoint fails this many pages in a row is dropped (its pages are rendered again).
WILDWATCH_JSON_REPLAY = True
WILDWATCH_JSON_REPLAY_MAX_FAILURES = 3
# PLAYWRIGHT_LAUNCH_OPTIONS is filled in by the spider loader (crawler.browser.launch_options).

ITEM_PIPELINES = {
    "crawler.pipelines.NormalisePipeline": 100,
    "crawler.pipelines.ValidatePipeline": 200,
    "crawler.pipelines.DeduplicatePipeline": 300,
    "crawler.pipelines.ScorePipeline": 400,
    "crawler.pipelines.StorePipeline": 500,
    # After the store: each listing's pictures are fetched as low-priority requests (crawler.images).
    "crawler.images.ImagesPipeline": 600,
}
# Listing images on unless WILDWATCH_IMAGES=0 (`--no-images` on crawl and nightly); limits per listing.
WILDWATCH_IMAGES = _config.images
WILDWATCH_IMAGES_MAX_PER_LISTING = 5
WILDWATCH_IMAGES_MAX_MB = 5
WILDWATCH_IMAGES_TYPES = "image/jpeg,image/png,image/gif,image/webp"
# Picture requests handed to Scrapy's scheduler at once; the rest wait as bare URLs (a few dozen bytes each,
# not a Request) until those are answered, so a night of 20k listings does not hold 40k requests in memory.
WILDWATCH_IMAGES_QUEUED = 64
# Listings written to the database per transaction.
WILDWATCH_STORE_BATCH_SIZE = 100
# Listings scored per classifier call (crawler.pipelines.ScorePipeline); 0: the store's batch size. A batch
# is scored at the latest this many seconds after its first listing arrived.
WILDWATCH_SCORE_BATCH_SIZE = 0
WILDWATCH_SCORE_WAIT_SECONDS = 1.0

# Crawl health: Spidermon runs crawler.monitors.CrawlHealthSuite when every crawl closes
# (minimum listings, missing required fields, errors, finish reason; limits per site config).
EXTENSIONS = {
    "spidermon.contrib.scrapy.extensions.Spidermon": 500,
}
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.monitors.CrawlHealthSuite"]

DOWNLOADER_MIDDLEWARES = {
    # robots.txt obeyed, with one INFO line per refused URL.
    # Discovery mode: requests of a link shape that turned out mostly 404/410 are dropped unsent.
    "crawler.middlewares.DeadLinkMiddleware": 90,
    # JavaScript detail pages of a template whose JSON endpoint was learned are read from that endpoint
    # with plain HTTP instead of a browser (crawler.jsonreplay); the endpoint request passes robots.txt below.
    "crawler.jsonreplay.JsonReplayMiddleware": 95,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.LoggingRobotsTxtMiddleware": 100,
    # Retries of 429/5xx slow the whole site down (Retry-After, else exponential backoff).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # Redirect loops are skipped with a reason; binary, garbled and zero-width pages are caught
    # (skipped or repaired, counted) before the spider sees them: crawler.pageguard.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.pageguard.LoopAwareRedirectMiddleware": 600,
    "crawler.pageguard.PageGuardMiddleware": 580,  # after HttpCompression (590) unpacked the body
    # Conditional requests (below), without serving stored pages when the site is down.
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "crawler.middlewares.RevalidatingCacheMiddleware": 900,
}
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0

# Conditional requests: pages with an ETag or Last-Modified are kept (per site, under the state
# directory set by wildwatch.crawl) and revalidated on the next crawl; unchanged pages cost a 304.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "crawler.middlewares.RevalidatePolicy"
HTTPCACHE_STORAGE = "crawler.middlewares.SiteCacheStorage"
HTTPCACHE_EXPIRATION_SECS = 0
HTTPCACHE_GZIP = True
# Where that state lives (wildwatch.config), so `scrapy crawl` and scrapyd jobs keep it where `wildwatch crawl`
# does; wildwatch.crawl sets both again for each run from its own configuration.
WILDWATCH_STATE_DIR = str(_config.state_dir)
HTTPCACHE_DIR = str(_config.state_dir / "httpcache")

# A killed crawl resumes from its journal (crawler.resume) when restarted within this many hours.
WILDWATCH_RESUME_MAX_AGE_HOURS = 24
# Stored listings are also flushed at least this often, so a killed crawl loses little work.
WILDWATCH_STORE_FLUSH_SECONDS = 5.0
# Before the run is closed, listings still in the spool get this many seconds of retries (crawler.pipelines).
WILDWATCH_SPOOL_REPLAY_WAIT = 15.0

# Where a crawl stores and what it scores with (wildwatch.config.Settings): the database, the model, the site
# configs, the data directory (spool files, pictures) and a Chromium of one's own (None: Playwright's build).
WILDWATCH_DATABASE_URL = _config.database_url
WILDWATCH_MODELS_DIR = str(_config.models_dir)
WILDWATCH_THRESHOLD = _config.threshold  # None: the model's own threshold
WILDWATCH_SITES_DIR = str(_config.sites_dir)
WILDWATCH_DATA_DIR = str(_config.data_dir)
WILDWATCH_CHROMIUM = _config.chromium_path

# Distributed crawls (crawler.distributed; on only with WILDWATCH_REDIS_URL, which `--workers` sets): how long
# a silent worker keeps its requests, how often a worker commits and acks, how long an idle one waits.
WILDWATCH_WORKER_LEASE_SECONDS = _config.worker_lease_seconds
WILDWATCH_WORKER_CHECKPOINT_SECONDS = _config.worker_checkpoint_seconds
WILDWATCH_WORKER_MAX_IDLE_SECONDS = _config.worker_max_idle_seconds

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"


class MissingSetting(_UserError):
    """A WILDWATCH_* value this module defines is absent: the crawl was not started with the project's settings."""

    def __init__(self, name: str):
        super().__init__(f"the Scrapy setting {name} is not set: run the crawl with `wildwatch crawl`, or with "
                         "SCRAPY_SETTINGS_MODULE=crawler.settings (scrapy.cfg does this for `scrapy crawl`)")


def required(settings, name: str, get: str = "get"):
    """`settings.<get>(name)` for a value crawler.settings always defines; MissingSetting when it is absent,
    so a component never falls back to a default of its own (or to the environment)."""
    if settings.get(name) in (None, ""):
        raise MissingSetting(name)
    return getattr(settings, get)(name)
