"""Terminal rendering for `wildwatch evaluate` and `wildwatch lexicon report` (rich tables; no computing here)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["render_evaluation", "render_lexicon_report"]


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"


def _slice_table(title: str, first: str, rows: dict[str, dict]) -> Table:
    table = Table(title=title, title_justify="left")
    for header in (first, "n", "positives", "precision", "recall", "F1", "FP rate", "FP", "FN"):
        table.add_column(header, justify="left" if header == first else "right")
    for name, r in rows.items():
        table.add_row(name, str(r["n"]), str(r["n_positive"]), _pct(r["precision"]), _pct(r["recall"]),
                      _pct(r["f1"]), _pct(r["false_positive_rate"]), str(r["fp"]), str(r["fn"]))
    return table


def _errors_table(title: str, rows: list[dict]) -> Table:
    table = Table(title=title, title_justify="left")
    for header in ("id", "score", "category", "group", "lang", "title", "evidence"):
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(escape(r["id"]), f"{r['score']:.3f}", r["category"], r["group"], r["lang"],
                      escape(r["title"][:60]), escape(r["evidence"][:100]))
    return table


def render_evaluation(report: Any, console: Console) -> None:
    m = report.metrics
    cm = m["confusion_matrix"]
    console.print(f"[bold]{escape(report.data)}[/] ({report.split} rows: {m['n']}, {m['n_positive']} positive) "
                  f"with model {report.model_version} at threshold {report.threshold:.3f}", highlight=False)
    headline = Table(show_header=True)
    for header in ("precision", "recall", "F1", "PR AUC", "ROC AUC", "coded recall", "hard-negative FPR",
                   "TP", "FP", "FN", "TN"):
        headline.add_column(header, justify="right")
    headline.add_row(_pct(m["precision"]), _pct(m["recall"]), _pct(m["f1"]), str(m.get("pr_auc")),
                     str(m.get("roc_auc")), _pct(m.get("coded_recall")), _pct(m.get("hard_negative_fpr")),
                     str(cm["tp"]), str(cm["fp"]), str(cm["fn"]), str(cm["tn"]))
    console.print(headline)
    # What an analyst queue feels: false alarms among ordinary text, and how clean the top of the queue is.
    console.print(f"false alarms per 10,000 negatives: {m.get('false_alarms_per_10k')}"
                  f" (ordinary: {m.get('ordinary_false_alarms_per_10k', 'n/a')}); precision in the top 50: "
                  f"{_pct(m.get('precision_at_50'))}, top 100: {_pct(m.get('precision_at_100'))}; precision at a 1% "
                  f"share of offers: {_pct(m.get('precision_at_1pct_prevalence'))}", highlight=False)
    if m.get("per_category"):
        table = Table(title="per category", title_justify="left")
        for header in ("category", "n", "positives", "recall", "FP rate"):
            table.add_column(header, justify="left" if header == "category" else "right")
        for name, r in m["per_category"].items():
            table.add_row(name, str(r["n"]), str(r["n_positive"]), _pct(r["recall"]), _pct(r["false_positive_rate"]))
        console.print(table)
    if m.get("per_group"):
        console.print(_slice_table("per group", "group", m["per_group"]))
    if m.get("per_language"):
        console.print(_slice_table("per language", "language", m["per_language"]))
    if report.worst_false_negatives:
        console.print(_errors_table("worst misses (label 1, lowest scores)", report.worst_false_negatives))
    if report.worst_false_positives:
        console.print(_errors_table("worst false alarms (label 0, highest scores)", report.worst_false_positives))
    if report.plot:
        console.print(f"precision-recall curve: {report.plot}", highlight=False)


def render_lexicon_report(path: Path, n: int, families: list, stats: list | None, limit: int,
                          console: Console) -> None:
    console.print(f"[bold]lexicon rules on {escape(str(path))}[/] ({n} labelled listings)", highlight=False)
    table = Table(title="rule families", title_justify="left")
    for header in ("rule", "fires on", "coverage", "label 1", "label 0", "precision", "share of positives"):
        table.add_column(header, justify="left" if header == "rule" else "right")
    for f in families:
        table.add_row(f.rule, str(f.fired), _pct(f.coverage), str(f.positives), str(f.negatives),
                      _pct(f.precision), _pct(f.recall))
    console.print(table)
    if stats is None:
        return
    hits = [s for s in stats if s.rule not in ("exclusion", "denied") and s.kind != "intent"]
    sections = [
        ("most-fired hit terms", sorted(hits, key=lambda s: -s.fired)),
        ("hit terms that fire mostly on label 0 (need an exclusion or a lower confidence)",
         sorted([s for s in hits if s.fired >= 3 and (s.precision or 0) < 0.5], key=lambda s: -s.negatives)),
        ("exclusions and denials", sorted([s for s in stats if s.rule in ("exclusion", "denied") and s.fired],
                                          key=lambda s: -s.fired)),
        ("intent terms", sorted([s for s in stats if s.kind == "intent" and s.fired], key=lambda s: -s.fired)),
    ]
    for title, rows in sections:
        table = Table(title=title, title_justify="left")
        for header in ("term", "group", "kind", "rule", "fired", "label 1", "label 0", "precision"):
            table.add_column(header, justify="right" if header in ("fired", "label 1", "label 0", "precision")
                             else "left")
        for s in rows[: limit or None]:
            table.add_row(escape(s.term), s.group, s.kind, s.rule, str(s.fired), str(s.positives),
                          str(s.negatives), _pct(s.precision))
        console.print(table)
    silent = [s for s in stats if s.fired == 0]
    console.print(f"{len(silent)} of {len(stats)} rules never fired on this data "
                  f"(rare, new, or misspelled; --csv lists them all)")
