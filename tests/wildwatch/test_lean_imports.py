"""Scoring and plain-page extraction do not load libraries they do not use (memory of a nightly process)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.extractors.structured import extract_structured

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_syllable_table_is_read_without_importing_pypinyin() -> None:
    out = _run(
        "import sys\n"
        "from classifier.homophones import syllable_table, _single_character_readings\n"
        "table, symbols = syllable_table()\n"
        "assert 'pypinyin' not in sys.modules, 'pypinyin imported'\n"
        "readings = _single_character_readings()\n"
        "from pypinyin.pinyin_dict import pinyin_dict\n"
        "assert readings == pinyin_dict\n"
        "print(len(table), len(symbols))"
    )
    characters, syllables = map(int, out.split())
    assert characters > 20_000 and 300 < syllables < 1_000


def test_a_plain_page_is_not_parsed_by_extruct() -> None:
    out = _run(
        "import sys\n"
        "from crawler.extractors.structured import extract_structured\n"
        "print(extract_structured('<html><head><title>x</title></head><body><h1>Tiger Balm</h1></body></html>',"
        " 'http://127.0.0.1/'), 'extruct' in sys.modules)"
    )
    assert out == "({}, '') False"


JSON_LD = ('<html><head><script type="application/ld{plus}json">{{"@context": "https://schema.org", '
           '"@type": "Product", "name": "Carved box"}}</script></head><body></body></html>')


@pytest.mark.parametrize("page, method", [
    (JSON_LD.format(plus="+"), "jsonld"),
    (JSON_LD.format(plus="&#43;"), "jsonld"),  # the "+" as a character reference: still read
    ('<html><head><meta property="og:title" content="Carved box"></head><body></body></html>', "opengraph"),
    ('<html><body><div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Carved box</span>'
     '</div></body></html>', "microdata"),
])
def test_pages_with_structured_data_are_still_read(page: str, method: str) -> None:
    fields, found = extract_structured(page, "http://127.0.0.1/item/1")
    assert found == method and fields["title"] == "Carved box"


def test_a_crawl_process_does_not_import_pandas() -> None:
    """Every crawl and worker process imports the store and the pipelines; pandas (~80 MB of RSS, ~0.4 s
    of CPU) is for the export at the end of a night and the review app, and comes with `listings_frame`."""
    out = _run(
        "import sys\n"
        "import wildwatch.crawl, crawler.pipelines, crawler.distributed, store.repository, store.queries\n"
        "print('pandas' in sys.modules)"
    )
    assert out == "False"
