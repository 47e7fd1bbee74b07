"""The taxon table: which species a listing is about and how strictly it is protected.

``data/taxa/`` holds the taxa of the two 2021 Chinese key-protection lists and the CITES taxa
the lexicon's trade groups need (taxa.csv), every name a listing may use for them (names.csv,
aliases.csv), the taxon that stands for each lexicon group (group_taxa.csv) and the lists the
statuses come from (sources.csv).  Standard names live here, apart from the curated trade
lexicon (data/lexicon/terms.csv): they name the protection of a listing, they do not score it.
The model is trained on the lexicon's 24 groups; a feature for 5,000 species names would be
learned from no labelled example of most of them.

No I/O after loading: ``TaxonMatcher.identify`` takes normalised text and the lexicon evidence.
"""
from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from classifier.evidence import Evidence
from classifier.lexicon import ANY_GROUP, LEGAL_FILE, read_legal
from classifier.matching import TermMatcher
from classifier.text import normalise
from wildwatch.resources import LEXICON_DIR, TAXA_DIR

__all__ = [
    "Protection",
    "Source",
    "Taxon",
    "TaxonMatch",
    "TaxonTable",
    "TaxonMatcher",
    "TaxaError",
    "TaxaReport",
    "load_taxa",
    "default_matcher",
    "validate_taxa",
    "PROTECTION_RANKS",
]

TAXA_COLUMNS = (
    "taxon_id", "rank", "scientific_name", "name_zh", "name_en", "kingdom", "class", "order", "family", "group",
    "china_class", "china_note", "china_source", "cites_appendix", "cites_note", "cites_source",
)
NAME_COLUMNS = ("name", "lang", "taxon_id", "kind", "ambiguous", "why", "source")
ALIAS_COLUMNS = ("term", "lang", "taxon_id", "source", "note")
SOURCE_COLUMNS = ("source_id", "document", "issued", "publisher", "copy", "licence", "note")
GROUP_TAXA_COLUMNS = ("group", "taxon_id", "why")
TOTAL_COLUMNS = ("list", "total", "source", "note")

# Sort keys for the queue: the strictest status first, no taxon last.
PROTECTION_RANKS = {0: "China Class I or CITES Appendix I", 1: "China Class II or CITES Appendix II",
                    2: "CITES Appendix III", 3: "no listing found"}
LISTS = ("china_I", "china_II", "cites_I", "cites_II")
_SPECIFICITY = {"species": 3, "subspecies": 4, "variety": 4, "genus": 2, "section": 2, "family": 1, "order": 0}
# Words that make an everyday or wild-only name count: the text is about the animal or plant itself.
CONTEXT_WORDS = tuple(normalise(w) for w in (
    "野生", "野外", "野采", "山挖", "原生", "活体", "标本", "皮张", "幼崽", "鳞片", "整只", "整张", "骨头",
    "wild", "wild-caught", "wild caught", "live", "specimen", "taxidermy", "pelt", "skull", "skins",
))


class TaxaError(ValueError):
    """The taxon table cannot be used: names the file, line and reason."""


@dataclass(frozen=True)
class Source:
    """One official list a status comes from (sources.csv)."""

    source_id: str
    document: str
    issued: str
    publisher: str
    copy: str = ""
    licence: str = ""
    note: str = ""

    def in_words(self) -> str:
        return f"{self.document}, {self.publisher}, {self.issued}"


