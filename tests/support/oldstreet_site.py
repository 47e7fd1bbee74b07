"""The demo's Old Street shop (wildwatch.demo.oldstreet) crawled from a site config of the test's own, and the
resume journal read back: for tests that kill, slow down or starve a crawl of it."""
from __future__ import annotations

import json
from pathlib import Path

SITE = """\
name: {name}
base_url: {base}
start_urls: [/, /tw/]
links:
  follow: ["td.cats a::attr(href)"]
  listing: ["{listing}"]
  next_page: ["xpath://a[contains(., '下一页') or contains(., '下一頁')]/@href"]
  listing_url_pattern: goods\\.php\\?id=(?P<id>OS-\\d+)
fields:
  listing_id: {{selector: "p.gid::text", regex: "(OS-\\\\d+)"}}
  title: td.gname::text
  description: div#goods-desc
politeness:
  download_delay: {delay}
  concurrency: 1
  autothrottle: false
monitoring:
  min_listings: 20
"""


def write_site(path: Path, base: str, *, name: str = "oldstreet", delay: float = 0,
               listing: str = "td.title a::attr(href)") -> Path:
    path.write_text(SITE.format(name=name, base=base, delay=delay, listing=listing), encoding="utf-8")
    return path


def journal_batches(journal: Path) -> int:
    if not journal.is_file():
        return 0
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    return sum(1 for line in lines if line.get("stored"))
