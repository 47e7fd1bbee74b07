"""Print the image stage's measures on generated pictures: OCR character accuracy and image-link precision/recall.

    .venv/bin/python scripts/eval_images.py [--ocr-samples 60] [--skip-ocr]

Both use pictures drawn by wildwatch/demo/images.py (synthetic): they show the stage works and where it
breaks, not how it does on real marketplace photos.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wildwatch.images import evaluate  # noqa: E402
from wildwatch.images.links import MAX_DISTANCE  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr-samples", type=int, default=60)
    parser.add_argument("--skip-ocr", action="store_true")
    args = parser.parse_args()
    refs, truth = evaluate.demo_link_truth()
    print(f"Image links on the demo shops' generated pictures ({sum(map(len, refs.values()))} pictures, "
          f"{len(refs)} listings, {len(truth)} true listing pairs from data/demo_marketplace/images.json "
          "and the Old Street re-posts):")
    for distance in sorted({4, 6, MAX_DISTANCE, 10, 12}):
        precision, recall, found, wrong = evaluate.link_precision_recall(refs, truth, distance)
        mark = "  <- default" if distance == MAX_DISTANCE else ""
        print(f"  pHash distance <= {distance:2}: {found:3} links, precision {precision:.3f}, recall {recall:.3f}{mark}")
    if not args.skip_ocr:
        started = time.monotonic()
        accuracy = evaluate.measure_ocr(args.ocr_samples)
        print("\n".join(accuracy.lines()))
        print(f"  ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
