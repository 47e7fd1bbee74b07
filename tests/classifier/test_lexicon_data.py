"""Data-quality checks for the curated lexicon in data/lexicon/.

Curators edit terms.csv and groups.csv by hand every month, so these checks are
the review gate: each one reports every offending row with its file, line and
field, so a curator can fix a whole batch in one pass instead of one error per
run. The checks are plain functions over parsed rows; the failure-path tests at
the bottom feed them small broken files to prove each check really fires.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import opencc
import pytest
import support

LEXICON_DIR = support.ROOT / "data" / "lexicon"
TERMS_PATH = LEXICON_DIR / "terms.csv"
GROUPS_PATH = LEXICON_DIR / "groups.csv"

TERMS_HEADER = ["term", "lang", "group", "kind", "confidence", "source", "added", "verified", "note"]
GROUPS_HEADER = ["group", "name_en", "name_zh", "description", "cites", "notes"]
OPTIONAL_TERM_FIELDS = {"note"}
OPTIONAL_GROUP_FIELDS = {"notes"}

# Chinese, English, emoji and pinyin, and the plain names of other languages' marketplaces (Latin script).
LANGS = {"zh", "en", "emoji", "pinyin", "es", "fr", "pt", "it", "de", "vi", "id", "tl", "sw", "th", "hi", "bn", "ne", "si", "yo",
         "lg", "zu", "af", "lo", "my", "km", "ha", "ms", "ur", "sn", "ig", "ta",
         "nl", "pl", "cs", "ro", "hu", "gu", "mr", "pa"}
CORE_LANGS = {"zh", "en", "emoji", "pinyin"}
POSITIVE_KINDS = {"species", "product", "coded", "intent"}
KINDS = POSITIVE_KINDS | {"exclusion"}
VERIFIED = {"yes", "no"}
ANY_GROUP = "*"
CONFIDENCE_MIN, CONFIDENCE_MAX = 0.05, 1.0
PINYIN_MAX_CONFIDENCE = 0.3
EMOJI_CONFIDENCE = (0.2, 0.35)
CITES_VALUES = {"I", "II", "III", "I/II", "II/III", "II/national", "varies"}

# Coverage floors from the lexicon brief.
MIN_ROWS = 450
MIN_COVERED_GROUPS = 20
ROWS_FOR_REAL_COVERAGE = 5  # positive (non-intent) rows a group needs to count as covered
MIN_CODED_SHARE = 1 / 3
MIN_INTENT = 40
MIN_INTENT_PER_LANG = 10  # intent must work for both zh and en listings
MIN_EXCLUSIONS = 60
REQUIRED_GROUPS = {
    "ivory", "rhino_horn", "pangolin", "tiger", "big_cats", "hawksbill", "hornbill",
    "bear_bile", "saiga", "totoaba", "shark_fin", "sea_turtle", "primates", "parrots",
    "tortoises", "reptiles", "songbirds", "coral", "musk", "other",
}

URL_RE = re.compile(r"https?://\S+")
DOMAIN_NOTES_RE = re.compile(r"domain-notes §\d")
GROUP_ID_RE = re.compile(r"^[a-z][a-z_]*$")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
PINYIN_RE = re.compile(r"^[a-z]+( [a-z]+)*$")

_T2S = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class Row:
    """One data row of a CSV file, with the physical line it starts on."""

    file: str
    line: int
    fields: dict[str, str]

    def where(self, field: str | None = None) -> str:
        loc = f"{self.file}:{self.line}"
        return f"{loc}: field '{field}'" if field else loc


def parse_csv(text: str, file: str, header: list[str]) -> tuple[list[Row], list[str]]:
    """Parse RFC 4180 text; return rows with all columns plus errors for the rest.

    A row with the wrong number of fields is reported and skipped rather than
    stopping the parse, so one bad line does not hide the others.
    """
    errors: list[str] = []
    if text.startswith("\ufeff"):
        errors.append(f"{file}:1: starts with a UTF-8 BOM; save as plain UTF-8")
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        got_header = next(reader)
    except StopIteration:
        return [], [f"{file}: empty file, expected header {header}"]
    if got_header != header:
        errors.append(f"{file}:1: header is {got_header}, expected {header}")
        return [], errors
    rows: list[Row] = []
    line = reader.line_num + 1
    try:
        for record in reader:
            if record and len(record) != len(header):
                errors.append(f"{file}:{line}: has {len(record)} fields, expected {len(header)} ({', '.join(header)})")
            elif record:
                rows.append(Row(file, line, dict(zip(header, record))))
            line = reader.line_num + 1
    except csv.Error as exc:
        errors.append(f"{file}:{reader.line_num}: malformed CSV: {exc}")
    return rows, errors


def check_fields_present(rows: list[Row], optional: set[str]) -> list[str]:
    """Every required field is non-empty and no field carries stray whitespace."""
    errors = []
    for row in rows:
        for name, value in row.fields.items():
            if value != value.strip():
                errors.append(f"{row.where(name)}: leading or trailing whitespace in {value!r}")
            if not value.strip() and name not in optional:
                errors.append(f"{row.where(name)}: empty")
    return errors


def check_term_values(rows: list[Row], group_ids: set[str]) -> list[str]:
    """Allowed sets, ranges, dates, group references and the group/kind convention."""
    errors = []
    for row in rows:
        f = row.fields
        if f["lang"] not in LANGS:
            errors.append(f"{row.where('lang')}: {f['lang']!r} not in {sorted(LANGS)}")
        if f["kind"] not in KINDS:
            errors.append(f"{row.where('kind')}: {f['kind']!r} not in {sorted(KINDS)}")
        if f["verified"] not in VERIFIED:
            errors.append(f"{row.where('verified')}: {f['verified']!r} not in {sorted(VERIFIED)}")
        try:
            confidence = float(f["confidence"])
        except ValueError:
            errors.append(f"{row.where('confidence')}: {f['confidence']!r} is not a number")
        else:
            if not CONFIDENCE_MIN <= confidence <= CONFIDENCE_MAX:
                errors.append(
                    f"{row.where('confidence')}: {confidence} outside {CONFIDENCE_MIN}-{CONFIDENCE_MAX}"
                )
        try:
            dt.date.fromisoformat(f["added"])
        except ValueError:
            errors.append(f"{row.where('added')}: {f['added']!r} is not an ISO date (YYYY-MM-DD)")
        group, kind = f["group"], f["kind"]
        if group != ANY_GROUP and group not in group_ids:
            errors.append(f"{row.where('group')}: {group!r} is not in groups.csv and is not '*'")
        if kind in {"species", "product", "coded"} and group == ANY_GROUP:
            errors.append(f"{row.where('group')}: kind {kind!r} needs a real group, not '*'")
        if kind == "intent" and group != ANY_GROUP:
            errors.append(f"{row.where('group')}: intent terms use group '*', got {group!r}")
    return errors


def check_term_form(rows: list[Row]) -> list[str]:
    """A term is written the way the matcher expects for its lang."""
    errors = []
    for row in rows:
        term, lang = row.fields["term"], row.fields["lang"]
        if lang in {"en", "pinyin"} and term != term.lower():
            errors.append(f"{row.where('term')}: {lang} terms are lower-case, got {term!r}")
        if lang == "en" and CJK_RE.search(term):
            errors.append(f"{row.where('term')}: en term {term!r} contains Chinese characters")
        if lang == "pinyin" and not PINYIN_RE.match(term):
            errors.append(f"{row.where('term')}: pinyin term {term!r} must be plain a-z words")
        if lang == "zh":
            if not CJK_RE.search(term):
                errors.append(f"{row.where('term')}: zh term {term!r} has no Chinese characters")
            simplified = _T2S.convert(term)
            if simplified != term:
                errors.append(
                    f"{row.where('term')}: {term!r} is not simplified (expected {simplified!r}); "
                    f"listings are converted to simplified before matching, so this form never matches"
                )
        if lang == "emoji" and (CJK_RE.search(term) or re.search(r"[A-Za-z0-9]", term)):
            errors.append(f"{row.where('term')}: emoji term {term!r} contains letters or digits")
    return errors


def check_unverified_forms(rows: list[Row]) -> list[str]:
    """Pinyin and emoji mappings are undocumented, so they stay unverified and weak."""
    errors = []
    for row in rows:
        f = row.fields
        try:
            confidence = float(f["confidence"])
        except ValueError:
            continue  # reported by check_term_values
        if f["lang"] == "pinyin":
            if f["verified"] != "no":
                errors.append(f"{row.where('verified')}: pinyin terms are undocumented and must be 'no'")
            if confidence > PINYIN_MAX_CONFIDENCE:
                errors.append(
                    f"{row.where('confidence')}: pinyin term confidence {confidence} > {PINYIN_MAX_CONFIDENCE}"
                )
        if f["lang"] == "emoji":
            if f["kind"] != "coded":
                errors.append(f"{row.where('kind')}: emoji terms are kind 'coded', got {f['kind']!r}")
            low, high = EMOJI_CONFIDENCE
            if not low <= confidence <= high:
                errors.append(f"{row.where('confidence')}: emoji confidence {confidence} outside {low}-{high}")
    return errors


def check_sources(rows: list[Row]) -> list[str]:
    """verified=yes needs a URL or a domain-notes citation; anything else says why it is unverified."""
    errors = []
    for row in rows:
        source, verified = row.fields["source"], row.fields["verified"]
        cited = bool(URL_RE.search(source) or DOMAIN_NOTES_RE.search(source))
        if verified == "yes" and (not cited or source.lower().startswith("unverified")):
            errors.append(f"{row.where('source')}: verified=yes needs a URL or 'domain-notes §N', got {source!r}")
        if verified == "no" and not (cited or source.startswith("unverified: ")):
            errors.append(f"{row.where('source')}: cite a URL/domain-notes or write 'unverified: <reason>', got {source!r}")
    return errors


def check_duplicates_and_conflicts(rows: list[Row]) -> list[str]:
    """No repeated (term, group, kind); no term both positive and excluded for a group.

    A '*' exclusion applies to every group, so it conflicts with a positive term
    of any group; a group exclusion conflicts only within its group.
    """
    errors = []
    first_seen: dict[tuple[str, str, str], Row] = {}
    positives: dict[str, list[Row]] = defaultdict(list)
    exclusions: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        f = row.fields
        key = (f["term"], f["group"], f["kind"])
        if key in first_seen:
            errors.append(f"{row.where()}: duplicate (term, group, kind) {key}, first at line {first_seen[key].line}")
        else:
            first_seen[key] = row
        (exclusions if f["kind"] == "exclusion" else positives)[f["term"]].append(row)
    for term, excluded in exclusions.items():
        for ex in excluded:
            for pos in positives.get(term, []):
                if ex.fields["group"] in {ANY_GROUP, pos.fields["group"]}:
                    errors.append(
                        f"{ex.where()}: {term!r} is an exclusion for group {ex.fields['group']!r} "
                        f"but {pos.fields['kind']} for {pos.fields['group']!r} at line {pos.line}"
                    )
    return errors


def check_coverage(rows: list[Row]) -> list[str]:
    """The floors that make the lexicon useful as a recall stage."""
    errors = []
    kinds = Counter(r.fields["kind"] for r in rows)
    if len(rows) < MIN_ROWS:
        errors.append(f"terms.csv: {len(rows)} rows, need at least {MIN_ROWS}")
    # The coded share is the brief's floor for the Chinese and English lexicon; the other languages' rows are
    # their plain product names, a coverage of their own.
    core = [r for r in rows if r.fields["lang"] in CORE_LANGS]
    core_coded = sum(1 for r in core if r.fields["kind"] == "coded")
    if core and core_coded / len(core) < MIN_CODED_SHARE:
        errors.append(f"terms.csv: coded share {core_coded / len(core):.2f}, need at least {MIN_CODED_SHARE:.2f}")
    if kinds["intent"] < MIN_INTENT:
        errors.append(f"terms.csv: {kinds['intent']} intent rows, need at least {MIN_INTENT}")
    intent_langs = Counter(r.fields["lang"] for r in rows if r.fields["kind"] == "intent")
    for lang in ("zh", "en"):
        if intent_langs[lang] < MIN_INTENT_PER_LANG:
            errors.append(f"terms.csv: {intent_langs[lang]} {lang} intent rows, need {MIN_INTENT_PER_LANG}")
    if kinds["exclusion"] < MIN_EXCLUSIONS:
        errors.append(f"terms.csv: {kinds['exclusion']} exclusion rows, need at least {MIN_EXCLUSIONS}")
    covered = covered_groups(rows)
    if len(covered) < MIN_COVERED_GROUPS:
        errors.append(f"terms.csv: {len(covered)} groups with real coverage, need {MIN_COVERED_GROUPS}")
    for group in sorted(REQUIRED_GROUPS - covered):
        errors.append(f"terms.csv: required group {group!r} has fewer than {ROWS_FOR_REAL_COVERAGE} positive rows")
    return errors


def covered_groups(rows: list[Row]) -> set[str]:
    counts = Counter(
        r.fields["group"] for r in rows if r.fields["kind"] in {"species", "product", "coded"}
    )
    return {g for g, n in counts.items() if n >= ROWS_FOR_REAL_COVERAGE}


def check_groups(rows: list[Row]) -> list[str]:
    """Group ids are unique, well-formed and carry a CITES note."""
    errors = []
    seen: dict[str, int] = {}
    for row in rows:
        gid = row.fields["group"]
        if not GROUP_ID_RE.match(gid):
            errors.append(f"{row.where('group')}: id {gid!r} must be lower-case letters and '_'")
        if gid in seen:
            errors.append(f"{row.where('group')}: duplicate id {gid!r}, first at line {seen[gid]}")
        seen.setdefault(gid, row.line)
        if row.fields["cites"] not in CITES_VALUES:
            errors.append(f"{row.where('cites')}: {row.fields['cites']!r} not in {sorted(CITES_VALUES)}")
    return errors


def validate(terms_text: str, groups_text: str) -> list[str]:
    """Run every check over the two files' text; return all errors found."""
    group_rows, errors = parse_csv(groups_text, "groups.csv", GROUPS_HEADER)
    errors += check_fields_present(group_rows, OPTIONAL_GROUP_FIELDS) + check_groups(group_rows)
    group_ids = {r.fields["group"] for r in group_rows}
    rows, term_errors = parse_csv(terms_text, "terms.csv", TERMS_HEADER)
    errors += term_errors
    errors += check_fields_present(rows, OPTIONAL_TERM_FIELDS)
    errors += check_term_values(rows, group_ids)
    errors += check_term_form(rows)
    errors += check_unverified_forms(rows)
    errors += check_sources(rows)
    errors += check_duplicates_and_conflicts(rows)
    unused = group_ids - {r.fields["group"] for r in rows}
    errors += [f"groups.csv: group {g!r} has no terms" for g in sorted(unused)]
    return errors