@dataclass(frozen=True)
class Protection:
    """A taxon's China class and CITES appendix, with the lists that say so."""

    china_class: str = ""
    china_note: str = ""
    cites_appendix: str = ""
    cites_note: str = ""
    china_source: Source | None = None
    cites_source: Source | None = None

    @property
    def rank(self) -> int:
        """0 = China Class I or any CITES Appendix I population, 1 = Class II / Appendix II, 2 = III, 3 = none."""
        cites = set(self.cites_appendix.split("/")) - {""}
        if self.china_class == "I" or "I" in cites:
            return 0
        if self.china_class == "II" or "II" in cites:
            return 1
        return 2 if "III" in cites else 3

    @property
    def label(self) -> str:
        """"China Class I, CITES Appendix I"; "no listing found" when neither list has the taxon."""
        parts = []
        if self.china_class:
            wild = " (wild populations only)" if "仅限野外" in self.china_note else ""
            parts.append(f"China Class {self.china_class}{wild}")
        if self.cites_appendix:
            word = "Appendices" if "/" in self.cites_appendix else "Appendix"
            parts.append(f"CITES {word} {self.cites_appendix}")
        return ", ".join(parts) or "no listing found"

    def legal_basis(self) -> str:
        """The legal basis in words, one sentence per list, with the list's own notes."""
        out = []
        if self.china_class and self.china_source:
            note = f" List note: {self.china_note}." if self.china_note else ""
            out.append(f"China Class {self.china_class}: {self.china_source.in_words()}.{note}")
        if self.cites_appendix and self.cites_source:
            note = f" {self.cites_note}." if self.cites_note else ""
            out.append(f"CITES Appendix {self.cites_appendix}: {self.cites_source.in_words()}.{note}")
        if not out:
            return "Not found on the 2021 Chinese key-protection lists or in the CITES Appendices of the table."
        return " ".join(out)


@dataclass(frozen=True)
class Taxon:
    """One row of taxa.csv."""

    taxon_id: str
    rank: str
    scientific_name: str
    name_zh: str
    name_en: str
    kingdom: str
    group: str
    protection: Protection
    family: str = ""
    order: str = ""

    @property
    def display(self) -> str:
        """"穿山甲 Manis pentadactyla (Chinese Pangolin)"."""
        names = " ".join(p for p in (self.name_zh, self.scientific_name) if p)
        return f"{names} ({self.name_en})" if self.name_en else names


@dataclass(frozen=True)
class TaxonMatch:
    """The taxon a listing is about, how it was found, and the legal lookalikes its text mentions."""

    taxon: Taxon
    matched: str  # the text that named it ("" when only the lexicon group did)
    how: str  # "name" | "alias" | "group"
    legal: tuple[str, ...] = ()

    @property
    def protection(self) -> Protection:
        return self.taxon.protection

    def to_dict(self) -> dict:
        p = self.taxon.protection
        return {
            "taxon_id": self.taxon.taxon_id,
            "scientific_name": self.taxon.scientific_name,
            "name_zh": self.taxon.name_zh,
            "name_en": self.taxon.name_en,
            "rank": self.taxon.rank,
            "group": self.taxon.group,
            "matched": self.matched,
            "how": self.how,
            "china_class": p.china_class,
            "cites_appendix": p.cites_appendix,
            "protection_rank": p.rank,
            "protection": p.label,
            "legal_basis": p.legal_basis(),
            "legal_lookalikes": list(self.legal),
        }


@dataclass(frozen=True)
class _Name:
    taxon_id: str
    how: str  # "name" | "alias"
    ambiguous: bool


@dataclass
class TaxonTable:
    """Everything in data/taxa/, validated; ``issues`` holds what ``validate_taxa`` reports."""

    taxa: dict[str, Taxon]
    names: dict[str, list[_Name]]  # normalised name -> taxa it may name
    group_taxa: dict[str, str]
    sources: dict[str, Source]
    totals: dict[str, int]
    legal: dict[tuple[str, str], str]  # (normalised term, group) -> "term (category): basis"
    issues: list[str] = field(default_factory=list)

    def protection_counts(self) -> dict[str, int]:
        """Taxa in the table per list (China Class I/II, CITES Appendix I/II)."""
        counts: Counter = Counter()
        for t in self.taxa.values():
            for key in _lists_of(t.protection):
                counts[key] += 1
        return {k: counts.get(k, 0) for k in LISTS}


def _lists_of(p: Protection) -> list[str]:
    cites = set(p.cites_appendix.split("/")) - {""}
    out = [f"china_{p.china_class}"] if p.china_class in ("I", "II") else []
    return out + [f"cites_{a}" for a in ("I", "II") if a in cites]


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise TaxaError(f"{path}: file not found (expected columns: {','.join(columns)})")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise TaxaError(f"{path}: missing column(s) {', '.join(missing)}")
        return [(n, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, start=2)]


