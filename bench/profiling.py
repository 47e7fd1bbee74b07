"""cProfile in a form a report can carry: the functions that take the most time, with their share."""
from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["profile_call", "top_functions"]


def _label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name  # a builtin such as {method 'search' of 're.Pattern' objects}
    path = Path(filename)
    parts = path.parts
    for anchor in ("site-packages", "main", "work"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + 1 :]
            break
    short = "/".join(parts[-3:]) if len(parts) > 3 else "/".join(parts)
    return f"{short}:{line}({name})"


def top_functions(stats: pstats.Stats, limit: int = 12, by: str = "tottime") -> list[dict[str, Any]]:
    """The ``limit`` functions with the most own time (``tottime``) or cumulative time, as dicts."""
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1e-12  # sum of own times = profiled time
    index = 2 if by == "tottime" else 3
    ranked = sorted(raw.items(), key=lambda kv: kv[1][index], reverse=True)[:limit]
    return [
        {"function": _label(key), "seconds": round(entry[index], 4), "share": entry[index] / total, "calls": entry[1]}
        for key, entry in ranked
    ]


def profile_call(action: Callable[[], Any], limit: int = 12, by: str = "tottime",
                 dump: Path | None = None) -> list[dict[str, Any]]:
    """Run ``action`` under cProfile; return its top functions (and save the raw stats to ``dump``)."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        action()
    finally:
        profiler.disable()
    if dump is not None:
        dump.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(dump))
    return top_functions(pstats.Stats(profiler), limit=limit, by=by)
