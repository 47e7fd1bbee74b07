"""Classifier throughput on one core: the full scoring path next to jieba alone and a naive keyword scan.

All three read the same 200-character mixed Chinese/English listings.  Rates
are CPU-time rates (listings per CPU-second of this process, BLAS pinned to one
thread), best of a few interleaved repeats: on a shared machine CPU time is
what one core can do, wall-clock time is what the neighbours let it do.
"""
from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.profiling import profile_call
from bench.results import Figure, StageResult

__all__ = ["run", "keyword_scanner", "cpu_rate", "make_listings"]

STAGE = "classifier"


def make_listings(n: int, length: int = 200, *, seed: int = 0, source: Path | None = None) -> list[dict]:
    """``n`` listings whose title + description total ``length`` characters (200 by default, a typical
    marketplace listing), built from the labelled data's titles and descriptions, cut or repeated."""
    from classifier.labelled import read_labelled
    from wildwatch.resources import LABELLED_CSV

    rows, _ = read_labelled(source or LABELLED_CSV)
    rnd = random.Random(seed)
    listings = []
    for i in range(n):
        row = rnd.choice(rows)
        body = (row.description or row.title) + " "
        while len(row.title) + len(body) < length:
            body += rnd.choice(rows).description or rnd.choice(rows).title
        listings.append({"id": str(i), "title": row.title, "description": body[: max(0, length - len(row.title))]})
    return listings