def load_taxa(directory: Path | str = TAXA_DIR, lexicon_dir: Path | str = LEXICON_DIR) -> TaxonTable:
    """Read data/taxa/*.csv (and the lexicon's legal.csv); bad rows become ``issues``, never silently kept."""
    directory = Path(directory)
    issues: list[str] = []
    sources = {r["source_id"]: Source(**{c: r[c] for c in SOURCE_COLUMNS})
               for _, r in _rows(directory / "sources.csv", SOURCE_COLUMNS)}
    taxa: dict[str, Taxon] = {}
    by_sci: dict[str, tuple[int, Taxon]] = {}
    for line, r in _rows(directory / "taxa.csv", TAXA_COLUMNS):
        where = f"taxa.csv line {line} ({r['taxon_id'] or '?'})"
        if not r["taxon_id"] or not r["scientific_name"]:
            issues.append(f"{where}: taxon_id and scientific_name are required")
            continue
        problems = _status_problems(r, sources)
        issues += [f"{where}: {p}" for p in problems]
        if problems:
            continue
        protection = Protection(
            china_class=r["china_class"], china_note=r["china_note"], cites_appendix=r["cites_appendix"],
            cites_note=r["cites_note"], china_source=sources.get(r["china_source"]),
            cites_source=sources.get(r["cites_source"]),
        )
        taxon = Taxon(taxon_id=r["taxon_id"], rank=r["rank"], scientific_name=r["scientific_name"],
                      name_zh=r["name_zh"], name_en=r["name_en"], kingdom=r["kingdom"], group=r["group"] or "other",
                      protection=protection, family=r["family"], order=r["order"])
        if taxon.taxon_id in taxa:
            issues.append(f"{where}: duplicate taxon_id")
            continue
        key = taxon.scientific_name.lower()
        if key in by_sci:
            other_line, other = by_sci[key]
            if other.protection.label != protection.label:
                issues.append(f"{where}: conflicting status with line {other_line} for {taxon.scientific_name}: "
                              f"{protection.label} vs {other.protection.label}")
        by_sci[key] = (line, taxon)
        taxa[taxon.taxon_id] = taxon

    names: dict[str, list[_Name]] = defaultdict(list)
    for line, r in _rows(directory / "names.csv", NAME_COLUMNS):
        if r["taxon_id"] not in taxa:
            issues.append(f"names.csv line {line} ({r['name']}): unknown taxon_id '{r['taxon_id']}'")
            continue
        normalised = normalise(r["name"])
        if normalised:
            names[normalised].append(_Name(r["taxon_id"], "name", r["ambiguous"] == "yes"))
    for line, r in _rows(directory / "aliases.csv", ALIAS_COLUMNS):
        if r["taxon_id"] not in taxa:
            issues.append(f"aliases.csv line {line} ({r['term']}): unknown taxon_id '{r['taxon_id']}'")
            continue
        if not r["source"]:
            issues.append(f"aliases.csv line {line} ({r['term']}): no source")
        names[normalise(r["term"])].append(_Name(r["taxon_id"], "alias", True))
    group_taxa = {}
    for line, r in _rows(directory / "group_taxa.csv", GROUP_TAXA_COLUMNS):
        if r["taxon_id"] not in taxa:
            issues.append(f"group_taxa.csv line {line} ({r['group']}): unknown taxon_id '{r['taxon_id']}'")
            continue
        group_taxa[r["group"]] = r["taxon_id"]
    totals = {r["list"]: int(r["total"]) for _, r in _rows(directory / "list_totals.csv", TOTAL_COLUMNS)}
    legal: dict[tuple[str, str], str] = {}
    legal_path = Path(lexicon_dir) / LEGAL_FILE
    if legal_path.is_file():
        for line, r in read_legal(legal_path):
            if r.get("taxon_id") and r["taxon_id"] not in taxa:
                issues.append(f"{LEGAL_FILE} line {line} ({r['term']}): unknown taxon_id '{r['taxon_id']}'")
            legal[(normalise(r["term"]), r["group"])] = f"{r['term']} ({r['category']}): {r['legal_basis']}"
    return TaxonTable(taxa=taxa, names=dict(names), group_taxa=group_taxa, sources=sources, totals=totals,
                      legal=legal, issues=issues)


