"""The benchmarks' code paths on tiny inputs, so `wildwatch bench` cannot rot.

Nothing here asserts a timing: the machines are shared and noisy.  The tests
check that every stage runs end to end (real crawls of a local shop in
subprocesses, real databases, real Chromium when present, the real review
app), that each figure comes with its baseline, and that the results are
written as JSON and Markdown.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from bench.catalog import MAX_LISTINGS, write_catalog
from bench.results import Figure, Report, StageResult, rows, to_markdown
from bench.runner import STAGES, Sizes, run_bench
from support.cli import ROOT, run_cli, wildwatch_env
from wildwatch.demo.catalog import load_catalog

TINY = Sizes(
    classifier_listings=40, classifier_repeats=1,
    crawl_listings=30, crawl_repeats=1,
    crawl_variants=("spider + extraction, no pipelines", "full pipeline (+ store, SQLite)"), crawl_profile=True,
    render_pages=2, render_configs=("library defaults (8 per domain, 1 context, nothing blocked)",
                                    "16 per domain, blocked, 4 contexts",
                                    "8 per domain, blocked, DOMContentLoaded"),
    storage_rows=40, storage_batches=(15,), storage_repeats=1,
    memory_nights=(8, 20),
    review_listings=120, review_requests_per_client=2, review_clients=3,
    workers_listings=12, workers_counts=(1, 2), workers_delay=0.05,
)


def test_figure_ratio_and_goals():
    cost = Figure("s", "cost", 30.0, "µs", "floor", 20.0, goal="≤ 1.5×", goal_ratio=1.5, goal_op="<=")
    assert cost.ratio == pytest.approx(1.5) and cost.met is True
    rate = Figure("s", "rate", 1500.0, "listings/s", "scan", 3000.0, goal_value=2000, goal_value_op=">=")
    assert rate.met is False and rate.ratio == pytest.approx(0.5)
    both = Figure("s", "both", 10.0, "x", "b", 4.0, goal_ratio=2.0, goal_value=20.0)
    assert both.met is False  # every stated goal must hold
    assert Figure("s", "plain", 1.0, "x").met is None and Figure("s", "plain", 1.0, "x").ratio is None
    with pytest.raises(ValueError, match="goal operator"):
        _ = Figure("s", "bad", 1.0, "x", "b", 1.0, goal_ratio=1.0, goal_op="<").met


def test_report_writes_json_and_markdown(tmp_path):
    report = Report(mode="quick", command="wildwatch bench --quick")
    stage = StageResult("crawl", figures=[Figure("crawl", "pages | per s", 80.0, "pages/s", "bare", 100.0,
                                                 goal="≥ 85% of bare", goal_ratio=0.85)])
    stage.details["profile"] = [{"function": "f", "seconds": 1.0, "share": 0.5, "calls": 3}]
    report.stages += [stage, StageResult("rendering", error="BrowserNotFoundError: no Chromium")]
    json_path, md_path = report.write(tmp_path)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    figure = data["stages"][0]["figures"][0]
    assert figure["ratio"] == pytest.approx(0.8) and figure["met"] is False
    assert data["stages"][1]["error"].startswith("BrowserNotFoundError")
    markdown = md_path.read_text(encoding="utf-8")
    assert "pages \\| per s" in markdown and "NOT met" in markdown and "no Chromium" in markdown
    assert (tmp_path / "latest-quick.json").read_text(encoding="utf-8") == json_path.read_text(encoding="utf-8")
    assert rows(report)[1][0] == "rendering" and to_markdown(report).count("\n| ") >= 3


def test_synthetic_catalog_is_valid_and_sized(tmp_path):
    path = write_catalog(tmp_path / "c.jsonl", 450, styles=("js",))
    listings = load_catalog(path)  # the demo shop's own validation
    assert len(listings) == 450 and {item.style for item in listings} == {"js"}
    assert len({item.title for item in listings}) == 450  # copies of the 400 templates are told apart
    assert all(item.is_live(1) for item in listings)
    for bad in (0, MAX_LISTINGS + 1):
        with pytest.raises(ValueError, match="1 to 9999"):
            write_catalog(tmp_path / "x.jsonl", bad)


def test_child_refuses_an_unknown_kind(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"kind": "nope"}), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bench.child", str(spec), str(tmp_path / "out.json")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "kind 'nope' is not one of" in proc.stderr


def test_cli_rejects_an_unknown_stage(tmp_path, trained_models_dir):
    result = run_cli(["bench", "--quick", "--only", "gpu"], wildwatch_env(tmp_path / "data", trained_models_dir))
    assert result.returncode == 2, result.stderr
    assert "--only gpu: unknown stage" in result.stderr and "Traceback" not in result.stderr


def _finite_positive(value) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


@pytest.mark.timeout(1500)  # seven stages one after another; a hang is still caught, a busy machine is not
def test_every_stage_runs_on_tiny_inputs(tmp_path, trained_models_dir):
    lines: list[str] = []
    # The workers stage (Redis, PostgreSQL, worker processes) has its own test below.
    report = run_bench(quick=True, out_dir=tmp_path / "out", models_dir=trained_models_dir, sizes=TINY,
                       only=[stage for stage in STAGES if stage != "workers"], progress=lines.append, command="pytest",
                       zyte=ROOT / "tests" / "fixtures" / "zyte")  # six of the benchmark's pages
    stages = {s.stage: s for s in report.stages}
    assert list(stages) == ["classifier", "crawl", "rendering", "storage", "memory", "review app", "extraction"]
    for name, stage in stages.items():
        if name == "rendering" and stage.error:
            assert "Chromium" in stage.error  # no browser on this machine: the stage says so, the rest runs
            continue
        assert stage.error is None, f"{name}: {stage.error}\n{stage.details.get('traceback')}"
        assert stage.figures, name
        for figure in stage.figures:
            if " per extra listing" in figure.name:  # a difference between two nights: noise may make it negative
                assert math.isfinite(figure.value), figure
                continue
            assert _finite_positive(figure.value), figure
            if figure.baseline is not None:
                assert figure.baseline > 0 and figure.ratio == pytest.approx(figure.value / figure.baseline)

    classifier = stages["classifier"]
    assert classifier.details["listings"] == 40 and classifier.details["profile"]
    assert {f.goal for f in classifier.figures} >= {"≤ 1.2× jieba", "≥ 3,000 listings/s"}

    crawl = stages["crawl"]
    runs = crawl.details["runs"]
    assert runs["bare"][0]["items"] == 30  # the bare spider fetched every detail page
    full = runs["full pipeline (+ store, SQLite)"][0]
    assert full["items"] == 30 and full["stored"] == 30 and full["errors"] == 0
    assert runs["spider + extraction, no pipelines"][0]["stored"] == 0
    assert crawl.details["profile"]  # the profiled crawl reported its top functions

    crawl_of_pages = stages["extraction"].details["crawl"]  # a real crawl --url over the six saved pages
    assert crawl_of_pages["pages"] == 6 and crawl_of_pages["stored"] == 6

    if not stages["rendering"].error:
        for run in stages["rendering"].details["runs"].values():
            assert run["pages"] == 2 and run["failed"] == 0
        blocked = stages["rendering"].details["runs"]["8 per domain, blocked, DOMContentLoaded"]
        assert blocked["aborted"] > 0  # the demo pages' images were not fetched

    storage = stages["storage"]
    backends = {f.name.split(",")[0] for f in storage.figures}
    assert "SQLite" in backends
    assert len(storage.figures) == 3 * len(backends)

    memory = stages["memory"]
    for night in memory.details["nights"].values():
        assert night["ok"] and night["stored"] == night["listings"] and night["peak_rss_mb"] >= night["floor_rss_mb"]
    assert [n["listings"] for n in memory.details["nights"].values()] == [8, 20]

    review = stages["review app"]
    assert not review.details["errors"]
    assert all(v["n"] == 6 for v in review.details["latency_ms"].values())  # 3 clients x 2 requests each

    written = json.loads((tmp_path / "out" / "latest-quick.json").read_text(encoding="utf-8"))
    assert [s["stage"] for s in written["stages"]] == list(stages)
    assert "| classifier |" in (tmp_path / "out" / "latest-quick.md").read_text(encoding="utf-8")
    assert any(line.startswith("memory:") for line in lines)


def test_workers_stage_on_tiny_inputs(tmp_path, trained_models_dir):
    """1 and 2 real worker processes crawl a 12-listing shop through Redis into PostgreSQL."""
    from store.testing import require_postgres, require_redis

    require_redis()
    require_postgres()
    report = run_bench(quick=True, out_dir=tmp_path / "out", models_dir=trained_models_dir, sizes=TINY,
                       only=["workers"], command="pytest")
    (stage,) = report.stages
    assert stage.error is None and stage.skipped is None, f"{stage.error}\n{stage.details.get('traceback')}"
    runs = stage.details["runs"]
    assert [run["workers"] for run in runs] == [1, 2]
    for run in runs:
        assert run["status"] == "succeeded" and run["stored"] == 12 and run["leftover_keys"] == 0
        assert len(run["pages_per_worker"]) == run["workers"] and run["pages"] > 12
    assert [f.baseline_name for f in stage.figures] == ["1 worker", "1 worker"]
    assert all(_finite_positive(f.value) for f in stage.figures)
    assert stage.figures[1].ratio == pytest.approx(stage.figures[1].value / stage.figures[0].value)
    assert "| workers |" in (tmp_path / "out" / "latest-quick.md").read_text(encoding="utf-8")


def test_workers_stage_says_why_it_cannot_run(tmp_path, trained_models_dir):
    from bench import workers

    result = workers.run(tmp_path, trained_models_dir, 5, redis_url="redis://127.0.0.1:1/0")
    assert result.skipped and "Redis not reachable at redis://127.0.0.1:1/0" in result.skipped and not result.figures
