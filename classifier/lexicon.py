"""Load and validate the curated lexicon (data/lexicon/terms.csv + groups.csv).

The lexicon is edited by hand every month, so loading is forgiving and loud:
a bad row is reported with file, line, column and reason and skipped; only a
file that cannot be read at all (missing, missing columns) raises
``LexiconError``.  ``validate_lexicon`` returns a report for curators
(duplicates, conflicts, missing fields, coverage) as data, for the CLI to print.
"""
from __future__ import annotations

import csv
import hashlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from classifier.parts import AnimalName, PartWord
from classifier.text import normalise
from wildwatch.resources import LEXICON_DIR
from wildwatch.errors import UserError

__all__ = [
    "CORE_LANGS",
    "LANGS",
    "KINDS",
    "HIT_KINDS",
    "ANY_GROUP",
    "LexiconError",
    "LexiconIssue",
    "LexiconEntry",
    "DescriptionRule",
    "Group",
    "ContextRule",
    "Lexicon",
    "LexiconReport",
    "load_lexicon",
    "read_legal",
    "validate_lexicon",
]

log = logging.getLogger(__name__)

#: The Chinese and English lexicon: what a site's search box is asked by default (crawler.siteconfig.Search).
CORE_LANGS = ("zh", "en", "pinyin", "emoji")
#: Plain names used on other languages' marketplaces: Latin script matched like English, Thai like Chinese (unspaced).
OTHER_LANGS = ("es", "fr", "pt", "it", "de", "vi", "id", "tl", "sw", "th", "hi", "bn", "ne", "si", "yo", "lg", "zu", "af", "lo", "my", "km", "ha",
              "ms", "ur", "sn", "ig", "ta", "nl", "pl", "cs", "ro", "hu", "gu", "mr", "pa")
LANGS = frozenset(CORE_LANGS + OTHER_LANGS)
KINDS = ("species", "product", "coded", "intent", "exclusion")
HIT_KINDS = ("species", "product", "coded")  # kinds that point at a wildlife group
ANY_GROUP = "*"

TERMS_FILE = "terms.csv"
GROUPS_FILE = "groups.csv"
CONTEXTS_FILE = "contexts.csv"
LEGAL_FILE = "legal.csv"  # legal lookalikes with their legal basis and taxon (read as exclusions)
DESCRIPTIONS_FILE = "descriptions.csv"  # what an item looks like or is used for, without its name
DESCRIPTION_COLUMNS = ("name", "group", "features", "min_features", "objects", "unless", "confidence", "source",
                       "added", "verified", "note")
REQUIRED_DESCRIPTION_FIELDS = ("name", "group", "features", "min_features", "confidence")
PARTS_FILE = "parts.csv"  # each language's part words (skin, tusk, scales...), paired with species names by the rules
PART_COLUMNS = ("term", "lang", "part", "confidence", "source", "added", "verified", "note")
REQUIRED_PART_FIELDS = ("term", "lang", "part", "confidence")
ANIMALS_FILE = "animals.csv"  # traded animals' common names per language, read only beside a part word
ANIMAL_COLUMNS = ("term", "lang", "group", "source", "added", "verified", "note")
REQUIRED_ANIMAL_FIELDS = ("term", "lang", "group")
LEGAL_COLUMNS = (
    "term", "lang", "group", "taxon_id", "category", "confidence", "legal_basis", "source", "added", "verified", "note",
)
LEGAL_CATEGORIES = frozenset({"lookalike", "substitute", "artificial", "farmed", "captive_bred", "cultivated", "exempt"})
CONTEXT_COLUMNS = ("code", "context", "group", "confidence", "source", "added", "verified", "note")
REQUIRED_CONTEXT_FIELDS = ("code", "context", "group", "confidence")
TERM_COLUMNS = ("term", "lang", "group", "kind", "confidence", "source", "added", "verified", "note")
REQUIRED_TERM_FIELDS = ("term", "lang", "group", "kind", "confidence")
GROUP_COLUMNS = ("group", "name_en", "name_zh", "description", "cites", "notes")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


