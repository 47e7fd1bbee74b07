"""Every command answers a user's mistake (a bad option, file, config entry or WILDWATCH_* variable)
with one line on stderr naming what is wrong and where, and exit code 2; never a stack trace.

Table-driven: each case runs `wildwatch ...` through the entry point the console script calls
(`wildwatch.cli.app()`, where usage errors and UserErrors become one line), in this process (support.cli.invoke:
only the case's WILDWATCH_* variables set, its own stdout and stderr, logging and umask as in a fresh process);
the cases marked `process` run the installed `wildwatch` script as a real process, so the console entry point
users run is checked end to end on each kind of mistake (usage, UserError, database). One test per case.
"""
from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from classifier.artifacts import MODEL_FILE
from support.cli import ROOT, invoke, wildwatch_env

SECRET = "S3cretPassw0rd"


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    expect: str  # a fragment the one error line must contain
    env: dict[str, str] = field(default_factory=dict)
    data: str = "fresh"  # "fresh": an empty data dir; "migrated": a data dir whose database is migrated
    process: bool = False  # run the installed `wildwatch` script in a process of its own


CASES = [
    # nightly
    Case("nightly-bad-format", ["nightly", "--format", "docx"], "'--format'"),
    Case("nightly-bad-output-suffix", ["nightly", "-o", "{tmp}/night.docx"], "file suffix '.docx'"),
    Case("nightly-bad-demo-night", ["nightly", "--demo", "--demo-night", "0"], "'--demo-night'"),
    Case("nightly-no-sites", ["nightly"], "no site to crawl in", env={"WILDWATCH_SITES_DIR": "{tmp}/empty"}),
    Case("nightly-threshold-not-a-number", ["nightly"], "WILDWATCH_THRESHOLD='abc' is not a number",
         env={"WILDWATCH_THRESHOLD": "abc"}),
    Case("nightly-nonsense-database-url", ["nightly"], "unsupported database URL 'nonsense://'",
         env={"WILDWATCH_DATABASE_URL": "nonsense://"}),
    Case("nightly-unreachable-database", ["nightly"], "127.0.0.1:1",
         env={"WILDWATCH_DATABASE_URL": f"postgresql+psycopg://watcher:{SECRET}@127.0.0.1:1/none"}),
    # crawl
    Case("crawl-unknown-site", ["crawl", "nosuchshop"], "no site named 'nosuchshop'", process=True),
    Case("crawl-markup-in-name", ["crawl", "[/]"], "no site named '[/]'"),
    Case("crawl-broken-yaml", ["crawl", "{tmp}/broken.yaml"], "broken.yaml: line 2 is not valid YAML"),
    Case("crawl-file-start-url", ["crawl", "{tmp}/fileurl.yaml"], "start_urls.0: 'file:///etc/passwd'"),
    Case("crawl-search-to-ftp", ["crawl", "{tmp}/ftpsearch.yaml"], "search.url_template: 'ftp://"),
    Case("crawl-url-not-http", ["crawl", "--url", "ftp://127.0.0.1/listing"], "--url: 'ftp://127.0.0.1/listing'"),
    Case("crawl-url-no-scheme", ["crawl", "--url", "shop.example/item/1"], "is not an http(s) URL"),
    Case("crawl-base-url-file", ["crawl", "demo", "--base-url", "file:///etc/passwd"], "base_url: 'file:///etc/passwd'"),
    Case("crawl-neither-site-nor-url", ["crawl"], "give either a SITE"),
    Case("crawl-zero-page-budget", ["crawl", "--url", "http://127.0.0.1:9/", "--max-pages", "0"], "'--max-pages'"),
    Case("crawl-no-chromium", ["crawl", "demo"], "WILDWATCH_CHROMIUM='/nonexistent/chromium' does not exist",
         env={"WILDWATCH_CHROMIUM": "/nonexistent/chromium"}),
    # classify
    Case("classify-missing-input", ["classify", "{tmp}/missing.jsonl", "-o", "{tmp}/out.csv"], "missing.jsonl: no such file"),
    Case("classify-input-is-folder", ["classify", "{tmp}/folder.jsonl", "-o", "{tmp}/out.csv"], "folder.jsonl: not a file"),
    Case("classify-malformed-jsonl", ["classify", "{tmp}/malformed.jsonl", "-o", "{tmp}/out.csv"],
         "malformed.jsonl line 2: bad JSON"),
    Case("classify-unsupported-type", ["classify", "{tmp}/listings.txt", "-o", "{tmp}/out.csv"], "unsupported input type .txt"),
    Case("classify-threshold-out-of-range", ["classify", "{tmp}/malformed.jsonl", "-o", "{tmp}/o.csv", "--threshold", "2"],
         "'--threshold'"),
    Case("classify-no-output", ["classify", "{tmp}/malformed.jsonl"], "Missing option '--output'", process=True),
    Case("classify-output-under-a-file", ["classify", "{tmp}/one.jsonl", "-o", "{tmp}/one.jsonl/out.csv"], "one.jsonl"),
    Case("classify-no-model", ["classify", "{tmp}/one.jsonl", "-o", "{tmp}/out.csv"], "no model in /nonexistent/models",
         env={"WILDWATCH_MODELS_DIR": "/nonexistent/models"}),
    Case("classify-threshold-env-out-of-range", ["classify", "{tmp}/one.jsonl", "-o", "{tmp}/out.csv"],
         "WILDWATCH_THRESHOLD='2' must lie between 0 and 1", env={"WILDWATCH_THRESHOLD": "2"}),
    Case("classify-tampered-model", ["classify", "{tmp}/one.jsonl", "-o", "{tmp}/out.csv"], "refusing to unpickle it",
         env={"WILDWATCH_MODELS_DIR": "{tmp}/tampered-models"}),
    # export
    Case("export-bad-since", ["export", "--since", "yesterday"], "--since: 'yesterday'"),
    Case("export-since-overflow", ["export", "--since", "9999999d"], "reaches back before the year 1"),
    Case("export-bad-format", ["export", "--format", "docx"], "'--format'"),
    Case("export-bad-suffix", ["export", "-o", "{tmp}/flagged.docx"], "file suffix '.docx'"),
    Case("export-min-score-out-of-range", ["export", "--min-score", "2"], "'--min-score'"),
    Case("export-unmigrated-database", ["export"], "wildwatch db upgrade"),
    Case("export-unreachable-database", ["export"], "127.0.0.1:1",
         env={"WILDWATCH_DATABASE_URL": f"postgresql+psycopg://watcher:{SECRET}@127.0.0.1:1/none"}),
    # train, evaluate
    Case("train-missing-data", ["train", "--data", "{tmp}/missing.csv"], "missing.csv: no such file"),
    Case("train-not-utf8", ["train", "--data", "{tmp}/latin1.csv"], "latin1.csv line 2: not UTF-8"),
    Case("train-no-label-column", ["train", "--data", "{tmp}/nolabel.csv"], "nolabel.csv line 1: missing column(s) label"),
    Case("evaluate-missing-data", ["evaluate", "{tmp}/missing.csv"], "missing.csv: no such file"),
    Case("evaluate-malformed-only", ["evaluate", "{tmp}/malformed.jsonl"], "no usable labelled rows"),
    Case("evaluate-bad-split", ["evaluate", str(ROOT / "data" / "labelled" / "listings.csv"), "--split", "sideways"],
         "--split must be one of"),
    # db
    Case("db-unknown-revision", ["db", "upgrade", "nosuchrev"], "Can't locate revision identified by 'nosuchrev'"),
    Case("db-unsupported-url", ["db", "current"], "unsupported database URL 'mysql://watcher:***@db/x'",
         env={"WILDWATCH_DATABASE_URL": f"mysql://watcher:{SECRET}@db/x"}),
    Case("db-unreachable-server", ["db", "upgrade"], "127.0.0.1:1",
         env={"WILDWATCH_DATABASE_URL": f"postgresql+psycopg://watcher:{SECRET}@127.0.0.1:1/none"}, process=True),
    Case("db-unwritable-data-dir", ["db", "upgrade"], "cannot create the directory",
         env={"WILDWATCH_DATA_DIR": "/proc/wildwatch"}),
    # lexicon
    Case("lexicon-check-missing-folder", ["lexicon", "check", "--dir", "{tmp}/empty"], "terms.csv: file not found"),
    Case("lexicon-check-broken-csv", ["lexicon", "check", "--dir", "{tmp}/badlexicon"], "terms.csv"),
    Case("lexicon-report-not-utf8", ["lexicon", "report", "--data", "{tmp}/latin1.csv"], "latin1.csv line 2: not UTF-8"),
    Case("lexicon-report-missing", ["lexicon", "report", "--data", "{tmp}/missing.csv"], "missing.csv: no such file"),
    # sites
    Case("sites-check-broken", ["sites", "check", "{tmp}/broken.yaml"], "broken.yaml: line 2 is not valid YAML"),
    Case("sites-check-unknown-key", ["sites", "check", "{tmp}/unknownkey.yaml"], "colour: unknown key"),
    Case("sites-list-missing-folder", ["sites", "list"], "WILDWATCH_SITES_DIR /nonexistent/sites: no such folder",
         env={"WILDWATCH_SITES_DIR": "/nonexistent/sites"}),
    # demo, review
    Case("demo-port-out-of-range", ["demo", "--port", "70000"], "'--port'"),
    Case("demo-port-in-use", ["demo", "--port", "{busy_port}"], "cannot serve the demo marketplace on 127.0.0.1:"),
    Case("review-port-negative", ["review", "--port", "-1"], "'--port'"),
    Case("review-host-not-here", ["review", "--host", "256.1.1.1", "--port", "0"], "--host 256.1.1.1", data="migrated"),
    Case("review-port-in-use", ["review", "--port", "{busy_port}"], "cannot listen there", data="migrated"),
    Case("review-short-secret", ["review", "--port", "0"], "WILDWATCH_SECRET_KEY must be at least 32 characters",
         env={"WILDWATCH_SECRET_KEY": "short"}, data="migrated"),
    # users, tip, evidence, report, bench
    Case("users-bad-name", ["users", "add", "bad name!", "--password-stdin"], "user name 'bad name!' is not valid"),
    Case("users-bad-role", ["users", "add", "mei", "--role", "god", "--password-stdin"], "--role: 'god'"),
    Case("tip-file-url", ["tip", "file:///etc/passwd"], "only http and https URLs can be fetched"),
    Case("tip-javascript-url", ["tip", "javascript:alert(1)"], "only http and https URLs can be fetched"),
    Case("tip-no-host", ["tip", "http://"], "is not a valid URL"),
    Case("tip-inside-address", ["tip", "http://169.254.169.254/latest/meta-data/"], "is a link-local address"),
    Case("tip-inside-spelling", ["tip", "http://2130706433:8000/"], "127.0.0.1 is a loopback address"),
    Case("evidence-unknown-id", ["evidence", "999999", "-o", "{tmp}/package"], "no listing with id 999999",
         data="migrated"),
    Case("evidence-unknown-marketplace-id", ["evidence", "nope:x-1", "-o", "{tmp}/package"],
         "no listing 'x-1' on marketplace 'nope'", data="migrated"),
    Case("evidence-traversal-id", ["evidence", "../../etc/passwd", "-o", "{tmp}/package"],
         "'../../etc/passwd' is not a listing id", data="migrated"),
    Case("evidence-no-output", ["evidence", "1"], "Missing option '--output'"),
    Case("report-bad-since", ["report", "-o", "{tmp}/r.html", "--since", "xyz"], "--since: 'xyz'"),
    Case("report-output-is-folder", ["report", "-o", "{tmp}/empty"], "empty: Is a directory", data="migrated"),
    Case("bench-unknown-stage", ["bench", "--only", "nosuch"], "--only nosuch: unknown stage"),
    Case("bench-missing-models", ["bench", "--models", "/nonexistent/models"], "--models /nonexistent/models: no such folder"),
    Case("sellers-evidence-unknown-network", ["sellers", "evidence", "999999", "-o", "{tmp}/package"],
         "no seller network with id 999999", data="migrated"),
    Case("sellers-rebuild-bad-limit", ["sellers", "rebuild", "--max-accounts-per-key", "1"],
         "'--max-accounts-per-key'"),
    Case("export-reveal-without-lead", ["export", "--sellers", "--reveal-handles"], "--reveal-handles needs --as NAME"),
    Case("export-reveal-not-a-lead", ["export", "--sellers", "--reveal-handles", "--as", "nobody",
                                      "--password-stdin"], "wrong account name or password for 'nobody'",
         data="migrated"),
    Case("ocr-bad-workers", ["ocr", "--workers", "0"], "'--workers'"),
    Case("ocr-unreachable-database", ["ocr"], "postgresql+psycopg://watcher:***@127.0.0.1:1/none",
         env={"WILDWATCH_DATABASE_URL": f"postgresql+psycopg://watcher:{SECRET}@127.0.0.1:1/none"}),
    Case("unknown-command", ["frobnicate"], "No such command 'frobnicate'"),
]


