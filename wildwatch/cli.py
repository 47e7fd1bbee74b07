"""The `wildwatch` command: nightly run, crawl, classify, export, train, and housekeeping.

User mistakes (a bad file, a bad option, a missing model) end with one line that
names what is wrong and where, and exit code 2; never a stack trace.
"""
from __future__ import annotations

import functools
import logging
import re
import sys
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from wildwatch.config import Settings, redact_url

app = typer.Typer(
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

console = Console()
err_console = Console(stderr=True)


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean 'your input is wrong', reported in one line with exit code 2."""
    from classifier.artifacts import ModelIncompatibleError, ModelNotFoundError
    from classifier.lexicon import LexiconError
    from crawler.browser import BrowserNotFoundError
    from crawler.siteconfig import SiteConfigError
    from store.errors import StoreError
    from wildwatch.demo.catalog import CatalogError
    from wildwatch.nightly import NightlyError

    return (SiteConfigError, LexiconError, ModelNotFoundError, ModelIncompatibleError, BrowserNotFoundError,
            StoreError, CatalogError, NightlyError, FileNotFoundError)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handles_user_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except _user_errors() as exc:
            fail(str(exc))
    return wrapper


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        fail(str(exc))
        raise  # unreachable


def _configure_logging(verbose: bool) -> None:
    """Warnings on the terminal (everything with --verbose); the full log goes to the run's log file."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)


def parse_since(value: str | None) -> datetime | None:
    """An ISO date/time, or a span back from now: 36h, 7d, 2w."""
    if not value:
        return None
    match = re.fullmatch(r"(\d+)\s*([hdw])", value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]
        return datetime.now(timezone.utc) - delta
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
        status = o.error or ("; ".join(o.health_problems) if o.health_problems else s.get("finish_reason", ""))
        table.add_row(o.site, *(str(s.get(key, "")) for _, key in columns[1:]), status)
    return table


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
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Scrapy's log on the terminal."),
) -> None:
    """The main job: crawl every configured marketplace, score, store, export the night's flagged listings."""
    from wildwatch.nightly import run_nightly

    from wildwatch.export import resolve_format

    _configure_logging(verbose)
    config = _settings()
    try:
        export_format = fmt.value if fmt else (resolve_format(output, None) if output else "csv")
    except ValueError as exc:
        fail(str(exc))
    console.print(f"wildwatch nightly: database {redact_url(config.database_url)}")
    live, on_item = _progress_counter()
    with live:
        report = run_nightly(config, demo=demo, demo_night=demo_night, export_format=export_format,
                             export_path=output, log_level="INFO", on_item=on_item)
    title = f"Nightly run {report.nightly_id}" + (f" (demo night {report.demo_night})" if report.demo_night else "")
    console.print(_summary_table(report.outcomes, title))
    totals = report.totals()
    console.print(
        f"pages {totals['pages']} (rendered {totals['rendered_pages']}), listings {totals['listings']}, "
        f"flagged {totals['flagged']}, gone {totals['gone']}, errors {totals['errors']}, time {report.seconds}s"
    )
    for error in report.config_errors:
        err_console.print(f"[yellow]site config skipped:[/] {error}", highlight=False)
    if report.export_path:
        console.print(f"exported {report.exported_rows} flagged listings to {report.export_path}")
    console.print(f"log: {report.log_file}")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@handles_user_errors