class LexiconError(UserError, ValueError):
    """The lexicon cannot be used: names the file, line, column and reason."""


@dataclass(frozen=True)
class LexiconIssue:
    """One problem found in a lexicon file; ``severity`` is "error" (row skipped) or "warning"."""

    file: str
    line: int
    column: str
    reason: str
    severity: str = "error"
    term: str = ""  # the entry's term (or code), so a curator can find it without counting lines

    def __str__(self) -> str:
        entry = f" (entry '{self.term}')" if self.term else ""
        return f"{self.file} line {self.line}{entry}, column '{self.column}': {self.reason}"


@dataclass(frozen=True)
class LexiconEntry:
    """One validated row of terms.csv; ``normalised`` is the form the matcher looks for."""

    term: str
    normalised: str
    lang: str
    group: str
    kind: str
    confidence: float
    source: str = ""
    added: str = ""
    verified: bool = False
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class Group:
    """One row of groups.csv: a species group the lexicon and the model report on."""

    group: str
    name_en: str = ""
    name_zh: str = ""
    description: str = ""
    cites: str = ""
    notes: str = ""


@dataclass(frozen=True)
class ContextRule:
    """A documented but ambiguous code that counts only with one of its context words.

    小猫 is police-documented for red panda but usually means "kitten"; 老白 is
    "white" = ivory but also a nickname.  One row of contexts.csv: the code,
    the context words (any one must appear in the same listing), the group and
    the confidence the pair carries.  Both code and context are normalised.
    """

    code: str
    context: tuple[str, ...]
    group: str
    confidence: float
    source: str = ""
    added: str = ""
    verified: bool = False
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class DescriptionRule:
    """An animal or part described without its name: "红皮 + 黄肉 + 素牌" is a hornbill casque, "交叉纹 + 白色老件"
    is ivory, "fish-roe texture + cup" is rhino horn.

    One row of descriptions.csv: at least ``min_features`` distinct feature words (appearance, texture,
    anatomy, behaviour, use), one of the ``objects`` when any are listed (the thing or material sold), and
    none of the ``unless`` words undenied (the honest things the same features describe: sweet potatoes,
    herringbone coats, acetate frames).  It counts only in a listing that offers something and that no
    other rule ties to a wildlife group (``RuleSet.description_evidence``).  All words are normalised.
    """

    name: str
    group: str
    features: tuple[str, ...]
    min_features: int
    objects: tuple[str, ...]
    unless: tuple[str, ...]
    confidence: float
    source: str = ""
    added: str = ""
    verified: bool = False
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class Lexicon:
    """Validated entries and groups; ``version`` is a content hash recorded with every model."""

    entries: tuple[LexiconEntry, ...]
    groups: dict[str, Group]
    version: str
    issues: tuple[LexiconIssue, ...] = ()
    source_dir: str = ""
    contexts: tuple[ContextRule, ...] = ()
    descriptions: tuple[DescriptionRule, ...] = ()
    parts: tuple[PartWord, ...] = ()
    animals: tuple[AnimalName, ...] = ()

    def by_kind(self, kind: str) -> list[LexiconEntry]:
        return [e for e in self.entries if e.kind == kind]