def _files(tmp: Path, trained_models_dir: Path) -> None:
    """The bad inputs the cases name."""
    import shutil

    (tmp / "empty").mkdir()
    (tmp / "folder.jsonl").mkdir()
    (tmp / "malformed.jsonl").write_text('\n{"id": 1, "title": \n', encoding="utf-8")
    (tmp / "one.jsonl").write_text('{"id": "1", "title": "象牙手镯"}\n', encoding="utf-8")
    (tmp / "listings.txt").write_text("id,title\n1,x\n", encoding="utf-8")
    (tmp / "latin1.csv").write_bytes("id,title,label\n1,tête de rhinocéros,1\n".encode("latin-1"))
    (tmp / "nolabel.csv").write_text("id,title\n1,象牙\n", encoding="utf-8")
    (tmp / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    good = "name: shop\nbase_url: http://127.0.0.1:9\nstart_urls: [/]\n"
    (tmp / "fileurl.yaml").write_text(good.replace("[/]", "['file:///etc/passwd']"), encoding="utf-8")
    (tmp / "ftpsearch.yaml").write_text(good + "search:\n  url_template: 'ftp://127.0.0.1/s?q={query}'\n",
                                        encoding="utf-8")
    (tmp / "unknownkey.yaml").write_text(good + "colour: blue\n", encoding="utf-8")
    (tmp / "badlexicon").mkdir()
    (tmp / "badlexicon" / "terms.csv").write_text("term,lang\n象牙,zh\n", encoding="utf-8")
    # A model whose artifact changed after training: it must never be unpickled.
    tampered = tmp / "tampered-models"
    shutil.copytree(trained_models_dir, tampered)
    version = (tampered / "ACTIVE").read_text(encoding="utf-8").strip()
    with open(tampered / version / MODEL_FILE, "ab") as artifact:
        artifact.write(b"\0")


def _run(case: Case, tmp: Path, models: Path, busy_port: int) -> subprocess.CompletedProcess:
    def fill(text: str) -> str:
        return text.replace("{tmp}", str(tmp)).replace("{busy_port}", str(busy_port))

    data_dir = tmp / "data-migrated" if case.data == "migrated" else tmp / f"data-{case.id}"
    env = wildwatch_env(data_dir, models, WILDWATCH_SITES_DIR=str(ROOT / "crawler" / "sites"))
    env.pop("WILDWATCH_DATABASE_URL", None)  # each case's own data dir (or the URL the case gives)
    env.update({key: fill(value) for key, value in case.env.items()})
    args, password = [fill(arg) for arg in case.args], "a-password-of-enough-length\n"
    if not case.process:
        return invoke(args, env, input_text=password, cwd=tmp)
    return subprocess.run([str(Path(sys.executable).parent / "wildwatch"), *args], env=env, cwd=tmp,
                          capture_output=True, text=True, timeout=180, input=password)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, trained_models_dir) -> dict[str, subprocess.CompletedProcess]:
    tmp = tmp_path_factory.mktemp("bad-input")
    _files(tmp, trained_models_dir)
    migrated = invoke(["db", "upgrade"], wildwatch_env(tmp / "data-migrated", trained_models_dir))
    assert migrated.returncode == 0, migrated.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # One at a time: an in-process run has the process's stdout, stderr and environment to itself.
        return {case.id: _run(case, tmp, trained_models_dir, port) for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_user_mistake_gives_one_clear_line_and_exit_2(outcomes, case, report):
    result = outcomes[case.id]
    shown = f"exit {result.returncode}\nstdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.returncode == 2, shown
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert lines[0].startswith(("error: ", "invalid: ")), shown
    assert case.expect in lines[0], shown
    assert SECRET not in result.stdout + result.stderr, shown  # database passwords are never printed
    if case is CASES[-1]:
        commands = {case.args[0] for case in CASES if case.id != "unknown-command"}
        report(f"bad input: {len(CASES)} cases over {len(commands)} commands and an unknown one: "
               "each one line on stderr, exit 2, no traceback, no password")


def test_user_error_names_are_real_exception_classes():
    """FOREIGN_USER_ERRORS matches library classes by name (so reporting imports nothing): each must exist."""
    import importlib

    from wildwatch.cli import FOREIGN_USER_ERRORS

    for module, name in FOREIGN_USER_ERRORS:
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Exception) and (cls.__module__, cls.__qualname__) == (module, name)