# ---------------------------------------------------------------- the real data


@pytest.fixture(scope="module")
def terms_text() -> str:
    return TERMS_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def groups_text() -> str:
    return GROUPS_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def term_rows(terms_text: str) -> list[Row]:
    rows, errors = parse_csv(terms_text, "terms.csv", TERMS_HEADER)
    assert not errors, "\n".join(errors)
    return rows


def test_lexicon_files_pass_every_row_check(terms_text: str, groups_text: str) -> None:
    errors = validate(terms_text, groups_text)
    assert not errors, f"{len(errors)} problems:\n" + "\n".join(errors)


def test_coverage_floors(term_rows: list[Row]) -> None:
    errors = check_coverage(term_rows)
    assert not errors, "\n".join(errors)


def test_required_groups_are_defined(groups_text: str) -> None:
    rows, errors = parse_csv(groups_text, "groups.csv", GROUPS_HEADER)
    assert not errors
    assert REQUIRED_GROUPS <= {r.fields["group"] for r in rows}


def test_policy_rows_from_the_brief(term_rows: list[Row]) -> None:
    """Label-policy decisions that the classifier relies on stay in the data."""
    kinds = {(r.fields["term"], r.fields["group"]): r.fields["kind"] for r in term_rows}
    assert kinds[("猛犸象牙", "ivory")] == "exclusion"
    assert kinds[("mammoth ivory", "ivory")] == "exclusion"
    assert kinds[("水牛角", "rhino_horn")] == "exclusion"
    assert kinds[("穿山甲广告", "pangolin")] == "exclusion"
    assert kinds[("炮山甲", "pangolin")] == "coded"
    assert kinds[("鹿茸", "other")] == "exclusion"