@dataclass
class LexiconReport:
    """What ``wildwatch lexicon check`` prints: problems plus a group × kind coverage table."""

    version: str
    n_entries: int
    errors: list[LexiconIssue] = field(default_factory=list)
    warnings: list[LexiconIssue] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    missing_fields: list[LexiconIssue] = field(default_factory=list)
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def render(self) -> str:
        """Plain text for a terminal: problems first, then the group × kind coverage table."""
        lines = [f"lexicon {self.version or '(unreadable)'}: {self.n_entries} terms, "
                 f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        lines += [f"ERROR   {i}" for i in self.errors]
        lines += [f"WARNING {i}" for i in self.warnings]
        lines += [f"DUPLICATE {d['term']} ({d['group']}/{d['kind']}) on lines {d['lines']}" for d in self.duplicates]
        lines += [f"CONFLICT  {c['term']}: {', '.join(c['roles'])} on lines {c['lines']}" for c in self.conflicts]
        if self.missing_fields:
            lines.append(f"{len(self.missing_fields)} optional field(s) empty (source/added)")
        if self.coverage:
            width = max(len(g) for g in self.coverage)
            lines.append("")
            lines.append(f"{'group':<{width}}  " + "  ".join(f"{k:>9}" for k in KINDS))
            for group, counts in self.coverage.items():
                gap = "  <- no terms" if not any(counts.values()) else ""
                lines.append(f"{group:<{width}}  " + "  ".join(f"{counts[k]:>9}" for k in KINDS) + gap)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "n_entries": self.n_entries,
            "ok": self.ok,
            "errors": [str(i) for i in self.errors],
            "warnings": [str(i) for i in self.warnings],
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "missing_fields": [str(i) for i in self.missing_fields],
            "coverage": self.coverage,
        }


# --- reading -----------------------------------------------------------------------


