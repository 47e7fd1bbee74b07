"""scripts/measure_real_posts.py reads TweetEval's layout (posts written here, not copied), counts false alarms per
10,000 on each half, lists only the development half's flags, and fails on a folder without the files."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("measure_real_posts", ROOT / "scripts" / "measure_real_posts.py")
posts_script = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(posts_script)

TRAIN = ["that ivory dress though 😍 @user", "Raw ivory tusks 12kg for sale, whatsapp +254 700 000 000, pay first",
         "", "that ivory dress though 😍 @user"]
TEST = ["Tiger Woods is back baby", "Shark week marathon tonight 🦈", "that ivory dress though 😍 @user"]


def _tweeteval(root: Path) -> Path:
    for task, split, lines in (("emoji", "train", TRAIN), ("sentiment", "test", TEST), ("irony", "val", TEST[:1])):
        folder = root / "datasets" / task
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{split}_text.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_reads_each_half_once_per_distinct_post(tmp_path: Path) -> None:
    root = _tweeteval(tmp_path / "tweeteval")
    assert posts_script.read_posts(root, ("train",)) == TRAIN[:2]  # blank and repeated lines dropped
    held_out = ["Tiger Woods is back baby", "Shark week marathon tonight 🦈"]
    assert posts_script.read_posts(root, ("val", "test"), exclude=frozenset(TRAIN)) == held_out  # none shared


def test_counts_both_halves_and_lists_only_the_development_flags(tmp_path: Path, trained_models_dir: Path,
                                                                   capsys) -> None:
    root = _tweeteval(tmp_path / "tweeteval")
    assert posts_script.main([str(root), "--models", str(trained_models_dir), "--list"]) == 0
    out = capsys.readouterr().out
    assert "development (train): 2 posts, 1 flagged, 5000.0 false alarms per 10,000" in out
    assert "held out (val/test): 2 posts, 0 flagged" in out
    listed = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(listed) == 1 and "Raw ivory tusks" in listed[0]  # the offer written into the test is flagged


def test_a_folder_without_the_files_fails(tmp_path: Path, trained_models_dir: Path) -> None:
    assert posts_script.main([str(tmp_path), "--models", str(trained_models_dir)]) == 1
