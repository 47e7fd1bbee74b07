"""Where the read-only data that ships with wildwatch is: lexicon, taxon table, labelled training data,
demo catalogue, site configs.

An installed wheel carries them as package data: the ``wildwatch_data`` package (the source tree's
``data/`` folder, mapped by setup.py; what it holds and leaves out is listed in pyproject.toml) and
``crawler/sites``, both found with importlib.resources. Code that runs from a source tree (a checkout,
the editable install of `make setup`, a worktree on PYTHONPATH) reads that tree's ``data/``, so an edit
there is what the code sees.

Nothing here reads the environment or writes: what wildwatch writes (database, models, spool, exports)
lives under the home that wildwatch.config chooses (WILDWATCH_HOME). Library code (classifier/) takes
its default paths from here, never from wildwatch.config.
"""
from __future__ import annotations

import importlib.resources
import importlib.util
from pathlib import Path

__all__ = ["CODE_ROOT", "DATA_DIR", "DEMO_CATALOG", "HELD_BACK_DIR", "LABELLED_CSV", "LABELLED_DIR", "LEXICON_DIR",
           "SITES_DIR", "TAXA_DIR", "source_checkout"]

# The folder that holds the wildwatch package: a source tree, or site-packages for an installed wheel.
CODE_ROOT = Path(__file__).resolve().parent.parent
# The package the wheel installs data/ as (setup.py maps it; data/__init__.py marks the folder).
DATA_PACKAGE = "wildwatch_data"


def source_checkout() -> Path | None:
    """The source tree this code runs from (pyproject.toml and data/ beside the packages), else None."""
    if (CODE_ROOT / "pyproject.toml").is_file() and (CODE_ROOT / "data" / "__init__.py").is_file():
        return CODE_ROOT
    return None


def _data_dir() -> Path:
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "data"
    try:
        return Path(str(importlib.resources.files(DATA_PACKAGE)))
    except ModuleNotFoundError:
        # Not a source tree and no wildwatch_data installed: a broken install. The path named in the
        # errors that follow ("…/data/lexicon: no such folder") says where the data was looked for.
        return CODE_ROOT / "data"


def _sites_dir() -> Path:
    # find_spec locates the crawler package without importing it (this module stays a leaf).
    spec = importlib.util.find_spec("crawler")
    if spec is None or not spec.submodule_search_locations:
        return CODE_ROOT / "crawler" / "sites"
    return Path(next(iter(spec.submodule_search_locations))) / "sites"


DATA_DIR = _data_dir()
LEXICON_DIR = DATA_DIR / "lexicon"
TAXA_DIR = DATA_DIR / "taxa"
LABELLED_DIR = DATA_DIR / "labelled"
LABELLED_CSV = LABELLED_DIR / "listings.csv"
DEMO_CATALOG = DATA_DIR / "demo_marketplace" / "listings.jsonl"
# Writers nobody trains on or reads: the training step chooses its threshold on them (classifier.held_back).
HELD_BACK_DIR = DATA_DIR / "independent" / "calibration"
SITES_DIR = _sites_dir()