def _read_rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """Rows with their 1-based file line numbers; raises LexiconError for an unusable file."""
    if not path.is_file():
        raise LexiconError(f"{path}: file not found (expected columns: {','.join(columns)})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise LexiconError(f"{path} line 1: missing column(s) {', '.join(missing)}; header is {header}")
    reader.fieldnames = header
    # line_num is the physical line the record ended on (exact for one-line rows).
    return [(reader.line_num, row) for row in reader]


def _hash_files(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _load_groups(path: Path, issues: list[LexiconIssue]) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for line, row in _read_rows(path, GROUP_COLUMNS, ("group",)):
        if None in row:
            issues.append(LexiconIssue(path.name, line, "group", "too many fields in row"))
            continue
        gid = (row.get("group") or "").strip()
        if not gid:
            issues.append(LexiconIssue(path.name, line, "group", "empty group id"))
            continue
        if gid in groups:
            issues.append(LexiconIssue(path.name, line, "group", f"duplicate group id '{gid}'", "warning"))
            continue
        groups[gid] = Group(gid, *((row.get(c) or "").strip() for c in GROUP_COLUMNS[1:]))
    return groups


def _confidence_verified_added(values: dict[str, str], fail) -> tuple[float, bool] | None:
    """The columns terms.csv and contexts.csv share: (confidence, verified), or None after ``fail(column, reason)``."""
    try:
        confidence = float(values["confidence"])
    except ValueError:
        fail("confidence", f"'{values['confidence']}' is not a number")
        return None
    if not 0.0 <= confidence <= 1.0:
        fail("confidence", f"{confidence} is outside 0..1")
        return None
    verified = _verified_added(values, fail)
    return None if verified is None else (confidence, verified)


def _verified_added(values: dict[str, str], fail) -> bool | None:
    """The ``verified`` flag (checked with the ``added`` date), or None after ``fail(column, reason)``."""
    verified_raw = values["verified"].lower()
    if verified_raw not in _TRUE | _FALSE:
        fail("verified", f"'{values['verified']}' is not true/false")
        return None
    if values["added"]:
        try:
            date.fromisoformat(values["added"])
        except ValueError:
            fail("added", f"'{values['added']}' is not an ISO date (YYYY-MM-DD)")
            return None
    return verified_raw in _TRUE


def _parse_entry(
    file: str, line: int, row: dict, groups: dict[str, Group], issues: list[LexiconIssue]
) -> LexiconEntry | None:
    """One terms.csv row → entry, or None with the reason appended to ``issues``."""

    term = (row.get("term") or "").strip() if isinstance(row.get("term"), str) else ""

    def fail(column: str, reason: str) -> None:
        issues.append(LexiconIssue(file, line, column, reason, term=term))

    if None in row:
        fail("note", f"too many fields ({len(row) - 1 + len(row[None])}); quote values that contain commas")
        return None
    values = {c: (row.get(c) or "").strip() for c in TERM_COLUMNS}
    for column in REQUIRED_TERM_FIELDS:
        if not values[column]:
            fail(column, "required field is empty")
            return None
    if values["lang"] not in LANGS:
        fail("lang", f"'{values['lang']}' is not one of {', '.join(sorted(LANGS))}")
        return None
    if values["kind"] not in KINDS:
        fail("kind", f"'{values['kind']}' is not one of {', '.join(KINDS)}")
        return None
    checked = _confidence_verified_added(values, fail)
    if checked is None:
        return None
    confidence, verified = checked
    group = values["group"]
    if values["kind"] in HIT_KINDS and group == ANY_GROUP:
        fail("group", f"a {values['kind']} term needs a group, not '*'")
        return None
    if groups and group != ANY_GROUP and group not in groups:
        issues.append(LexiconIssue(file, line, "group", f"group '{group}' is not in groups.csv", "warning", term))
    normalised = normalise(values["term"])
    if not normalised:
        fail("term", f"'{values['term']}' is empty after normalisation")
        return None
    return LexiconEntry(
        term=values["term"],
        normalised=normalised,
        lang=values["lang"],
        group=group,
        kind=values["kind"],
        confidence=confidence,
        source=values["source"],
        added=values["added"],
        verified=verified,
        note=values["note"],
        line=line,
    )


def _row_start(file: str, line: int, row: dict, columns: tuple[str, ...], required: tuple[str, ...], key: str,
               issues: list[LexiconIssue]):
    """(values, fail) for one row of a rule file, or None after naming its problem: too many fields or an
    empty required column.  ``fail(column, reason)`` records an issue for this row (named by its ``key``)."""
    name = (row.get(key) or "").strip() if isinstance(row.get(key), str) else ""

    def fail(column: str, reason: str) -> None:
        issues.append(LexiconIssue(file, line, column, reason, term=name))

    if None in row:
        fail("note", "too many fields; quote values that contain commas")
        return None
    values = {c: (row.get(c) or "").strip() for c in columns}
    for column in required:
        if not values[column]:
            fail(column, "required field is empty")
            return None
    return values, fail


def _parse_context(
    line: int, row: dict, groups: dict[str, Group], issues: list[LexiconIssue]
) -> ContextRule | None:
    """One contexts.csv row → rule, or None with the reason appended to ``issues``."""
    started = _row_start(CONTEXTS_FILE, line, row, CONTEXT_COLUMNS, REQUIRED_CONTEXT_FIELDS, "code", issues)
    if started is None:
        return None
    values, fail = started
    if values["group"] == ANY_GROUP:
        fail("group", "a context rule needs a group, not '*'")
        return None
    if groups and values["group"] not in groups:
        fail("group", f"group '{values['group']}' is not in groups.csv")
        return None
    checked = _confidence_verified_added(values, fail)
    if checked is None:
        return None
    confidence, verified = checked
    code_n = normalise(values["code"])
    context = _words(values["context"])
    if not code_n:
        fail("code", f"'{values['code']}' is empty after normalisation")
        return None
    if not context:
        fail("context", "no context words (separate them with '|')")
        return None
    if code_n in context:
        fail("context", f"the code '{code_n}' cannot be its own context")
        return None
    return ContextRule(code_n, context, values["group"], confidence, values["source"], values["added"],
                       verified, values["note"], line)


def _load_contexts(path: Path, groups: dict[str, Group], issues: list[LexiconIssue]) -> tuple[ContextRule, ...]:
    if not path.is_file():
        return ()
    rules = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _read_rows(path, CONTEXT_COLUMNS, REQUIRED_CONTEXT_FIELDS):
        rule = _parse_context(line, row, groups, issues)
        if rule is None:
            continue
        key = (rule.code, rule.group)
        if key in seen:
            issues.append(LexiconIssue(CONTEXTS_FILE, line, "code",
                                       f"duplicate of line {seen[key]} (same code and group)", term=rule.code))
            continue
        seen[key] = line
        rules.append(rule)
    return tuple(rules)


def _words(value: str) -> tuple[str, ...]:
    """The normalised, de-duplicated words of a "|"-separated cell, in order."""
    return tuple(dict.fromkeys(normalise(w) for w in value.split("|") if normalise(w)))


def _parse_description(
    line: int, row: dict, groups: dict[str, Group], issues: list[LexiconIssue]
) -> DescriptionRule | None:
    """One descriptions.csv row → rule, or None with the reason appended to ``issues``."""
    started = _row_start(DESCRIPTIONS_FILE, line, row, DESCRIPTION_COLUMNS, REQUIRED_DESCRIPTION_FIELDS, "name", issues)
    if started is None:
        return None
    values, fail = started
    if values["group"] == ANY_GROUP or (groups and values["group"] not in groups):
        fail("group", f"group '{values['group']}' is not in groups.csv")
        return None
    checked = _confidence_verified_added(values, fail)
    if checked is None:
        return None
    confidence, verified = checked
    features, objects, unless = (_words(values[c]) for c in ("features", "objects", "unless"))
    try:
        min_features = int(values["min_features"])
    except ValueError:
        fail("min_features", f"'{values['min_features']}' is not a whole number")
        return None
    if not 1 <= min_features <= len(features):
        fail("min_features", f"{min_features} is not between 1 and the {len(features)} feature word(s)")
        return None
    clash = (set(features) | set(objects)) & set(unless)
    if clash:
        fail("unless", f"'{sorted(clash)[0]}' is both a feature or object and an 'unless' word")
        return None
    return DescriptionRule(values["name"], values["group"], features, min_features, objects, unless, confidence,
                           values["source"], values["added"], verified, values["note"], line)


def _load_descriptions(path: Path, groups: dict[str, Group],
                       issues: list[LexiconIssue]) -> tuple[DescriptionRule, ...]:
    if not path.is_file():
        return ()
    rules, seen = [], {}
    for line, row in _read_rows(path, DESCRIPTION_COLUMNS, REQUIRED_DESCRIPTION_FIELDS):
        rule = _parse_description(line, row, groups, issues)
        if rule is None:
            continue
        if rule.name in seen:
            issues.append(LexiconIssue(DESCRIPTIONS_FILE, line, "name", f"duplicate of line {seen[rule.name]}",
                                       term=rule.name))
            continue
        seen[rule.name] = line
        rules.append(rule)
    return tuple(rules)


def _word_rows(path: Path, file: str, columns: tuple[str, ...], required: tuple[str, ...], issues: list[LexiconIssue],
               check, key_columns: tuple[str, ...]):
    """(line, values, normalised term, what ``check`` returned) of each good row of a word table (parts.csv,
    animals.csv); a bad row is named in ``issues`` and skipped, as is a row repeating another's term and
    ``key_columns``.  ``check(values, fail)`` returns None after ``fail(column, reason)`` for a bad row."""
    if not path.is_file():
        return
    seen: dict[tuple, int] = {}
    for line, row in _read_rows(path, columns, required):
        started = _row_start(file, line, row, columns, required, "term", issues)
        if started is None:
            continue
        values, fail = started
        if values["lang"] not in LANGS:
            fail("lang", f"'{values['lang']}' is not a known language code")
            continue
        checked = check(values, fail)
        if checked is None:
            continue
        term = normalise(values["term"])
        if not term:
            fail("term", f"'{values['term']}' is empty after normalisation")
            continue
        key = (term, *(values[c] for c in key_columns))
        if key in seen:
            what = " and ".join(("term", *key_columns)).replace("lang", "language")
            fail("term", f"duplicate of line {seen[key]} (same {what})")
            continue
        seen[key] = line
        yield line, values, term, checked


def _load_parts(path: Path, issues: list[LexiconIssue]) -> tuple[PartWord, ...]:
    """parts.csv rows: each language's part words."""
    return tuple(
        PartWord(term, values["lang"], values["part"], confidence, values["source"], values["added"], verified,
                 values["note"], line)
        for line, values, term, (confidence, verified) in _word_rows(
            path, PARTS_FILE, PART_COLUMNS, REQUIRED_PART_FIELDS, issues, _confidence_verified_added, ("lang",))
    )


def _load_animals(path: Path, groups: dict[str, Group], issues: list[LexiconIssue]) -> tuple[AnimalName, ...]:
    """animals.csv rows: the traded animals' common names, per language and group."""

    def check(values: dict[str, str], fail) -> bool | None:
        if values["group"] == ANY_GROUP or (groups and values["group"] not in groups):
            fail("group", f"group '{values['group']}' is not in groups.csv")
            return None
        return _verified_added(values, fail)

    return tuple(
        AnimalName(term, values["lang"], values["group"], values["source"], values["added"], verified, values["note"],
                   line)
        for line, values, term, verified in _word_rows(
            path, ANIMALS_FILE, ANIMAL_COLUMNS, REQUIRED_ANIMAL_FIELDS, issues, check, ("lang", "group"))
    )


def read_legal(path: Path) -> list[tuple[int, dict]]:
    """The rows of legal.csv (legal lookalikes) with their line numbers; LexiconError if unreadable."""
    return _read_rows(path, LEGAL_COLUMNS, ("term", "lang", "group", "category", "confidence", "legal_basis"))


def _load_legal(
    path: Path, groups: dict[str, Group], issues: list[LexiconIssue], known: set[tuple[str, str]]
) -> list[LexiconEntry]:
    """legal.csv rows as exclusions, so the classifier reads what the table records as legal.

    A row whose term is already an exclusion of the same group in terms.csv adds nothing to the
    matcher (terms.csv keeps its confidence); it still documents the legal basis for analysts.
    """
    out = []
    for line, row in read_legal(path):
        category = (row.get("category") or "").strip()
        if category not in LEGAL_CATEGORIES:
            issues.append(LexiconIssue(LEGAL_FILE, line, "category",
                                       f"'{category}' is not one of {', '.join(sorted(LEGAL_CATEGORIES))}",
                                       term=(row.get("term") or "").strip()))
            continue
        fields = {c: row.get(c, "") for c in TERM_COLUMNS} | {"kind": "exclusion"}
        fields["note"] = f"legal ({category}): {(row.get('legal_basis') or '').strip()}"
        entry = _parse_entry(LEGAL_FILE, line, fields, groups, issues)
        if entry is not None and (entry.normalised, entry.group) not in known:
            known.add((entry.normalised, entry.group))
            out.append(entry)
    return out


def load_lexicon(directory: Path | str = LEXICON_DIR, *, strict: bool = False) -> Lexicon:
    """Read terms.csv and groups.csv from ``directory``.

    Bad rows are skipped and logged (kept in ``Lexicon.issues``) so one typo does
    not take the classifier down; ``strict=True`` raises ``LexiconError`` listing
    every error instead, for CI and for curators.
    """
    directory = Path(directory)
    terms_path, groups_path = directory / TERMS_FILE, directory / GROUPS_FILE
    issues: list[LexiconIssue] = []
    groups = _load_groups(groups_path, issues) if groups_path.is_file() else {}
    if not groups_path.is_file():
        issues.append(LexiconIssue(GROUPS_FILE, 0, "group", "groups.csv not found; group ids unchecked", "warning"))
    entries = []
    for line, row in _read_rows(terms_path, TERM_COLUMNS, REQUIRED_TERM_FIELDS):
        entry = _parse_entry(TERMS_FILE, line, row, groups, issues)
        if entry is not None:
            entries.append(entry)
    contexts_path = directory / CONTEXTS_FILE
    contexts = _load_contexts(contexts_path, groups, issues)
    descriptions_path = directory / DESCRIPTIONS_FILE
    descriptions = _load_descriptions(descriptions_path, groups, issues)
    parts_path = directory / PARTS_FILE
    parts = _load_parts(parts_path, issues)
    animals_path = directory / ANIMALS_FILE
    animals = _load_animals(animals_path, groups, issues)
    legal_path = directory / LEGAL_FILE
    if legal_path.is_file():
        entries += _load_legal(legal_path, groups, issues, {(e.normalised, e.group) for e in entries if e.kind == "exclusion"})
    errors = [i for i in issues if i.severity == "error"]
    if strict and errors:
        raise LexiconError(f"{len(errors)} error(s) in {directory}:\n" + "\n".join(map(str, errors)))
    for issue in errors:
        log.warning("lexicon row skipped: %s", issue)
    if not entries:
        raise LexiconError(f"{terms_path}: no usable terms")
    return Lexicon(
        entries=tuple(entries),
        groups=groups,
        version=_hash_files(
            terms_path, groups_path,
            *(p for p in (contexts_path, legal_path, descriptions_path, parts_path, animals_path)
              if p.is_file())
        ),
        issues=tuple(issues),
        source_dir=str(directory),
        contexts=contexts,
        descriptions=descriptions,
        parts=parts,
        animals=animals,
    )


# --- validation report -------------------------------------------------------------


def _missing_optional(lexicon: Lexicon) -> list[LexiconIssue]:
    out = []
    for e in lexicon.entries:
        if not e.source:
            out.append(LexiconIssue(TERMS_FILE, e.line, "source", "no source given", "warning"))
        if not e.added:
            out.append(LexiconIssue(TERMS_FILE, e.line, "added", "no date added", "warning"))
    return out


def _duplicates_and_conflicts(entries: tuple[LexiconEntry, ...]) -> tuple[list[dict], list[dict]]:
    """Duplicates: same normalised term, group and kind twice.  Conflicts: one term, several roles.

    A conflict that mixes ``exclusion`` with a hit kind means the term both
    raises and lowers suspicion; that is almost always a curation mistake.
    """
    by_key: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    by_term: dict[str, set[tuple[str, str]]] = defaultdict(set)
    lines_by_term: dict[str, list[int]] = defaultdict(list)
    for e in entries:
        by_key[(e.normalised, e.group, e.kind)].append(e.line)
        by_term[e.normalised].add((e.group, e.kind))
        lines_by_term[e.normalised].append(e.line)
    duplicates = [
        {"term": t, "group": g, "kind": k, "lines": lines}
        for (t, g, k), lines in by_key.items()
        if len(lines) > 1
    ]
    conflicts = []
    for term, roles in by_term.items():
        if len({k for _, k in roles}) > 1:
            conflicts.append(
                {"term": term, "roles": sorted(f"{g}/{k}" for g, k in roles), "lines": lines_by_term[term]}
            )
    return duplicates, conflicts


def _coverage(lexicon: Lexicon) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for gid in lexicon.groups:
        counts[gid]  # groups with no terms show up as gaps
    for e in lexicon.entries:
        counts[e.group][e.kind] += 1
    return {g: {k: counts[g].get(k, 0) for k in KINDS} for g in sorted(counts)}


def validate_lexicon(directory: Path | str = LEXICON_DIR) -> LexiconReport:
    """Everything a curator should fix or know, as data; never raises for bad rows."""
    try:
        lexicon = load_lexicon(directory)
    except LexiconError as exc:
        return LexiconReport(version="", n_entries=0, errors=[LexiconIssue(str(directory), 0, "", str(exc))])
    duplicates, conflicts = _duplicates_and_conflicts(lexicon.entries)
    return LexiconReport(
        version=lexicon.version,
        n_entries=len(lexicon.entries),
        errors=[i for i in lexicon.issues if i.severity == "error"],
        warnings=[i for i in lexicon.issues if i.severity == "warning"],
        duplicates=duplicates,
        conflicts=conflicts,
        missing_fields=_missing_optional(lexicon),
        coverage=_coverage(lexicon),
    )