def test_terms_are_already_in_the_matchers_normal_form(term_rows: list[Row]) -> None:
    """classifier.text.normalise runs on listings and on terms alike; a term it rewrites
    (a homophone it already folds, a traditional character) is redundant or unreachable.
    Emoji are exempt: they are mapped to tokens on both sides by design."""
    from classifier.text import normalise  # imported here so a broken classifier fails only this test

    changed = [
        f"{r.where('term')}: {r.fields['term']!r} normalises to {normalise(r.fields['term'])!r}"
        for r in term_rows
        if r.fields["lang"] != "emoji" and normalise(r.fields["term"]) != r.fields["term"]
    ]
    assert not changed, "\n".join(changed)


# ---------------------------------------------------------------- failure paths

GOOD_GROUPS = "group,name_en,name_zh,description,cites,notes\nivory,Ivory,象牙,tusks,I,\n"
HEADER = ",".join(TERMS_HEADER) + "\n"
GOOD_ROW = "象牙,zh,ivory,product,0.7,domain-notes §3.1 (qto.cc),2026-11-25,yes,\n"
OTHER_ROW = "牙雕,zh,ivory,product,0.45,unverified: compound,2026-11-25,no,\n"


def _errors(*rows: str, groups: str = GOOD_GROUPS) -> list[str]:
    return validate(HEADER + "".join(rows), groups)


