"""The model the benchmarks score with: the active one when it works, else one trained for the run."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_PROBE = [{"title": "象牙手镯 老货 私聊", "description": "ivory bangle, pre-ban, DM for price"},
          {"title": "iPhone 15 手机壳", "description": "全新 包邮"}]


@dataclass
class BenchModel:
    models_dir: Path  # a models root with ACTIVE, or one version directory
    version: str
    note: str


def bench_model(models_dir: Path | None, workdir: Path, *, train_always: bool = False) -> BenchModel:
    """A model that loads and scores under the current code.

    The active model (``models_dir`` or WILDWATCH_MODELS_DIR) is used when it
    loads and scores a probe; otherwise (none trained yet, or trained by older
    code) one is trained from data/labelled into ``workdir`` so the figures
    measure today's code rather than fail on a stale artifact.
    """
    from classifier.scorer import Scorer

    problem = "training one was asked for"
    if not train_always:
        if models_dir is None:
            from wildwatch.config import Settings

            models_dir = Settings.from_env().models_dir
        try:
            scorer = Scorer.load(models_dir)
            scorer.score_many(_PROBE)
            return BenchModel(Path(models_dir), scorer.version, f"active model {scorer.version}")
        except Exception as exc:  # noqa: BLE001 - any failure means: train a fresh one
            problem = f"active model unusable ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
            log.warning("bench: %s; training a model for this run", problem)
    from classifier.train import train

    report = train(models_dir=workdir / "models", activate=True)
    return BenchModel(workdir / "models", report.version_dir.name,
                      f"model {report.version_dir.name} trained for this run: {problem}")
