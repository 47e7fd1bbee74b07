"""What the tests share: where things are, the CLI runner, the mock shop server, the browser-or-skip helper,
the test database backend and the demo data seeders. Importable as `support` from any test folder (tests/ is
on sys.path through the root conftest.py)."""
from __future__ import annotations

from pathlib import Path

#: The repository root (the project's data/, the CLI's working directory).
ROOT = Path(__file__).resolve().parents[2]
#: tests/fixtures: saved pages, small classifier data, the Zyte sample.
FIXTURES = ROOT / "tests" / "fixtures"
