"""Named parts: a part word beside an animal's name is that animal's product, in the languages parts.csv covers."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.lexicon import load_lexicon
from classifier.rules import RuleSet
from classifier.text import normalise
from wildwatch.resources import LEXICON_DIR
import support

FIXTURE = support.FIXTURES / "classifier" / "lexicon"
PARTS_HEADER = "term,lang,part,confidence,source,added,verified,note\n"
ANIMALS_HEADER = "term,lang,group,source,added,verified,note\n"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(load_lexicon(LEXICON_DIR))


def _parts(rules: RuleSet, text: str) -> list[tuple[str, str, str]]:
    return [(e.term, e.group, e.matched) for e in rules.evaluate(normalise(text)) if e.rule == "part"]


@pytest.mark.parametrize(
    ("text", "term", "group"),
    [
        ("Piel de leopardo auténtica en venta", "piel+leopardo", "big_cats"),  # Spanish: part, "de", animal
        ("Bán da báo thật, còn đẹp", "da+báo", "big_cats"),  # Vietnamese: part, animal
        ("Belle peau d'éléphant tannée", "peau+éléphant", "ivory"),  # French elision
        ("Lot de dents de requin", "dents+requin", "shark_fin"),
        ("Vendo garras de oso", "garras+oso", "bear_bile"),
        ("cráneo de mono, pieza única", "cráneo+mono", "primates"),
        ("Antique walrus tusk", "tusk+walrus", "other"),  # English: animal, part
        ("ossos de onça-pintada", "ossos+onça-pintada", "big_cats"),
        ("kulit python asli", "kulit+python", "reptiles"),  # an English name beside an Indonesian part
    ],
)
def test_a_part_word_beside_an_animal_is_its_product(rules: RuleSet, text: str, term: str, group: str) -> None:
    assert (term, group) in [(t, g) for t, g, _ in _parts(rules, text)], _parts(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "Vestido estampado piel de leopardo",  # a print
        "piel sintética de leopardo",  # the lookalike word sits between: not joined
        "Dientes de tiburón fósil, megalodón",  # a fossil
        "Leopard skin print dress",  # a curated term names it (and says print): no second hit
        "os tigres do zoológico",  # Portuguese "the tigers", not French "os" (bone)
        "Jaguar leather seats for the XF",  # no part word: leather is not one (a car's seats)
        "bear claw pastry, fresh every morning",
        "piel de jaguar",  # a curated term already names the product
        "la piel, el leopardo",  # not joined by the language's little words
        "crocodile skin embossed handbag",
        "Huevos pericos con arepa",  # Spanish joins a part and an animal with "de": side by side, they are a dish
        "Casco Shark Spartan talla M",  # a helmet of the brand Shark
        "Almond bear claws, fresh from our bakery",
        "Colar de dente de tubarão em resina",  # a resin copy: the word stands anywhere in the field
        "Eagle Claw circle hooks, 50 pack",
    ],
)
def test_no_part_hit_for_lookalikes_curated_terms_or_words_apart(rules: RuleSet, text: str) -> None:
    assert _parts(rules, text) == []


def test_a_lookalike_word_in_the_other_field_stops_the_pairs_too(rules: RuleSet) -> None:
    evidence = rules.evaluate(normalise("Bear claw pastries, order by Friday"), normalise("almond-free bear claws, box of 6"))
    assert [e for e in evidence if e.rule == "part"] == []
    evidence = rules.evaluate(normalise("Colar artesanal"), normalise("dente de tubarão verdadeiro"))
    assert [e.term for e in evidence if e.rule == "part"] == ["dente+tubarão"]


def test_a_denied_pair_does_not_count_and_a_denied_lookalike_word_does_not_stop_it(rules: RuleSet) -> None:
    assert _parts(rules, "no es piel de leopardo") == []
    assert [t for t, _, _ in _parts(rules, "piel de leopardo, no es sintética")] == ["piel+leopardo"]


def test_the_summary_names_the_pair() -> None:
    from classifier.evidence import Evidence
    from classifier.scorer import ScoreResult

    evidence = (Evidence("part", "piel+leopardo", "piel de leopardo", "big_cats", "product", "title", 0.6),)
    result = ScoreResult(0.5, True, "big_cats", evidence, "v", 0.1)
    assert result.evidence_summary() == "part:piel de leopardo [big_cats]"


def _lexicon_dir(tmp_path: Path, parts: str, animals: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in ("groups.csv", "terms.csv"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    (tmp_path / "parts.csv").write_text(PARTS_HEADER + parts, encoding="utf-8")
    (tmp_path / "animals.csv").write_text(ANIMALS_HEADER + animals, encoding="utf-8")
    return tmp_path


GOOD_PART = "Piel,es,skin,0.6,src,2026-12-07,no,\n"
GOOD_ANIMAL = "Tigre,es,tiger,src,2026-12-07,no,\n"


def test_parts_and_animals_are_read_normalised_and_change_the_version(tmp_path: Path) -> None:
    lexicon = load_lexicon(_lexicon_dir(tmp_path / "b", GOOD_PART, GOOD_ANIMAL))
    assert [(p.term, p.lang, p.confidence) for p in lexicon.parts] == [("piel", "es", 0.6)]
    assert [(a.term, a.lang, a.group) for a in lexicon.animals] == [("tigre", "es", "tiger")]
    assert lexicon.version != load_lexicon(_lexicon_dir(tmp_path / "a", "", "")).version
    evidence = RuleSet(lexicon).evaluate(normalise("Piel de tigre"))
    assert [(e.rule, e.term, e.group, e.kind, e.weight) for e in evidence if e.rule == "part"] == [
        ("part", "piel+tigre", "tiger", "product", 0.6)]


@pytest.mark.parametrize(
    ("file", "row", "column", "reason"),
    [
        ("parts.csv", "hueso,xx,bone,0.6,,,,", "lang", "'xx' is not a known language code"),
        ("parts.csv", "hueso,es,bone,high,,,,", "confidence", "not a number"),
        ("parts.csv", "piel,es,skin,0.5,,,,", "term", "duplicate of line 2"),
        ("animals.csv", "dragón,es,dragons,,,,", "group", "'dragons' is not in groups.csv"),
        ("animals.csv", "tigre,es,tiger,,,,", "term", "duplicate of line 2"),
        ("animals.csv", "tigre,es,tiger,,,maybe,", "verified", "not true/false"),
    ],
)
def test_a_bad_row_is_skipped_and_named(tmp_path: Path, file: str, row: str, column: str, reason: str) -> None:
    parts = GOOD_PART + (row + "\n" if file == "parts.csv" else "")
    animals = GOOD_ANIMAL + (row + "\n" if file == "animals.csv" else "")
    lexicon = load_lexicon(_lexicon_dir(tmp_path, parts, animals))
    assert [p.term for p in lexicon.parts] == ["piel"] and [a.term for a in lexicon.animals] == ["tigre"]
    (issue,) = [i for i in lexicon.issues if i.severity == "error"]
    assert (issue.file, issue.line, issue.column) == (file, 3, column)
    assert reason in issue.reason


def test_rules_pickled_before_the_parts_table_score_as_they_did(rules: RuleSet) -> None:
    """A model trained before parts.csv keeps its rules without a composer: no part evidence, no error, and the
    evidence columns the model was fitted on are unchanged (parts count through their kind and group)."""
    import pickle

    old = pickle.loads(pickle.dumps(rules))
    del old.__dict__["parts"]
    text = normalise("Piel de leopardo auténtica en venta")
    assert [e.rule for e in old.evaluate(text) if e.rule == "part"] == []
    assert [e.rule for e in rules.evaluate(text) if e.rule == "part"] == ["part"]


@pytest.mark.parametrize(
    ("text", "term", "group"),
    [
        ("ভালুকের পিত্ত আছে", "পিত্ত+ভালুক", "bear_bile"),  # Bengali: the genitive ending written onto the name
        ("চিতাবাঘের চামড়া বিক্রি", "চামড়া+চিতাবাঘ", "big_cats"),
        ("गुलदार के नाखून बिकाऊ", "नाखून+गुलदार", "big_cats"),  # Hindi: name, genitive word, part
        ("कछुए के अंडे", "अंडे+कछुए", "tortoises"),
        ("کچھوے کا خول", "خول+کچھوے", "tortoises"),  # Urdu
        ("bhalu ka pitt chahiye", "pitt+bhalu", "bear_bile"),  # romanised Hindi
        ("hiran ki skin", "skin+hiran", "other"),  # a romanised name with an English part
        ("tiger ki khaal available", "khaal+tiger", "tiger"),  # an English name with a romanised part
        ("ஆமை கறி", "கறி+ஆமை", "tortoises"),  # Tamil: side by side
        ("पोपटाची पिल्ले", "पिल्ले+पोपट", "parrots"),  # Marathi: the ending on the name
        ("hatir dater churi", "dater+hati", "ivory"),  # romanised Bengali: both in the genitive (ivory's bangles)
        ("বড় বিড়ালের নখ", "নখ+বড় বিড়াল", "big_cats"),  # "big cat", the trade's word
    ],
)
def test_south_asian_languages_put_the_animal_first(rules: RuleSet, text: str, term: str, group: str) -> None:
    assert (term, group) in [(t, g) for t, g, _ in _parts(rules, text)], _parts(rules, text)


@pytest.mark.parametrize(
    "text",
    [
        "ہرن کے سینگ جیسے لکڑی کے ہینگر",  # "like deer antlers": wooden hangers
        "बाघ की खाल का प्रिंट वाला कुशन",  # a print (and a curated term names the product)
        "गुलदार के नाखून जैसा डिज़ाइन",  # "like": a design
        "तोमार चामड़ा",  # a part with no animal
    ],
)
def test_no_south_asian_pair_for_lookalikes(rules: RuleSet, text: str) -> None:
    assert _parts(rules, text) == []


@pytest.mark.parametrize("text", ["রেড ইয়ার স্লাইডার কচ্ছপ ছানা", "ब्राज़ीलियन कछुए के बच्चे", "Red eared slider babies"])
def test_the_legal_pet_turtle_is_named_as_an_exclusion(rules: RuleSet, text: str) -> None:
    """The red-eared slider (South Asia's pet shops: "the Brazilian turtle") is legal: an exclusion the model weighs."""
    assert [e.group for e in rules.evaluate(normalise(text)) if e.rule == "exclusion"][:1] == ["tortoises"]


def test_south_asian_denial_follows_the_word(rules: RuleSet) -> None:
    """SOV languages deny after the word: "plastic nahi" is the seller denying the lookalike, so the pair counts."""
    assert [(t, g) for t, g, _ in _parts(rules, "गुलदार के नाखून")] == [("नाखून+गुलदार", "big_cats")]
    assert [t for t, _, _ in _parts(rules, "गुलदार के नाखून, प्लास्टिक नहीं")] == ["नाखून+गुलदार"]
    assert _parts(rules, "गुलदार के नाखून, प्लास्टिक वाले") == []
    negated = [e.term for e in rules.evaluate(normalise("यह बाघ की खाल नहीं है, प्रिंट है")) if e.rule == "negated"]
    assert negated == ["बाघ की खाल"]
