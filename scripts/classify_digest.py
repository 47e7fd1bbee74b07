"""A digest of everything the scorer says about every listing of the project's own data sets.

Run it before and after a change to the scoring machinery: equal digests mean every score (to the
last bit), flag, evidence item, species, taxon and protection is unchanged on every listing of

* data/independent/dev/*.jsonl (measuring sets: scored, never read row by row here),
* data/labelled/listings.csv and data/labelled/extra/*.csv (the training CSVs),
* data/demo_marketplace/listings.jsonl (the demo catalogue),
* a fixed set of hostile texts (separators inside words, emoji, traditional characters, very long text).

    PYTHONPATH=. python scripts/classify_digest.py [--models models] [--dump out.jsonl]

``--dump`` writes one JSON line per listing (set, id, result) so two runs can be diffed to find
the listings that changed.  ``--single`` also scores each listing with ``Scorer.score`` (one per
call) and checks it equals the batch result.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def hostile_records(n: int = 400, seed: int = 7) -> list[dict]:
    """Deterministic hostile listings built from fixed fragments: every evasion normalise undoes."""
    rnd = random.Random(seed)
    words = ["象牙", "犀牛角", "穿山甲片", "玳瑁", "羚羊角", "虎骨", "熊胆", "ivory", "rhino horn", "pangolin",
             "私聊", "微信", "出", "收", "不是象牙", "非象牙", "象牙平替", "not ivory", "ivory-free", "老白", "小猫",
             "环尾", "像牙", "橡牙", "像芽", "川山假", "csj", "xiangya", "ling yang jiao", "ivo ry", "pango-lin",
             "象-牙", "象 牙", "象.牙", "象*牙", "i.v.o.r.y", "i-v-o-r-y", "iv0ry", "sa1g@", "ivoryyyy", "象象象牙",
             "犀角", "鶴頂紅", "象牙手鐲", "穿山甲鱗片", "🐘", "🦏", "🐯", "☎️", "👍🏽", "\u200b", "\ufeff", "\u00ad",
             "ＩＶＯＲＹ", "５８００", "¥5800", "价格: 300", "v: abc123", "一三八一二三四五六七八", "13812345678",
             "WeChat", "DM", "for sale", "WTS", "seized", "police", "plush", "toy", "resin", "树脂", "仿",
             "人工繁育", "有证", "no papers", "吗？", "?", "\n", "\t", "  ", "，", "。", "𠀀", "\x00", "\ud800",
             "pre-ban", "antique", "老货", "包邮", "手镯", "雕件", "Tiger Balm", "虎標", "鳄鱼 POLO衫"]
    records = []
    for i in range(n):
        k = rnd.randint(1, 12)
        parts = [rnd.choice(words) for _ in range(k)]
        sep = rnd.choice(["", " ", "-", "·", "|", "\u200b", " / "])
        title = sep.join(parts)
        desc_parts = [rnd.choice(words) for _ in range(rnd.randint(0, 30))]
        description = rnd.choice(["", " ", "\n"]).join(desc_parts)
        if i % 50 == 0:  # very long text, beyond the caps
            description = (description + " 象牙 ivory 私聊 ") * 1200
        if i % 37 == 0:
            title = title * 80
        price = rnd.choice([None, 0, 35, 5800, -1, float("nan"), "12", "x"])
        currency = rnd.choice([None, "CNY", "HKD", "usd", "XXX", ""])
        records.append({"id": f"H-{i:04d}", "title": title, "description": description, "price": price,
                        "currency": currency})
    return records


def _jsonl(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append({"id": row.get("id"), "title": row.get("title") or "", "description": row.get("description") or "",
                        "price": row.get("price"), "currency": row.get("currency")})
    return out


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{"id": r.get("id"), "title": r.get("title") or "", "description": r.get("description") or "",
                 "price": r.get("price") or None, "currency": r.get("currency") or None}
                for r in csv.DictReader(handle)]


def datasets() -> dict[str, list[dict]]:
    sets: dict[str, list[dict]] = {}
    for path in sorted((ROOT / "data/independent/dev").glob("*.jsonl")):
        sets[f"dev/{path.stem}"] = _jsonl(path)
    sets["labelled/listings"] = _csv(ROOT / "data/labelled/listings.csv")
    for path in sorted((ROOT / "data/labelled/extra").glob("*.csv")):
        sets[f"labelled/extra/{path.stem}"] = _csv(path)
    sets["demo_marketplace"] = _jsonl(ROOT / "data/demo_marketplace/listings.jsonl")
    sets["hostile"] = hostile_records()
    return sets


def result_line(result) -> str:
    data = result.to_dict()
    data["score"] = float(data["score"]).hex()  # every bit of the score
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=str(ROOT / "models"))
    parser.add_argument("--dump", default=None)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--single", action="store_true", help="also check score() one at a time equals batches")
    args = parser.parse_args(argv)

    from classifier.scorer import Scorer

    scorer = Scorer.load(Path(args.models))
    total = hashlib.sha256()
    dump = open(args.dump, "w", encoding="utf-8") if args.dump else None
    mismatches = 0
    for name, records in datasets().items():
        digest = hashlib.sha256()
        for start in range(0, len(records), args.batch):
            batch = records[start : start + args.batch]
            for record, result in zip(batch, scorer.score_many(batch)):
                line = result_line(result)
                digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
                if dump:
                    dump.write(json.dumps({"set": name, "id": record["id"]}, ensure_ascii=False)[:-1]
                               + ', "result": ' + line + "}\n")
                if args.single:
                    one = scorer.score(record["title"], record["description"], price=record["price"],
                                       currency=record["currency"]) if not isinstance(record["price"], str) else None
                    if one is not None and result_line(one) != line:
                        mismatches += 1
        total.update(f"{name}:{digest.hexdigest()}\n".encode())
        print(f"{name:32s} {len(records):6d} {digest.hexdigest()[:16]}")
    print(f"{'ALL':32s} {'':6s} {total.hexdigest()}  model {scorer.version}")
    if dump:
        dump.close()
    if args.single:
        print(f"score() one at a time differs from batches on {mismatches} listings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