def test_every_error_the_cli_reports_as_a_mistake_is_a_user_error():
    """One base class: what used to be a table of names is now a class hierarchy (and keeps its old bases,
    so code catching ValueError or FileNotFoundError still works)."""
    from classifier.artifacts import ModelIncompatibleError, ModelNotFoundError
    from classifier.labelled import LabelledDataError
    from classifier.lexicon import LexiconError
    from crawler.browser import BrowserNotFoundError
    from crawler.siteconfig import SiteConfigError
    from review.netguard import BadURL, RefusedAddress
    from store.errors import StoreError
    from wildwatch.demo.catalog import CatalogError
    from wildwatch.errors import UserError
    from wildwatch.nightly import NightlyError

    for cls in (ModelIncompatibleError, ModelNotFoundError, LabelledDataError, LexiconError, BrowserNotFoundError,
                SiteConfigError, BadURL, RefusedAddress, StoreError, CatalogError, NightlyError):
        assert issubclass(cls, UserError), cls
    assert issubclass(ModelNotFoundError, FileNotFoundError) and issubclass(SiteConfigError, ValueError)


def test_every_command_has_a_bad_input_case():
    from wildwatch.cli import app

    import typer.main

    group = typer.main.get_command(app)
    commands = set(group.commands)
    assert commands <= {case.args[0] for case in CASES}, commands - {case.args[0] for case in CASES}