def test_good_minimal_file_has_no_row_errors() -> None:
    assert _errors(GOOD_ROW) == []


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("象牙,zh,ivory,product,0.7,domain-notes §3.1,2026-11-25\n", "terms.csv:2: has 7 fields, expected 9"),
        ("象牙,jp,ivory,product,0.7,domain-notes §3.1,2026-11-25,yes,\n", "terms.csv:2: field 'lang'"),
        ("象牙,zh,ivory,animal,0.7,domain-notes §3.1,2026-11-25,yes,\n", "terms.csv:2: field 'kind'"),
        ("象牙,zh,ivory,product,0.7,domain-notes §3.1,2026-11-25,maybe,\n", "terms.csv:2: field 'verified'"),
        ("象牙,zh,ivory,product,1.5,domain-notes §3.1,2026-11-25,yes,\n", "outside 0.05-1.0"),
        ("象牙,zh,ivory,product,0.01,domain-notes §3.1,2026-11-25,yes,\n", "outside 0.05-1.0"),
        ("象牙,zh,ivory,product,high,domain-notes §3.1,2026-11-25,yes,\n", "is not a number"),
        ("象牙,zh,ivory,product,0.7,domain-notes §3.1,25/11/2026,yes,\n", "is not an ISO date"),
        ("象牙,zh,elephants,product,0.7,domain-notes §3.1,2026-11-25,yes,\n", "'elephants' is not in groups.csv"),
        ("象牙,zh,*,product,0.7,domain-notes §3.1,2026-11-25,yes,\n", "needs a real group"),
        ("出售,zh,ivory,intent,0.3,unverified: phrase,2026-11-25,no,\n", "intent terms use group '*'"),
        ("象牙,zh,ivory,product,0.7,,2026-11-25,no,\n", "field 'source': empty"),
        ("象牙 ,zh,ivory,product,0.7,domain-notes §3.1,2026-11-25,yes,\n", "whitespace"),
        ("象牙,zh,ivory,product,0.7,my memory,2026-11-25,yes,\n", "verified=yes needs a URL"),
        ("象牙,zh,ivory,product,0.7,unverified: guess,2026-11-25,yes,\n", "verified=yes needs a URL"),
        ("象牙,zh,ivory,product,0.7,my memory,2026-11-25,no,\n", "write 'unverified: <reason>'"),
        ("Ivory,en,ivory,product,0.4,https://example.org/x,2026-11-25,yes,\n", "lower-case"),
        ("犀牛角,zh,ivory,product,0.4,https://example.org/x,2026-11-25,yes,\n", ""),  # simplified: no error
        ("穿山甲廣告,zh,ivory,exclusion,0.9,https://example.org/x,2026-11-25,yes,\n", "is not simplified"),
        ("xiangya,pinyin,ivory,coded,0.2,domain-notes §3.3,2026-11-25,yes,\n", "pinyin terms are undocumented"),
        ("xiangya,pinyin,ivory,coded,0.5,unverified: pinyin,2026-11-25,no,\n", "pinyin term confidence"),
        ("Xiang Ya,pinyin,ivory,coded,0.2,unverified: pinyin,2026-11-25,no,\n", "lower-case"),
        ("🐘,emoji,ivory,coded,0.9,domain-notes §3.3,2026-11-25,no,\n", "emoji confidence"),
        ("🐘,emoji,ivory,species,0.3,domain-notes §3.3,2026-11-25,no,\n", "emoji terms are kind 'coded'"),
    ],
)
def test_each_bad_row_is_reported_with_file_line_and_field(row: str, expected: str) -> None:
    errors = _errors(row, OTHER_ROW)
    if expected:
        assert any(expected in e for e in errors), errors
        assert all(e.startswith("terms.csv:2") for e in errors), errors
    else:
        assert errors == []