def cpu_rate(action: Callable[[], Any], count: int, repeats: int) -> float:
    """Best-of-``repeats`` items per CPU-second for ``action`` (which handles ``count`` items)."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return count / max(best, 1e-9)


def keyword_scanner(terms: list[str]) -> Callable[[str], list[str]]:
    """What a naive monitor runs: one regex alternation of species names over lower-cased text."""
    ordered = sorted({t.lower() for t in terms if t.strip()}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in ordered))
    return lambda text: pattern.findall(text.lower())


def run(scorer: Any, listings: list[dict[str, str]], *, repeats: int = 3, batch_size: int = 512,
        single_count: int = 300, profile: bool = True) -> StageResult:
    from threadpoolctl import threadpool_limits

    from classifier.text import JiebaTokenizer, TextCache, clear_text_caches, normalise

    result = StageResult(STAGE)
    n = len(listings)
    semantic_scorer = scorer if getattr(scorer, "semantic", None) is not None else None
    if semantic_scorer is not None:
        # The classify goal is stage one's: the semantic stage runs on its candidates only (about four in a
        # hundred real posts, four in ten here), so its cost is its own figure, per candidate, below.
        scorer = type(scorer)(scorer.model, scorer.metadata, scorer.threshold)
    model = scorer.model  # InferenceModel (or a pipeline's PipelineScoring): analyse, then predict_proba
    lexicon = model.lexicon
    texts = [f"{item['title']} {item['description']}" for item in listings]
    chars = sum(len(t) for t in texts) / max(n, 1)

    jieba = JiebaTokenizer(e.normalised for e in lexicon.entries).tokenizer  # lexicon words kept whole
    scan = keyword_scanner([e.term for e in lexicon.entries if e.kind == "species"])

    # Every timed pass starts with empty text memos (classifier.text.TextCache): the same listings
    # are scored several times here, and a memo must only count for repeats within one pass.
    def full() -> None:
        clear_text_caches()
        for start in range(0, n, batch_size):
            scorer.score_many(listings[start : start + batch_size])

    def segment() -> None:
        for text in texts:
            jieba.lcut(text, HMM=False)

    def keywords() -> None:
        for text in texts:
            scan(text)

    def normalise_only() -> None:
        for item in listings:
            normalise(item["title"])
            normalise(item["description"])

    analyses: list = []

    def analyse() -> None:
        clear_text_caches()
        analyses[:] = model.analyse(listings)

    def model_only() -> None:  # what score_many runs after the analysis
        model.predict_proba(analyses)

    def one_at_a_time() -> None:
        clear_text_caches()
        for item in listings[:single_count]:
            scorer.score(item["title"], item["description"])

    with threadpool_limits(1):
        full()  # warm-up: OpenCC, jieba dictionaries, lazy imports
        segment()
        rates: dict[str, float] = {name: 0.0 for name in ("full", "jieba", "keywords")}
        for _ in range(max(1, repeats)):  # interleaved so a noisy moment hits all three alike
            rates["full"] = max(rates["full"], cpu_rate(full, n, 1))
            rates["jieba"] = max(rates["jieba"], cpu_rate(segment, n, 1))
            rates["keywords"] = max(rates["keywords"], cpu_rate(keywords, n, 1))
        parts = {
            "normalise (title + description)": cpu_rate(normalise_only, n, repeats),
            "analyse = normalise + lexicon rules": cpu_rate(analyse, n, repeats),
            "features + logistic regression": cpu_rate(model_only, n, repeats),
        }
        single = cpu_rate(one_at_a_time, min(single_count, n), repeats)
        TextCache.enabled = False  # what the memos of repeated titles and descriptions are worth here
        try:
            parts["full path without text memos"] = cpu_rate(full, n, repeats)
        finally:
            TextCache.enabled = True
        profile_rows = profile_call(full, limit=14) if profile else []

    us = lambda rate: 1e6 / rate  # noqa: E731 - µs of CPU per listing
    result.figures += [
        Figure(STAGE, "full scoring path, CPU per listing", us(rates["full"]), "µs",
               "jieba segmentation alone", us(rates["jieba"]),
               goal="≤ 1.2× jieba", goal_ratio=1.2, goal_op="<=",
               note="normalise, lexicon rules, char n-grams, logistic regression, evidence"),
        Figure(STAGE, "full scoring path, listings/s per core", rates["full"], "listings/s",
               "naive species keyword scan", rates["keywords"],
               goal="≥ 3,000 listings/s", goal_value=3000, goal_value_op=">="),
        Figure(STAGE, "score() one listing per call", single, "listings/s",
               f"score_many, batch {batch_size}", rates["full"],
               note="per-call overhead on a batch of one; the crawl's ScorePipeline scores in batches"),
    ]
    result.details = {
        "listings": n,
        "mean_characters": round(chars, 1),
        "batch_size": batch_size,
        "rates_listings_per_cpu_second": {**{k: round(v, 1) for k, v in rates.items()},
                                          **{k: round(v, 1) for k, v in parts.items()},
                                          "score() one at a time": round(single, 1)},
        "profile": profile_rows,
        "profile_what": f"cProfile of score_many over {n} listings, own time per function",
        "model_version": scorer.version,
    }
    shares = {k: rates["full"] / v for k, v in parts.items() if k != "full path without text memos"}
    result.notes.append(
        "share of the full path's CPU: "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        + " (analyse includes normalise)"
    )
    result.notes.append(
        f"without the memos of repeated field texts: {parts['full path without text memos']:,.0f} listings/s "
        f"(these listings repeat titles: {len({item['title'] for item in listings}):,} distinct of {n:,})"
    )
    if semantic_scorer is not None:
        _semantic_figures(result, semantic_scorer, scorer, listings[: min(n, 1000)], repeats)
    uses_jieba = model.uses_words
    result.notes.append(
        "the model's features are char n-grams + rule evidence; jieba word features are "
        + ("on" if uses_jieba else "off (build_pipeline(words=False)), so the full path does not run jieba at all")
    )
    return result


def _semantic_figures(result: StageResult, with_stage: Any, stage_one: Any, listings: list[dict], repeats: int) -> None:
    """The semantic second stage's CPU per candidate, and what it costs a night at a given share of candidates."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from classifier.inference import logit
    from classifier.semantic import semantic_text
    from classifier.text import clear_text_caches

    semantic = with_stage.semantic
    probabilities = stage_one.model.predict_proba(stage_one.model.analyse(listings))
    z = logit(probabilities) - semantic.prior_shift
    candidates = [item for item, value in zip(listings, z) if value >= semantic.candidate_logit]
    if not candidates:
        result.notes.append("semantic stage: no candidate among the bench listings")
        return
    texts = [semantic_text(item["title"], item["description"]) for item in candidates]

    def embed() -> None:
        semantic.encoder_.encode(texts)

    def both() -> None:
        clear_text_caches()
        with_stage.score_many(listings)

    with threadpool_limits(1):
        embed()  # warm-up: the encoder's weights
        per_candidate = cpu_rate(embed, len(texts), repeats)
        full_rate = cpu_rate(both, len(listings), repeats)
    stage_one_rate = result.figures[1].value if len(result.figures) > 1 else full_rate
    share = len(candidates) / len(listings)

    def at(fraction: float) -> float:  # listings/s when `fraction` of them are candidates
        return 1.0 / (1.0 / stage_one_rate + fraction / per_candidate)

    result.figures.append(Figure(
        STAGE, "semantic second stage, CPU per candidate", 1e6 / per_candidate, "µs",
        "full scoring path of stage one, per listing", 1e6 / stage_one_rate,
        note=f"sentence embedding of title + description ({semantic.encoder} {semantic.encoder_version}), "
             f"candidates only"))
    result.figures.append(Figure(
        STAGE, "scoring with the semantic stage, listings/s per core", full_rate, "listings/s",
        "stage one alone", stage_one_rate,
        note=f"{share:.0%} of these listings are candidates (most are wildlife listings)"))
    result.details["semantic"] = {"candidates": len(candidates), "listings": len(listings),
                                  "candidate_share": round(share, 4),
                                  "embeddings_per_cpu_second": round(per_candidate, 1),
                                  "listings_per_second_at_candidate_share": {
                                      f"{p:.0%}": round(at(p), 1) for p in (0.01, 0.04, share)}}
    result.notes.append(
        f"semantic stage: {per_candidate:,.0f} candidates/s; at 1% candidates (real Chinese reviews: 0.7%) scoring "
        f"runs at {at(0.01):,.0f} listings/s, at 4% (real English posts, TweetEval: 3.9%) at {at(0.04):,.0f}")
