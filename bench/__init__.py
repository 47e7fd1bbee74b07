"""Benchmarks: how fast and how lean every stage of wildwatch is, each against a baseline run side by side.

`wildwatch bench [--quick]` (or `python -m bench`) runs every stage and writes
the table as JSON and Markdown under data/bench/.  Every figure is a ratio to
a baseline measured in the same run, because the machines are shared and
noisy; nothing here is ever asserted as a timing in a test.
See docs/performance.md for the goals, the reference results and how to read them.
"""