def test_traditional_characters_fail_even_for_taiwan_only_words() -> None:
    """Taiwan/HK vocabulary is written in simplified characters and marked zh-Hant in the note."""
    row = "穿山甲廣告,zh,ivory,exclusion,0.9,https://example.org/x,2026-11-25,yes,zh-Hant wording\n"
    assert any("is not simplified" in e for e in _errors(row, OTHER_ROW))
    ok = "穿山甲广告,zh,ivory,exclusion,0.9,https://example.org/x,2026-11-25,yes,zh-Hant wording\n"
    assert _errors(ok, OTHER_ROW) == []


def test_one_bad_row_does_not_hide_the_next() -> None:
    bad = "象牙,zh,ivory,product,7,domain-notes §3.1,2026-11-25,yes,\n"
    worse = "犀角,zh,rhino,product,0.8,domain-notes §3.1,yesterday,yes,\n"
    errors = _errors(bad, OTHER_ROW, worse)
    assert any(e.startswith("terms.csv:2: field 'confidence'") for e in errors)
    assert any(e.startswith("terms.csv:4: field 'added'") for e in errors)
    assert any(e.startswith("terms.csv:4: field 'group'") for e in errors)


def test_duplicate_term_group_kind_is_reported() -> None:
    errors = _errors(GOOD_ROW, GOOD_ROW)
    assert errors == ["terms.csv:3: duplicate (term, group, kind) ('象牙', 'ivory', 'product'), first at line 2"]