def test_some_malformed_rows_are_skipped_by_line_and_the_rest_scored(tmp_path, trained_models_dir):
    """One broken line in a file is named (file and line) and skipped; the rest is still scored (exit 0)."""
    source = tmp_path / "mixed.jsonl"
    source.write_text('{"id": "1", "title": "象牙手镯 老货"}\n{"id": 2, "title": \n{"id": "3", "title": "茶杯"}\n',
                      encoding="utf-8")
    result = invoke(["classify", str(source), "-o", str(tmp_path / "out.csv")], wildwatch_env(tmp_path, trained_models_dir))
    assert result.returncode == 0, result.stderr
    assert "mixed.jsonl line 2: bad JSON" in result.stderr and "Traceback" not in result.stderr
    assert "scored 2 listings" in result.stdout


def test_a_refused_tip_url_creates_no_database(tmp_path, trained_models_dir):
    """`wildwatch tip` checks the URL before it creates or migrates the database (it used to do both first)."""
    data = tmp_path / "data"
    result = invoke(["tip", "ftp://example.com/x"], wildwatch_env(data, trained_models_dir, WILDWATCH_DATABASE_URL=""))
    assert result.returncode == 2 and "only http and https URLs can be fetched" in result.stderr, result.stderr
    assert not (data / "wildwatch.db").exists()
