"""Running the `wildwatch` command in tests: as a user would, in a fresh process (`run_cli`), or in this
process through the same entry point (`invoke`) when what a test proves does not need a process of its own."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import ROOT, db_backend
from support.db_backend import database_url_for  # noqa: F401 - tests import it from here with the CLI helpers


def wildwatch_env(data_dir: Path, models_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess that writes only below data_dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WILDWATCH_")}
    env.update({
        "WILDWATCH_DATA_DIR": str(data_dir),
        "WILDWATCH_MODELS_DIR": str(models_dir),
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    })
    env.update(db_backend.cli_database_env(data_dir))  # PostgreSQL pass: a throwaway database per data dir
    # Listing images (and so OCR) are off unless a test is about them or about the whole demo night: each demo
    # crawl would fetch about 900 pictures and each first night read them with Tesseract (minutes of CPU).
    env["WILDWATCH_IMAGES"] = "0"
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: int = 300,
            input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run `wildwatch ARGS` as a user would, in a fresh process (`input_text` on its stdin, e.g. a password)."""
    return subprocess.run([sys.executable, "-m", "wildwatch", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, input=input_text)


def stored_counts(db_url: str) -> dict:
    """What a crawl left in the database, for "stored exactly once" checks across processes."""
    from sqlalchemy import create_engine, func, select

    from store.models import CrawlRun, Listing, ListingSnapshot, Score

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {
                "listings": conn.scalar(select(func.count(Listing.id))),
                "distinct": conn.scalar(select(func.count(func.distinct(Listing.external_id)))),
                "ids": set(conn.scalars(select(Listing.external_id))),
                "snapshots": conn.scalar(select(func.count(ListingSnapshot.id))),
                "scores": conn.scalar(select(func.count(Score.id))),
                "gone": set(conn.scalars(select(Listing.external_id).where(Listing.gone_at.is_not(None)))),
                "runs": conn.execute(select(CrawlRun).order_by(CrawlRun.id)).all(),
            }
    finally:
        engine.dispose()


def invoke(args: list[str], env: dict[str, str], input_text: str | None = None,
           cwd: Path | None = ROOT) -> subprocess.CompletedProcess:
    """Run `wildwatch ARGS` in this process, through the entry point the console script calls
    (`wildwatch.cli.app()`: usage errors and UserErrors become one `error:` line and an exit code), with the
    WILDWATCH_* variables of `env` as the only ones set, `input_text` on stdin, and stdout and stderr captured
    apart. For commands that end before any crawl: a crawl runs Twisted's reactor, which cannot start twice
    in one process, and a test about processes or signals needs one of its own (`run_cli`).

    As in a fresh process, the root logger starts without handlers at WARNING (so the CLI's own logging set-up
    writes to the captured stderr) and the umask the CLI sets is undone afterwards."""
    import logging
    import traceback

    from click.testing import CliRunner

    from wildwatch.cli import app

    variables: dict[str, str | None] = {name: None for name in os.environ if name.startswith("WILDWATCH_")}
    variables.update({name: value for name, value in env.items() if name.startswith("WILDWATCH_")})
    root = logging.getLogger()
    saved_logging = root.handlers[:], root.level, logging.raiseExceptions
    umask = os.umask(0o022)
    os.umask(umask)
    previous_cwd = os.getcwd()
    code: int | str | None = 0
    with CliRunner().isolation(input=input_text, env=variables) as (stdout, stderr, _output):
        root.handlers[:] = []
        root.setLevel(logging.WARNING)
        try:
            if cwd is not None:
                os.chdir(cwd)
            app(args=list(args), prog_name="wildwatch")
        except SystemExit as exc:
            code = exc.code
        except Exception:  # what the interpreter would do with it: the traceback on stderr, exit 1
            traceback.print_exc(file=sys.stderr)
            code = 1
        finally:
            os.chdir(previous_cwd)
            for handler in root.handlers:
                handler.close()
            root.handlers[:], level, logging.raiseExceptions = saved_logging
            root.setLevel(level)
            os.umask(umask)
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    if not isinstance(code, int):  # sys.exit("message") or sys.exit(None), as the interpreter reports them
        err, code = (err + f"{code}\n", 1) if code is not None else (err, 0)
    return subprocess.CompletedProcess(["wildwatch", *args], code, out, err)
