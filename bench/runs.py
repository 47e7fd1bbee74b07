"""Run one ``bench.child`` spec in a fresh interpreter and collect its result."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from wildwatch.config import PROJECT_ROOT

__all__ = ["ChildError", "run_child", "child_env"]


class ChildError(RuntimeError):
    """A measured run failed; the message carries the end of its stderr."""


def child_env(**values: str | Path) -> dict[str, str]:
    """This environment without WILDWATCH_* (so a user's database is never touched) plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WILDWATCH_")}
    env.update({k: str(v) for k, v in values.items()})
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def run_child(spec: dict[str, Any], workdir: Path, env: dict[str, str], *, timeout: float = 1800) -> dict[str, Any]:
    """Run ``spec``; the result gains ``parent_cpu_seconds`` (this process's CPU meanwhile: the local servers)."""
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = f"{spec['kind']}-{time.monotonic_ns()}"
    spec_path, result_path = workdir / f"{stamp}.spec.json", workdir / f"{stamp}.result.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    cpu = time.process_time()
    wall = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.child", str(spec_path), str(result_path)], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not result_path.exists():
        tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-6:])
        raise ChildError(f"{spec['kind']} run failed (exit {proc.returncode}): {tail}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    result["parent_cpu_seconds"] = time.process_time() - cpu
    result["process_seconds"] = time.perf_counter() - wall
    return result
