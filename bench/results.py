"""Figures, their baselines and goals, and the table / JSON / Markdown they are written as."""
from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["Figure", "StageResult", "Report", "machine"]


@dataclass
class Figure:
    """One measured number, the baseline measured beside it, and the goal it is judged by.

    ``ratio`` is value / baseline (both in the same unit, same run).  ``goal_ratio``
    with ``goal_op`` ("<=" or ">=") states the goal on the ratio; ``goal_value`` with
    ``goal_value_op`` states an absolute goal on ``value`` (e.g. >= 2,000 listings/s).
    """

    stage: str
    name: str
    value: float
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    goal: str | None = None
    goal_ratio: float | None = None
    goal_op: str = ">="
    goal_value: float | None = None
    goal_value_op: str = ">="
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0) or self.value is None:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """True/False against the stated goal(s); None when the figure has no goal."""
        checks = []
        if self.goal_ratio is not None and self.ratio is not None:
            checks.append(_compare(self.ratio, self.goal_op, self.goal_ratio))
        if self.goal_value is not None and self.value is not None:
            checks.append(_compare(self.value, self.goal_value_op, self.goal_value))
        return all(checks) if checks else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def _compare(value: float, op: str, target: float) -> bool:
    if op == "<=":
        return value <= target
    if op == ">=":
        return value >= target
    raise ValueError(f"goal operator must be '<=' or '>=', got {op!r}")


@dataclass
class StageResult:
    """One stage's figures, plus what the run found about where time goes (profiles, notes)."""

    stage: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # the stage could not run: why
    skipped: str | None = None  # the stage was not run on purpose: why

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "skipped": self.skipped,
            "figures": [f.to_dict() for f in self.figures],
            "details": self.details,
            "notes": self.notes,
        }


def machine() -> dict[str, Any]:
    """What the figures were measured on (they are only comparable within one run)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
    }


@dataclass
class Report:
    """The whole run: every stage's result, the mode and the machine."""

    mode: str
    stages: list[StageResult] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    seconds: float = 0.0
    machine: dict[str, Any] = field(default_factory=machine)
    command: str = ""

    def figures(self) -> list[Figure]:
        return [f for stage in self.stages for f in stage.figures]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "command": self.command,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "stages": [s.to_dict() for s in self.stages],
        }

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        """results JSON and Markdown, named by time and mode; also copied to latest[-quick].{json,md}."""
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("-", "").replace("+0000", "Z")
        suffix = "-quick" if self.mode == "quick" else ""
        json_path = out_dir / f"bench-{stamp}{suffix}.json"
        md_path = out_dir / f"bench-{stamp}{suffix}.md"
        json_text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        md_text = to_markdown(self)
        json_path.write_text(json_text, encoding="utf-8")
        md_path.write_text(md_text, encoding="utf-8")
        (out_dir / f"latest{suffix}.json").write_text(json_text, encoding="utf-8")
        (out_dir / f"latest{suffix}.md").write_text(md_text, encoding="utf-8")
        return json_path, md_path


def fmt_number(value: float | None, unit: str = "") -> str:
    """12,345 / 1,234.5 / 12.35 / 0.123: enough digits to read, no more."""
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        text = f"{value:,.0f}"
    elif magnitude >= 100:
        text = f"{value:,.1f}"
    elif magnitude >= 1:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def fmt_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def status(figure: Figure) -> str:
    met = figure.met
    return "" if met is None else ("met" if met else "NOT met")


def rows(report: Report) -> list[list[str]]:
    """The table: stage, figure, value, baseline, ratio, goal, status."""
    table = []
    for stage in report.stages:
        if stage.error or stage.skipped:
            table.append([stage.stage, "(stage not measured)", "", "", "", "", stage.error or stage.skipped or ""])
            continue
        for f in stage.figures:
            baseline = "" if f.baseline is None else f"{fmt_number(f.baseline, f.unit)} ({f.baseline_name})"
            table.append([f.stage, f.name, fmt_number(f.value, f.unit), baseline, fmt_ratio(f.ratio),
                          f.goal or "", status(f)])
    return table


HEADERS = ["stage", "figure", "value", "baseline", "ratio", "goal", "status"]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    m = report.machine
    lines = [
        f"# wildwatch bench ({report.mode}), {report.started_at}",
        "",
        f"Command: `{report.command}`; {report.seconds:.0f} s in all.  "
        f"Machine: {m.get('cpu') or '?'}, {m.get('usable_cores')} usable cores, Python {m.get('python')}, "
        f"load average at start {m.get('load_average_at_start')}.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows(report)]
    for stage in report.stages:
        if not (stage.notes or stage.details.get("profile")):
            continue
        lines += ["", f"## {stage.stage}", ""]
        lines += [f"- {_md_cell(note)}" for note in stage.notes]
        profile = stage.details.get("profile")
        if profile:
            lines += ["", f"Where the time goes ({stage.details.get('profile_what', 'cProfile')}):", "",
                      "| share of time | seconds | function |", "|---|---|---|"]
            lines += [f"| {p['share']:.0%} | {p['seconds']:.3f} | `{_md_cell(p['function'])}` |" for p in profile]
    return "\n".join(lines) + "\n"