def _status_problems(r: Mapping[str, str], sources: Mapping[str, Source]) -> list[str]:
    out = []
    if r["china_class"] not in ("", "I", "II"):
        out.append(f"china_class '{r['china_class']}' is not I or II")
    if set(r["cites_appendix"].split("/")) - {"", "I", "II", "III"}:
        out.append(f"cites_appendix '{r['cites_appendix']}' is not made of I, II, III")
    for status, source in (("china_class", "china_source"), ("cites_appendix", "cites_source")):
        if r[status] and not r[source]:
            out.append(f"{status} '{r[status]}' has no {source}")
        elif r[source] and r[source] not in sources:
            out.append(f"{source} '{r[source]}' is not in sources.csv")
    return out


class TaxonMatcher:
    """Names the most specific taxon a listing is about, from its normalised text and lexicon evidence."""

    def __init__(self, table: TaxonTable) -> None:
        self.table = table
        # English names are also found in the plural ("African greys", "crocodile lizards"): a seller of
        # several animals writes them so.  Each plural maps back to its name; a real name always wins.
        self._singular = {plural: name for name in table.names for plural in (_english_plural(name),)
                          if plural and plural not in table.names}
        self._matcher = TermMatcher([*table.names, *self._singular])

    def names_at(self, term: str) -> list:
        """The table's names for a term the matcher found (a plural is read as its singular)."""
        return self.table.names.get(self._singular.get(term, term), [])

    def identify(self, text: str, evidence: Iterable[Evidence], group: str | None) -> TaxonMatch | None:
        """The taxon for one listing, or None.

        ``group`` is the lexicon's best group (``classifier.rules.best_group``).  A name that is an
        everyday word, a wild-only taxon or a trade alias counts only when the lexicon points at the
        taxon's group or a wildlife context word is in the text; nothing is named when a generic
        exclusion ("plush", "仿") fired.  Without any name, the lexicon group's own taxon is used.
        """
        evidence = list(evidence)
        excluded = {e.group for e in evidence if e.rule == "exclusion"}
        legal_hits = [(e.group, self.table.legal[(e.matched, e.group)]) for e in evidence
                      if e.rule == "exclusion" and (e.matched, e.group) in self.table.legal]
        if ANY_GROUP in excluded and not legal_hits:
            return None
        context: bool | None = None  # whether a wildlife context word is in the text: looked up when a name needs it
        best: tuple | None = None
        for span in self._matcher.find(text):
            for name in self.names_at(span.term):
                taxon = self.table.taxa[name.taxon_id]
                in_group = group is not None and taxon.group == group
                if taxon.group in excluded and not in_group:
                    continue
                if name.ambiguous and not in_group:
                    if name.how != "name":
                        continue
                    if context is None:
                        context = any(w in text for w in CONTEXT_WORDS)
                    if not context:
                        continue
                key = (in_group, _SPECIFICITY.get(taxon.rank, 0), -taxon.protection.rank, len(span.term))
                if best is None or key > best[0]:
                    best = (key, taxon, span.term, name.how)
        if best is not None and (group is None or best[0][0] or group not in self.table.group_taxa):
            taxon, matched, how = best[1:]
        elif group is not None and group in self.table.group_taxa:
            taxon, matched, how = self.table.taxa[self.table.group_taxa[group]], "", "group"
        elif best is not None:
            taxon, matched, how = best[1:]
        else:
            return None
        # Only the lookalikes that concern this taxon's group (or every group) are worth saying.
        legal = tuple(dict.fromkeys(text for g, text in legal_hits if g in (taxon.group, ANY_GROUP)))
        return TaxonMatch(taxon, matched, how, legal)


