"""Lexicon loading and validation: good files load, bad rows name file, line and column."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.lexicon import LexiconError, load_lexicon, validate_lexicon
from wildwatch.config import LEXICON_DIR
import support

FIXTURE = support.FIXTURES / "classifier" / "lexicon"
HEADER = "term,lang,group,kind,confidence,source,added,verified,note\n"


def _lexicon_dir(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    shutil.copy(FIXTURE / "groups.csv", tmp_path / "groups.csv")
    (tmp_path / "terms.csv").write_text(header + rows, encoding="utf-8")
    return tmp_path


def test_fixture_lexicon_loads_with_normalised_terms() -> None:
    lexicon = load_lexicon(FIXTURE)
    assert len(lexicon.entries) == 35
    assert not [i for i in lexicon.issues if i.severity == "error"]
    by_term = {e.term: e for e in lexicon.entries}
    assert by_term["🐘"].normalised == "⟨emoji:elephant⟩"
    assert by_term["mammoth ivory"].kind == "exclusion"
    assert by_term["私聊"].group == "*"
    assert by_term["ivory"].line == 3
    assert "ivory" in lexicon.groups and lexicon.groups["ivory"].name_zh == "象牙"


def test_version_is_a_content_hash(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "b")
    assert load_lexicon(FIXTURE).version == load_lexicon(tmp_path / "b").version
    with open(tmp_path / "b" / "terms.csv", "a", encoding="utf-8") as fh:
        fh.write("象牙雕,zh,ivory,product,0.8,,,,\n")
    assert load_lexicon(FIXTURE).version != load_lexicon(tmp_path / "b").version


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("象牙,zh,ivory,animal,0.7,,,,", "kind", "'animal' is not one of"),
        ("象牙,ja,ivory,product,0.7,,,,", "lang", "'ja' is not one of"),
        ("象牙,zh,ivory,product,high,,,,", "confidence", "'high' is not a number"),
        ("象牙,zh,ivory,product,1.5,,,,", "confidence", "outside 0..1"),
        ("象牙,zh,ivory,product,0.7,,2026-13-01,,", "added", "not an ISO date"),
        ("象牙,zh,ivory,product,0.7,,,maybe,", "verified", "not true/false"),
        (",zh,ivory,product,0.7,,,,", "term", "required field is empty"),
        ("象牙,zh,*,product,0.7,,,,", "group", "needs a group"),
        ("象牙,zh,ivory,product,0.7,,,,extra,fields", "note", "too many fields"),
    ],
)
def test_bad_row_is_skipped_and_named_by_file_line_column(tmp_path: Path, row: str, column: str, reason: str) -> None:
    directory = _lexicon_dir(tmp_path, "ivory,en,ivory,product,0.5,,,,\n" + row + "\n")
    lexicon = load_lexicon(directory)
    assert [e.term for e in lexicon.entries] == ["ivory"]  # the good row survives
    (issue,) = [i for i in lexicon.issues if i.severity == "error"]
    assert (issue.file, issue.line, issue.column) == ("terms.csv", 3, column)
    assert reason in issue.reason
    term = row.split(",", 1)[0]
    entry = f" (entry '{term}')" if term else ""
    assert str(issue).startswith(f"terms.csv line 3{entry}, column '{column}'")


def test_strict_mode_raises_with_every_error(tmp_path: Path) -> None:
    directory = _lexicon_dir(tmp_path, "ivory,en,ivory,product,0.5,,,,\n象牙,zh,ivory,bad,0.7,,,,\n犀角,zh,x,product,2,,,,\n")
    with pytest.raises(LexiconError) as caught:
        load_lexicon(directory, strict=True)
    message = str(caught.value)
    assert "terms.csv line 3 (entry '象牙'), column 'kind'" in message
    assert "terms.csv line 4 (entry '犀角'), column 'confidence'" in message


def test_missing_column_raises_naming_file_and_column(tmp_path: Path) -> None:
    directory = _lexicon_dir(tmp_path, "象牙,zh,ivory,0.7\n", header="term,lang,group,confidence\n")
    with pytest.raises(LexiconError, match=r"terms.csv line 1: missing column\(s\) kind"):
        load_lexicon(directory)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="terms.csv: file not found"):
        load_lexicon(tmp_path)


def test_unknown_group_is_a_warning_not_an_error(tmp_path: Path) -> None:
    lexicon = load_lexicon(_lexicon_dir(tmp_path, "龙骨,zh,dragons,product,0.5,,,,\n"))
    assert [e.group for e in lexicon.entries] == ["dragons"]
    (issue,) = lexicon.issues
    assert issue.severity == "warning" and "not in groups.csv" in issue.reason


def test_validate_reports_duplicates_conflicts_missing_fields_and_coverage(tmp_path: Path) -> None:
    rows = (
        "象牙,zh,ivory,product,0.7,src,2026-11-01,true,\n"
        "象 牙,zh,ivory,product,0.6,src,2026-11-01,true,written with a space\n"  # same after normalisation
        "ivory,en,ivory,product,0.5,,,,\n"
        "ivory,en,ivory,exclusion,0.5,src,2026-11-01,,\n"
        "象牙,zh,ivory,animal,0.7,,,,\n"
    )
    report = validate_lexicon(_lexicon_dir(tmp_path, rows))
    assert not report.ok
    assert [str(e) for e in report.errors] == [
        "terms.csv line 6 (entry '象牙'), column 'kind': 'animal' is not one of species, product, coded, intent, "
        "exclusion"
    ]
    assert report.duplicates == [{"term": "象牙", "group": "ivory", "kind": "product", "lines": [2, 3]}]
    assert report.conflicts == [{"term": "ivory", "roles": ["ivory/exclusion", "ivory/product"], "lines": [4, 5]}]
    assert {(i.line, i.column) for i in report.missing_fields} == {(4, "source"), (4, "added")}
    assert report.coverage["ivory"]["product"] == 3
    assert report.coverage["ivory"]["exclusion"] == 1
    assert report.coverage["tiger"] == {k: 0 for k in ("species", "product", "coded", "intent", "exclusion")}
    assert report.to_dict()["ok"] is False
    text = report.render()
    assert "ERROR   terms.csv line 6 (entry '象牙'), column 'kind'" in text
    assert "DUPLICATE 象牙 (ivory/product) on lines [2, 3]" in text
    assert "tiger" in text and "<- no terms" in text


def test_validate_turns_an_unreadable_lexicon_into_a_report(tmp_path: Path) -> None:
    report = validate_lexicon(tmp_path)
    assert not report.ok and "file not found" in str(report.errors[0])


@pytest.mark.skipif(not (LEXICON_DIR / "terms.csv").is_file(), reason="project lexicon not written yet")
def test_project_lexicon_has_no_errors() -> None:
    report = validate_lexicon(LEXICON_DIR)
    assert report.ok, "\n".join(map(str, report.errors))
    assert report.n_entries > 100


CONTEXT_HEADER = "code,context,group,confidence,source,added,verified,note\n"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("小猫,,other,0.6,,,,", "context", "required field is empty"),
        ("小猫,红毛|环尾,*,0.6,,,,", "group", "needs a group"),
        ("小猫,红毛|环尾,dragons,0.6,,,,", "group", "'dragons' is not in groups.csv"),
        ("小猫,红毛|环尾,ivory,2,,,,", "confidence", "outside 0..1"),
        ("小猫,小猫|环尾,ivory,0.5,,,,", "context", "cannot be its own context"),
        ("小猫,红毛,ivory,0.5,,2026-02-30,,", "added", "not an ISO date"),
    ],
)
def test_bad_context_rule_is_skipped_and_named(tmp_path: Path, row: str, column: str, reason: str) -> None:
    directory = _lexicon_dir(tmp_path, "ivory,en,ivory,product,0.5,,,,\n")
    (directory / "contexts.csv").write_text(CONTEXT_HEADER + "老白,雕|手镯,ivory,0.5,,,,\n" + row + "\n",
                                            encoding="utf-8")
    lexicon = load_lexicon(directory)
    assert [r.code for r in lexicon.contexts] == ["老白"]  # the good rule survives
    (issue,) = [i for i in lexicon.issues if i.severity == "error"]
    assert (issue.file, issue.line, issue.column) == ("contexts.csv", 3, column)
    assert reason in issue.reason
    assert str(issue).startswith(f"contexts.csv line 3 (entry '小猫'), column '{column}'")
    with pytest.raises(LexiconError, match="contexts.csv line 3 .entry '小猫'."):
        load_lexicon(directory, strict=True)


def test_context_rules_are_normalised_and_change_the_version(tmp_path: Path) -> None:
    directory = _lexicon_dir(tmp_path, "ivory,en,ivory,product,0.5,,,,\n")
    before = load_lexicon(directory).version
    (directory / "contexts.csv").write_text(CONTEXT_HEADER + "老 白,雕件| 手鐲 ,ivory,0.5,src,2026-11-25,no,\n",
                                            encoding="utf-8")
    lexicon = load_lexicon(directory)
    (rule,) = lexicon.contexts
    assert (rule.code, rule.context, rule.group, rule.confidence) == ("老白", ("雕件", "手镯"), "ivory", 0.5)
    assert lexicon.version != before