def test_positive_and_exclusion_in_same_group_conflict() -> None:
    excl = "象牙,zh,ivory,exclusion,0.5,https://example.org/x,2026-11-25,yes,\n"
    errors = _errors(GOOD_ROW, excl)
    assert any("is an exclusion for group 'ivory' but product for 'ivory'" in e for e in errors)


def test_generic_exclusion_conflicts_with_any_group() -> None:
    excl = "象牙,zh,*,exclusion,0.5,https://example.org/x,2026-11-25,yes,\n"
    errors = _errors(GOOD_ROW, excl)
    assert any("exclusion for group '*'" in e for e in errors)


def test_exclusion_for_another_group_is_not_a_conflict() -> None:
    groups = GOOD_GROUPS + "tiger,Tiger,虎,bones,I,\n"
    rows = [
        GOOD_ROW,
        "象牙,zh,tiger,exclusion,0.5,https://example.org/x,2026-11-25,yes,\n",
        "虎骨,zh,tiger,product,0.8,https://example.org/x,2026-11-25,yes,\n",
    ]
    assert validate(HEADER + "".join(rows), groups) == []


def test_wrong_header_and_bom_are_reported() -> None:
    errors = validate("\ufeffterm,lang,group\n象牙,zh,ivory\n", GOOD_GROUPS)
    assert any("BOM" in e for e in errors)
    assert any(e.startswith("terms.csv:1: header is") for e in errors)


def test_multiline_quoted_field_keeps_line_numbers() -> None:
    quoted = '"ivory, carved",en,ivory,product,0.7,https://example.org/x,2026-11-25,yes,"two\nlines"\n'
    bad = "牙雕,zh,ivory,product,2,https://example.org/x,2026-11-25,yes,\n"
    errors = _errors(quoted, bad)
    assert errors == ["terms.csv:4: field 'confidence': 2.0 outside 0.05-1.0"]


def test_groups_file_checks() -> None:
    groups = GOOD_GROUPS + "ivory,Ivory again,象牙,dup,I,\nBig Cats,Cats,豹,x,IV,\n"
    errors = validate(HEADER + GOOD_ROW, groups)
    assert any("groups.csv:3: field 'group': duplicate id 'ivory'" in e for e in errors)
    assert any("groups.csv:4: field 'group': id 'Big Cats'" in e for e in errors)
    assert any("groups.csv:4: field 'cites'" in e for e in errors)


def test_unused_group_is_reported() -> None:
    groups = GOOD_GROUPS + "tiger,Tiger,虎,bones,I,\n"
    assert validate(HEADER + GOOD_ROW, groups) == ["groups.csv: group 'tiger' has no terms"]


def test_coverage_floors_fail_on_a_small_file() -> None:
    rows, _ = parse_csv(HEADER + GOOD_ROW, "terms.csv", TERMS_HEADER)
    errors = check_coverage(rows)
    assert any("need at least 450" in e for e in errors)
    assert any("intent rows" in e for e in errors)
    assert any("exclusion rows" in e for e in errors)
    assert any("required group 'pangolin'" in e for e in errors)