_LATIN_NAME = re.compile(r"[a-z][a-z' -]*[a-z]$")


def _english_plural(name: str) -> str | None:
    """"crocodile lizard" -> "crocodile lizards", "lory" -> "lories", "ostrich" -> "ostriches"; None for other
    scripts, names shorter than four letters and names already ending in s."""
    if len(name) < 4 or not _LATIN_NAME.match(name) or name.endswith("s"):
        return None
    if name.endswith("y") and name[-2] not in "aeiou":
        return name[:-1] + "ies"
    if name.endswith(("x", "ch", "sh", "z")):
        return name + "es"
    return name + "s"


@lru_cache(maxsize=4)
def _cached(directory: str, lexicon_dir: str) -> TaxonMatcher:
    table = load_taxa(directory, lexicon_dir)
    return TaxonMatcher(table)


def default_matcher(directory: Path | str = TAXA_DIR, lexicon_dir: Path | str = LEXICON_DIR) -> TaxonMatcher:
    """One matcher per table directory, built on first use (the name automaton takes ~0.2 s)."""
    return _cached(str(directory), str(lexicon_dir))


@dataclass
class TaxaReport:
    """What ``wildwatch lexicon check`` adds about the taxon table."""

    n_taxa: int
    n_names: int
    errors: list[str]
    lists: dict[str, dict[str, float]]  # list -> in_table, named, standalone, total, share

    @property
    def ok(self) -> bool:
        return not self.errors

    def render(self) -> str:
        lines = [f"taxa: {self.n_taxa} taxa, {self.n_names} names, {len(self.errors)} error(s)"]
        lines += [f"ERROR   {e}" for e in self.errors]
        labels = {"china_I": "China Class I", "china_II": "China Class II",
                  "cites_I": "CITES Appendix I", "cites_II": "CITES Appendix II"}
        lines.append(f"{'list':<18} {'in table':>9} {'named':>9} {'alone':>9} {'list size':>10} {'covered':>8}")
        for key, row in self.lists.items():
            lines.append(f"{labels[key]:<18} {row['in_table']:>9} {row['named']:>9} {row['standalone']:>9} "
                         f"{row['total']:>10} {row['share']:>7.1%}")
        lines.append("named: the matcher knows a name for it; alone: a name that counts without a group or "
                     "context word; covered: named / list size")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"n_taxa": self.n_taxa, "n_names": self.n_names, "ok": self.ok, "errors": self.errors,
                "lists": self.lists}


def validate_taxa(directory: Path | str = TAXA_DIR, lexicon_dir: Path | str = LEXICON_DIR) -> TaxaReport:
    """Unknown taxa, conflicting statuses, statuses without a source, and coverage per list."""
    try:
        table = load_taxa(directory, lexicon_dir)
    except TaxaError as exc:
        return TaxaReport(0, 0, [str(exc)], {})
    named: set[str] = set()
    standalone: set[str] = set()
    for entries in table.names.values():
        for n in entries:
            named.add(n.taxon_id)
            if not n.ambiguous:
                standalone.add(n.taxon_id)
    lists: dict[str, dict[str, float]] = {}
    for key in LISTS:
        # A taxon that inherits a CITES listing from its genus is not an entry of that list.
        members = [t.taxon_id for t in table.taxa.values() if key in _lists_of(t.protection)
                   and not (key.startswith("cites") and t.protection.cites_note.startswith("listed through"))]
        total = table.totals.get(key, len(members))
        n_named = sum(1 for m in members if m in named)
        lists[key] = {"in_table": len(members), "named": n_named,
                      "standalone": sum(1 for m in members if m in standalone),
                      "total": total, "share": min(1.0, n_named / total) if total else 0.0}
    errors = list(table.issues)
    for key in ("china_I", "china_II", "cites_I", "cites_II"):
        if key not in table.totals:
            errors.append(f"list_totals.csv: no total for {key}")
    return TaxaReport(len(table.taxa), sum(len(v) for v in table.names.values()), errors, lists)