def crawl(
    site: str = typer.Argument(..., help="Site name (a file in crawler/sites) or path to a site config file."),
    base_url: Optional[str] = typer.Option(None, help="Crawl the same site at another address."),
    demo_night: int = typer.Option(1, min=1, help="For demo sites: which night the demo marketplace shows."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Scrapy's log on the terminal."),
) -> None:
    """Crawl one marketplace, score and store its listings. Demo sites get the demo server started for them."""
    from contextlib import ExitStack

    from crawler.siteconfig import resolve_site
    from classifier.scorer import Scorer
    from store.db import upgrade
    from wildwatch.crawl import check_browser, run_crawls

    _configure_logging(verbose)
    config = _settings()
    site_config = resolve_site(site, config.sites_dir)
    upgrade(config.database_url)
    Scorer.load(config.models_dir, threshold=config.threshold)
    check_browser([site_config], config)
    with ExitStack() as stack:
        if base_url:
            site_config = site_config.with_base_url(base_url)
        elif site_config.demo:
            from wildwatch.demo.server import DemoMarketplace

            server = stack.enter_context(DemoMarketplace(night=demo_night))
            site_config = site_config.with_base_url(server.base_url)
        log_file = config.data_dir / "logs" / f"crawl-{site_config.name}-{datetime.now():%Y%m%d-%H%M%S}.log"
        live, on_item = _progress_counter()
        with live:
            outcomes = run_crawls([site_config], config, log_file=None if verbose else log_file, on_item=on_item)
    console.print(_summary_table(outcomes, f"Crawl of {site_config.name}"))
    if not verbose:
        console.print(f"log: {log_file}")
    if not outcomes[0].run_id:
        raise typer.Exit(1)


# ---- classify, export, train ---------------------------------------------------------------------

@app.command()
@handles_user_errors
def classify(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="JSONL or CSV of listings (id, title, description...)."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV to write: id, score, flagged, species, evidence."),
    threshold: Optional[float] = typer.Option(None, min=0.0, max=1.0, help="Override the model's threshold."),
) -> None:
    """Score a file of listings without crawling."""
    from classifier.batch import classify_file
    from classifier.scorer import Scorer

    config = _settings()
    if not input_path.is_file():
        fail(f"{input_path}: no such file")
    scorer = Scorer.load(config.models_dir, threshold=threshold if threshold is not None else config.threshold)
    stats = classify_file(input_path, output, scorer)
    for error in stats.errors[:20]:
        err_console.print(f"[yellow]skipped:[/] {error}", highlight=False)
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
    all_listings: bool = typer.Option(False, "--all", help="Every listing, flagged or not (coverage checks)."),
) -> None:
    """Export flagged listings (latest score of each) from the store to CSV, XLSX or Parquet."""
    from store.db import make_engine, require_current_schema
    from wildwatch.export import export_listings, resolve_format

    config = _settings()
    since_dt = parse_since(since)
    fmt_value = fmt.value if fmt else None
    if output is None:
        suffix = fmt_value or "csv"
        kind = "listings" if all_listings else "flagged"
        output = config.export_dir / f"{kind}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.{suffix}"
    try:
        resolve_format(output, fmt_value)
    except ValueError as exc:
        fail(str(exc))
    engine = make_engine(config.database_url)
    try:
        require_current_schema(engine)
        path, rows = export_listings(engine, output, fmt_value, flagged_only=not all_listings, since=since_dt,
                                     min_score=min_score, marketplace=marketplace)
    finally:
        engine.dispose()
    console.print(f"exported {rows} {'listings' if all_listings else 'flagged listings'} to {path}")


@app.command()
@handles_user_errors
def train(
    data: Optional[Path] = typer.Option(None, help="Labelled CSV (default: data/labelled/listings.csv)."),
    activate: bool = typer.Option(True, "--activate/--no-activate", help="Make the new model the active one."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Train the classifier on the labelled data and save a new model version under models/."""
    from classifier.train import train as train_model
    from wildwatch.config import LABELLED_DIR

    config = _settings()
    labelled = data or LABELLED_DIR / "listings.csv"
    if not labelled.is_file():
        fail(f"{labelled}: no such file")
    report = train_model(labelled, config.models_dir, activate=activate, seed=seed)
    console.print(report.summary() if hasattr(report, "summary") else str(report))


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


@lexicon_app.command("check")
@handles_user_errors
def lexicon_check() -> None:
    """Validate the lexicon (duplicates, conflicts, missing fields) and print its coverage."""
    from classifier.lexicon import validate_lexicon
    from wildwatch.config import LEXICON_DIR

    report = validate_lexicon(LEXICON_DIR)
    console.print(report.render() if hasattr(report, "render") else report)
    if getattr(report, "errors", None):
        raise typer.Exit(1)


@sites_app.command("list")
@handles_user_errors
def sites_list() -> None:
    """List configured marketplaces; broken config files are named with the reason."""
    from crawler.siteconfig import load_all_sites

    config = _settings()
    sites, errors = load_all_sites(config.sites_dir)
    table = Table("name", "base URL", "javascript", "demo", "enabled", "file")
    for site in sites:
        table.add_row(site.name, site.base_url, site.javascript.mode, str(site.demo), str(site.enabled),
                      site.source_path or "")
    console.print(table)
    for error in errors:
        err_console.print(f"[red]invalid:[/] {error}", highlight=False)
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
            err_console.print(f"[red]invalid:[/] {exc}", highlight=False)
    if bad:
        raise typer.Exit(2)


@app.command()
@handles_user_errors
def demo(
    port: int = typer.Option(8765, min=0, max=65535, help="Port on 127.0.0.1 (0 = any free port)."),
    night: int = typer.Option(1, min=1, help="Which night's catalogue to show."),
) -> None:
    """Serve the built-in demo marketplace on 127.0.0.1 until interrupted."""
    import time

    from wildwatch.demo.server import DemoMarketplace

    with DemoMarketplace(port=port, night=night) as site:
        console.print(f"Demo marketplace (night {night}) at {site.base_url} - Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
