"""Descriptions: an animal or part described by its features, without a name (descriptions.csv).

The rule family exists for codes no term knows ("the white material with the cross-hatching", "red skin over a
solid yellow core"); its precision comes from the objects it needs, the honest things that stop it, and the
offer it must sit in.  The sentences below were written for these tests, not taken from any evaluation set.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.inference import analyse
from classifier.lexicon import LEXICON_DIR, LexiconError, load_lexicon
from classifier.rules import RuleSet, group_strengths
from classifier.scorer import ScoreResult
from classifier.text import normalise
import support

FIXTURE = support.FIXTURES / "classifier" / "lexicon"
HEADER = "name,group,features,min_features,objects,unless,confidence,source,added,verified,note\n"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(load_lexicon(LEXICON_DIR))


def _described(rules: RuleSet, title: str, description: str = "", price: float | None = None) -> dict[str, str]:
    """rule name -> matched words, for the description evidence ``analyse`` adds to one listing."""
    evidence = analyse(rules, title, description, price).evidence
    return {e.term: e.matched for e in evidence if e.rule == "description"}


def test_an_offer_described_without_a_name_is_evidence_for_its_group(rules: RuleSet) -> None:
    found = _described(rules, "舅公的白色老料手镯", "内圈看得到网格纹，很压手，油润，可小刀，价钱私信", 3800)
    assert "ivory grain" in found and "网格纹" in found["ivory grain"]
    assert "ivory look and weight" in found
    evidence = analyse(rules, "舅公的白色老料手镯", "内圈看得到网格纹，很压手，油润，可小刀", 3800).evidence
    assert group_strengths(evidence).get("ivory", 0) > 0.3  # it lifts the listing out of "no wildlife evidence"


@pytest.mark.parametrize(
    ("title", "description", "rule"),
    [
        ("Carved cup, 18th c style", "honey colour, the base shows clear fish-roe ends, 9cm. $2,400", "rhino horn texture"),
        ("雕牌料一块 6x4", "红皮很正 黄肉细 实心 不开裂 800一克", "hornbill casque"),
        ("TCM flakes 250g", "brown overlapping scales, good for milk flow after birth, ship worldwide $90", "pangolin scales"),
        ("Old rug from the estate", "orange and black stripes, full mount head, 7ft, $900 ono", "striped pelt"),
        ("刚下网的野鸟 两只", "叫口好 林子里的 350一只 同城", "wild-caught bird"),
        ("Little monkey, 10 weeks", "baby, bottle fed, super tame, no papers so cheap, pickup only £600", "baby primate"),
        ("Slipper orchids, 20 plants", "collected in the mountains of Vietnam, bare root, $15 each", "wild-collected plant"),
        ("Blood python pair", "wild caught Sumatra imports, eating well, €450", "wild-caught reptile"),
        ("大眼萌宠 小可爱", "动作慢 会抱手指 晚上精神 1800元", "nocturnal primate"),  # 小懒 is a lexicon term since the sixth session
        ("野生兜兰下山苗 50苗一箱", "山上的 带原土 种植成活率高 批发价 2500", "wild-collected plant"),
    ],
)
def test_each_family_fires_on_its_description(rules: RuleSet, title: str, description: str, rule: str) -> None:
    assert rule in _described(rules, title, description)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("红皮黄肉 沙地红薯 5斤装", "实心 软糯香甜 包邮 29.9"),  # sweet potatoes have red skin and yellow flesh
        ("Herringbone coat, cross-hatch tweed", "white and cream, size M, £45"),  # a fabric, not a grain
        ("和田玉 白色老料手镯", "网格纹 油润 压手 8800"),  # jade is described the same way
        ("Tiger-stripe hoodie", "orange and black stripes print, all sizes, $25"),  # merchandise
        ("鱼鳞片 鱼鳞冻原料", "深褐色 一斤10元"),  # fish scales
        ("Budgie chicks hand fed", "talking lines, no rings needed, £40 each"),  # budgies are legal pets
        ("Paphiopedilum flasks", "seed grown from wild-type parents, 20 seedlings per flask, $60"),  # nursery stock
        ("Python leather wallet", "wild python skin, handmade, $45"),  # leather goods
    ],
)
def test_the_honest_things_the_same_features_describe_are_stopped(rules: RuleSet, title: str,
                                                                  description: str) -> None:
    assert _described(rules, title, description) == {}


def test_denying_the_honest_thing_does_not_stop_it(rules: RuleSet) -> None:
    # "不是牛骨" claims the real thing: the bone that would have stopped the rule is denied, not present.
    assert "ivory grain" in _described(rules, "老件手镯 白", "有交叉纹 不是牛骨 2万", None) | _described(
        rules, "老件手镯 白", "有交叉纹 不是牛骨 2万", 20000)
    assert _described(rules, "老件手镯 白", "有交叉纹 是牛骨的 200", 200) == {}


def test_a_description_needs_an_offer(rules: RuleSet) -> None:
    text = ("Museum note", "the casque has a red skin over a solid yellow core, which carvers prized")
    assert _described(rules, *text) == {}  # no offer signal: a description in a text about the animal
    assert "hornbill casque" in _described(rules, "Carving blank 5x3", "red skin, solid yellow core", 300)


def test_a_description_is_not_added_where_a_term_already_names_the_group(rules: RuleSet) -> None:
    assert _described(rules, "象牙手镯 网格纹 白色老料", "", 5000) == {}


def test_too_few_features_do_not_fire(rules: RuleSet) -> None:
    # "ivory look and weight" needs two look-or-weight words beside a white-material word.
    assert "ivory look and weight" not in _described(rules, "白色老料 一块", "很沉 1200", 1200)


def test_the_evidence_names_the_words_that_describe_it(rules: RuleSet) -> None:
    evidence = analyse(rules, "Carving blank", "red skin, solid yellow core, 5x3cm", 200).evidence
    (described,) = [e for e in evidence if e.rule == "description"]
    assert (described.group, described.kind, described.term) == ("hornbill", "coded", "hornbill casque")
    assert described.matched == "red skin+yellow core+solid yellow+carving"  # features, then an object
    result = ScoreResult(0.5, True, "hornbill", evidence, "v", 0.1)
    assert "described:red skin+yellow core+solid yellow+carving [hornbill]" in result.evidence_summary()


def _lexicon_dir(tmp_path: Path, rows: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE / "groups.csv", tmp_path / "groups.csv")
    shutil.copy(FIXTURE / "terms.csv", tmp_path / "terms.csv")
    (tmp_path / "descriptions.csv").write_text(HEADER + rows, encoding="utf-8")
    return tmp_path


GOOD = "ivory grain,ivory,交叉纹|網格紋,1,手鐲|white,玉,0.4,src,2026-12-06,no,\n"


def test_description_rows_are_normalised_and_change_the_version(tmp_path: Path) -> None:
    without = _lexicon_dir(tmp_path / "a", "")
    directory = _lexicon_dir(tmp_path / "b", GOOD)
    lexicon = load_lexicon(directory)
    (rule,) = lexicon.descriptions
    assert (rule.features, rule.objects, rule.unless, rule.min_features) == (("交叉纹", "网格纹"), ("手镯", "white"),
                                                                            ("玉",), 1)
    assert lexicon.version != load_lexicon(without).version


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("pelt,ivory,rosettes,3,pelt,,0.4,,,,", "min_features", "not between 1 and the 1 feature"),
        ("pelt,ivory,rosettes,two,pelt,,0.4,,,,", "min_features", "not a whole number"),
        ("pelt,dragons,rosettes,1,pelt,,0.4,,,,", "group", "'dragons' is not in groups.csv"),
        ("pelt,ivory,rosettes,1,pelt,pelt,0.4,,,,", "unless", "both a feature or object and an 'unless' word"),
        ("pelt,ivory,,1,pelt,,0.4,,,,", "features", "required field is empty"),
        ("pelt,ivory,rosettes,1,pelt,,1.5,,,,", "confidence", "outside 0..1"),
    ],
)
def test_a_bad_description_row_is_skipped_and_named(tmp_path: Path, row: str, column: str, reason: str) -> None:
    directory = _lexicon_dir(tmp_path, GOOD + row + "\n")
    lexicon = load_lexicon(directory)
    assert [r.name for r in lexicon.descriptions] == ["ivory grain"]  # the good row survives
    (issue,) = [i for i in lexicon.issues if i.severity == "error"]
    assert (issue.file, issue.line, issue.column) == ("descriptions.csv", 3, column)
    assert reason in issue.reason
    with pytest.raises(LexiconError, match="descriptions.csv line 3 .entry 'pelt'."):
        load_lexicon(directory, strict=True)


def test_a_model_pickled_before_descriptions_existed_still_evaluates(rules: RuleSet) -> None:
    old = RuleSet(load_lexicon(FIXTURE))
    del old.__dict__["description_matcher"], old.__dict__["descriptions"]
    assert old.description_evidence(normalise("red skin solid yellow core"), "") == ()


def test_the_lexicon_report_counts_descriptions() -> None:
    from classifier.rule_stats import family_stats, term_stats

    lexicon = load_lexicon(LEXICON_DIR)
    listings = [("Carving blank", "red skin, solid yellow core, $300", 1), ("纯棉T恤 白色", "包邮 39元", 0)]
    families = {f.rule: f for f in family_stats(lexicon, listings)}
    assert (families["description"].positives, families["description"].negatives) == (1, 0)
    rows = {(s.term, s.rule): s for s in term_stats(lexicon, listings)}
    assert rows[("hornbill casque", "description")].positives == 1
    assert rows[("ivory grain", "description")].fired == 0  # rows that never fired are listed too


@pytest.mark.parametrize(
    ("title", "description", "rule"),
    [
        ("पुरानी धारीदार खाल", "सिर सहित, 6 फुट, कीमत बात करके", "striped pelt"),  # Hindi: striped hide
        ("চিতা ছোপওয়ালা চামড়া", "৫ ফুট, দাম ইনবক্সে", "spotted pelt"),  # Bengali: spotted skin
        ("बोलने वाला मिट्ठू", "हाथ से खाता है, ₹2500", "talking parrot"),
        ("জাল থেকে নামানো ছোট পাখি ৫০ পিস", "পাইকারি দাম ৮০ টাকা", "wild-caught bird"),
        ("दिवाली के लिए उल्लू उपलब्ध", "बड़ा साइज, संपर्क करें 98xxxxxx", "owl for rituals"),
        ("दोमुंहा 3.2 किलो", "सीधी पार्टी फोन करे", "red sand boa by weight"),
        ("जंगली पित्त सूखा", "10 ग्राम ₹5000", "wild bile"),
        ("हिमालयन नाभि ओरिजिनल", "10 ग्राम, कीमत ₹9000", "musk pod"),
        ("Laxmi vahan milega", "Dhanteras se pehle booking, ₹5000 ek", "owl for rituals"),  # romanised Hindi
        ("Pahadi tota ke bachche", "ghosle se utare, 3 piece, ₹900 each", "wild-caught bird"),
    ],
)
def test_south_asian_descriptions_fire(rules: RuleSet, title: str, description: str, rule: str) -> None:
    assert rule in _described(rules, title, description)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("लक्ष्मी जी उल्लू पीतल मूर्ति", "दिवाली पूजा के लिए, ₹799, फ्री डिलीवरी"),  # a brass idol of Lakshmi's owl
        ("धारीदार चादर डबल बेड", "कॉटन, ₹499"),  # a striped bedsheet
        ("नाभि में तेल डालने के फायदे", "हिमालय की जड़ी बूटी वाला तेल ₹299"),  # navel oiling
        ("जाल वाली कबूतर जोड़ी", "₹600 जोड़ा"),  # pigeons are legal
        ("Laxmi vahan brass murti", "Diwali puja special, ₹1,200"),  # a brass idol, romanised
    ],
)
def test_south_asian_lookalikes_are_stopped(rules: RuleSet, title: str, description: str) -> None:
    assert _described(rules, title, description) == {}
