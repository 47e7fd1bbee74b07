"""The taxon table (data/taxa): statuses checked against the lists, validation failures named, and the
matcher naming the most specific taxon without turning everyday words into protected species."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from classifier.features import ListingAnalyzer
from classifier.lexicon import load_lexicon
from classifier.rules import best_group
from classifier.taxa import TaxonMatcher, load_taxa, validate_taxa
from support.cli import ROOT
from wildwatch.config import LEXICON_DIR, TAXA_DIR

# A sample of statuses as the official documents state them (CN-A-2021: NFGA/MARA announcement
# No. 3 of 2021; CN-P-2021: No. 15 of 2021; CITES: Appendices in force 2017-04-21).  Each row was
# read in the source list, not in our table; the second copies it was compared with are named in
# data/taxa/README.md ("Checks").
CHINA_SAMPLE = [
    ("ailuropoda_melanoleuca", "大熊猫", "I", ""),
    ("manis_pentadactyla", "穿山甲", "I", ""),
    ("panthera_tigris", "虎", "I", ""),
    ("panthera_uncia", "雪豹", "I", ""),
    ("pantholops_hodgsoni", "藏羚", "I", ""),
    ("moschus_berezovskii", "林麝", "I", ""),
    ("elephas_maximus", "亚洲象", "I", ""),
    ("rhinopithecus_roxellana", "川金丝猴", "I", ""),
    ("eretmochelys_imbricata", "玳瑁", "I", ""),
    ("ailurus_fulgens", "小熊猫", "II", ""),
    ("ursus_thibetanus", "黑熊", "II", ""),
    ("garrulax_canorus", "画眉", "II", ""),
    ("andrias_davidianus", "大鲵", "II", "仅限野外种群"),
    ("hippocampus", "海马属", "II", "仅限野外种群"),
    ("coralliidae", "红珊瑚科", "I", ""),
    ("aquilaria_sinensis", "土沉香", "II", ""),
    ("taxus", "红豆杉属", "I", ""),
    ("ginkgo_biloba", "银杏", "I", ""),
]
# A second, independent transcription of CN-A-2021: the flagship assertions of thblue/SuperPicky
# scripts_dev/build_china_protection.py @ 5b4d1a52 (level 1 = Class I).
SECOND_COPY = [("aquila_chrysaetos", "I"), ("nipponia_nippon", "I"), ("pavo_muticus", "I"),
               ("emberiza_aureola", "I"), ("cygnus_cygnus", "II"), ("asio_otus", "II")]
CITES_SAMPLE = [
    ("manis_pentadactyla", "I"),
    ("panthera_tigris", "I"),
    ("loxodonta_africana", "I/II"),
    ("ceratotherium_simum", "I/II"),
    ("saiga_tatarica", "II"),
    ("psittacus_erithacus", "I"),
    ("rhinoplax_vigil", "I"),
    ("eretmochelys_imbricata", "I"),
    ("totoaba_macdonaldi", "I"),
    ("dalbergia_odorifera", "II"),
    ("pantholops_hodgsoni", "I"),
    ("panthera_uncia", "I"),
]


@pytest.fixture(scope="module")
def table():
    return load_taxa()


@pytest.fixture(scope="module")
def analyse():
    analyzer = ListingAnalyzer(load_lexicon()).fit()
    matcher = TaxonMatcher(load_taxa())

    def run(title: str, description: str = ""):
        analysis = analyzer.analyse(title, description)
        return matcher.identify(analysis.text, analysis.evidence, best_group(analysis.evidence))

    return run


@pytest.mark.parametrize(("taxon_id", "name_zh", "china_class", "note"), CHINA_SAMPLE)
def test_china_statuses_match_the_2021_lists(table, taxon_id, name_zh, china_class, note):
    taxon = table.taxa[taxon_id]
    assert (taxon.name_zh, taxon.protection.china_class) == (name_zh, china_class)
    assert note in taxon.protection.china_note
    assert taxon.protection.china_source.source_id in ("CN-A-2021", "CN-P-2021")
    assert taxon.protection.china_source.issued.startswith("2021-")


@pytest.mark.parametrize(("taxon_id", "china_class"), SECOND_COPY)
def test_china_statuses_agree_with_a_second_transcription(table, taxon_id, china_class):
    assert table.taxa[taxon_id].protection.china_class == china_class


@pytest.mark.parametrize(("taxon_id", "appendix"), CITES_SAMPLE)
def test_cites_appendices_match_the_2017_export(table, taxon_id, appendix):
    protection = table.taxa[taxon_id].protection
    assert protection.cites_appendix == appendix
    assert protection.cites_source.source_id == "CITES-2017" and protection.cites_source.issued == "2017-04-21"


@pytest.mark.parametrize(("taxon_id", "appendix", "source"), [
    ("galeocerdo_cuvier", "II", "CITES-CoP19"),  # requiem sharks, in effect 2023-11-25
    ("carcharhinidae", "II", "CITES-CoP19"),
    ("sphyrna_tiburo", "II", "CITES-CoP19"),
    ("isurus_oxyrinchus", "II", "CITES-CoP18"),
    ("holothuria_nobilis", "II", "CITES-CoP18"),
    ("aonyx_cinerea", "I", "CITES-CoP18"),  # moved up from Appendix II
    ("carcharhinus_falciformis", "II", "CITES-2017"),  # listed before the export: the export's row stands
])
def test_listings_adopted_after_the_export_name_the_cop_they_come_from(table, taxon_id, appendix, source):
    protection = table.taxa[taxon_id].protection
    assert (protection.cites_appendix, protection.cites_source.source_id) == (appendix, source)
    assert protection.cites_source.document in protection.legal_basis()


def test_an_amendment_keeps_the_exports_names_and_adds_its_own(tmp_path):
    from classifier.taxa_build import with_amendments

    (tmp_path / "cites_amendments.csv").write_text(
        "FullName,RankName,Kingdom,Class,Order,Family,Genus,CurrentListing,AnnotationEnglish,EnglishNames,"
        "SpanishNames,FrenchNames,Source,Note\n"
        "Aonyx cinerea,SPECIES,Animalia,Mammalia,Carnivora,Mustelidae,Aonyx,I,Appendix I: ,Asian otter,,,CITES-CoP18,\n"
        "Gekko gecko,SPECIES,Animalia,Reptilia,Sauria,Gekkonidae,Gekko,II,Appendix II: ,Tokay gecko,,,CITES-CoP18,\n",
        encoding="utf-8")
    export = [{"FullName": "Aonyx cinerea", "CurrentListing": "II", "AnnotationEnglish": "", "EnglishNames": "Small-clawed otter",
               "SpanishNames": "Nutria cenicienta", "FrenchNames": ""},
              {"FullName": "Panthera tigris", "CurrentListing": "I", "EnglishNames": "Tiger"}]
    rows = {r["FullName"]: r for r in with_amendments(tmp_path, export)}
    assert rows["Aonyx cinerea"]["CurrentListing"] == "I" and rows["Aonyx cinerea"]["Source"] == "CITES-CoP18"
    assert rows["Aonyx cinerea"]["EnglishNames"] == "Small-clawed otter, Asian otter"
    assert rows["Aonyx cinerea"]["SpanishNames"] == "Nutria cenicienta"
    assert rows["Panthera tigris"] == export[1]  # untouched
    assert rows["Gekko gecko"]["CurrentListing"] == "II"  # added


def test_population_splits_are_kept_in_words(table):
    elephant = table.taxa["loxodonta_africana"].protection
    assert "BW, NA, ZA" in elephant.cites_note and elephant.rank == 0
    assert "CITES Appendix I/II" in elephant.legal_basis()
    rhino = table.taxa["ceratotherium_simum"].protection
    assert "ZA populations of Ceratotherium simum simum" in rhino.cites_note


def test_lexicon_check_reports_each_list_and_every_status_has_a_source():
    report = validate_taxa()
    assert report.ok, report.errors
    assert set(report.lists) == {"china_I", "china_II", "cites_I", "cites_II"}
    assert report.lists["china_I"]["share"] == 1.0 and report.lists["china_II"]["share"] == 1.0
    assert report.lists["cites_I"]["share"] == 1.0
    assert 0 < report.lists["cites_II"]["share"] < 1  # only the trade groups' Appendix II taxa
    result = subprocess.run([sys.executable, "-m", "wildwatch", "lexicon", "check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for line in ("China Class I", "China Class II", "CITES Appendix I", "CITES Appendix II"):
        assert line in result.stdout
    with (TAXA_DIR / "taxa.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(r["china_source"] for r in rows if r["china_class"])
    assert all(r["cites_source"] for r in rows if r["cites_appendix"])


def _copy_table(tmp_path: Path) -> Path:
    target = tmp_path / "taxa"
    shutil.copytree(TAXA_DIR, target, ignore=shutil.ignore_patterns("raw"))
    return target


def _edit(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_a_status_without_a_source_an_unknown_taxon_and_a_conflict_are_errors(tmp_path):
    directory = _copy_table(tmp_path)

    def break_taxa(rows):
        for row in rows:
            if row["taxon_id"] == "panthera_tigris":
                row["china_source"] = ""
        twin = dict(next(r for r in rows if r["taxon_id"] == "ailurus_fulgens"))
        rows.append(twin | {"taxon_id": "ailurus_fulgens_copy", "china_class": "I"})

    _edit(directory / "taxa.csv", break_taxa)
    _edit(directory / "aliases.csv", lambda rows: rows.append(
        {"term": "犀角粉", "lang": "zh", "taxon_id": "no_such_taxon", "source": "test", "note": ""}))
    report = validate_taxa(directory, LEXICON_DIR)
    assert not report.ok
    text = "\n".join(report.errors)
    assert "(panthera_tigris): china_class 'I' has no china_source" in text
    assert "conflicting status" in text and "Ailurus fulgens" in text
    assert "aliases.csv line" in text and "unknown taxon_id 'no_such_taxon'" in text
    result = subprocess.run([sys.executable, "-m", "wildwatch", "lexicon", "check", "--taxa-dir", str(directory)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no china_source" in result.stderr


def test_most_specific_taxon_with_label(analyse):
    match = analyse("出售 穿山甲片 炮山甲 私聊")
    assert match.taxon.taxon_id == "manis_pentadactyla"
    assert match.protection.label == "China Class I, CITES Appendix I"
    assert "国家重点保护野生动物名录" in match.protection.legal_basis()
    snow = analyse("雪豹皮 整张 出")
    assert snow.taxon.scientific_name == "Panthera uncia" and snow.how == "name"
    # Only the group is known: the group's taxon, said so.
    tiger = analyse("老虎骨 泡酒 收藏")
    assert tiger is not None and tiger.taxon.taxon_id == "panthera_tigris"


@pytest.mark.parametrize("text", [
    "鸳鸯火锅底料 四川", "天麻炖鸡汤料包", "Python programming book, 3rd edition", "crane toy for kids",
    "大熊猫毛绒玩具 30cm", "画眉笔 防水", "玫瑰花束 11朵", "龙眼干 500g",
])
def test_everyday_words_name_no_protected_taxon(analyse, text):
    assert analyse(text) is None


def test_everyday_and_wild_only_names_count_with_wildlife_context(analyse):
    assert analyse("野生天麻 正宗 山里挖的").taxon.taxon_id == "gastrodia_elata"
    assert analyse("画眉鸟 活体 出售").taxon.taxon_id == "garrulax_canorus"


def test_legal_lookalikes_come_from_the_table(analyse):
    match = analyse("live ball python for sale, captive bred with papers")
    assert match is not None and match.taxon.scientific_name == "Python regius"
    assert any("captive_bred" in note for note in match.legal)
    assert analyse("猛犸象牙 手镯 新疆 出土") is None  # mammoth ivory names no elephant


def _cites_row(name, rank, listing, kingdom="Animalia", annotation="", synonyms="", english="", spanish="",
               french=""):
    parts = name.split()
    return {"FullName": name, "RankName": rank, "CurrentListing": listing, "Kingdom": kingdom,
            "Class": "Mammalia" if kingdom == "Animalia" else "", "Order": "", "Family": "",
            "Genus": parts[0], "AnnotationEnglish": annotation, "SynonymsWithAuthors": synonyms,
            "EnglishNames": english, "SpanishNames": spanish, "FrenchNames": french}


def test_build_takes_cites_status_by_name_spelling_synonym_or_unrestricted_genus_only(tmp_path):
    from classifier.taxa_build import build

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "cn_wild_animals_2021.tsv").write_text(
        "name_zh\tscientific_name\tclass\tnote\n藏羚\tPantholops hodgsoni\t1\t\n雪豹\tPanthera uncia\t1\t\n"
        "甲\tAlpha one\t2\t\n乙\tBeta one\t2\t\n", encoding="utf-8")
    (raw / "cn_wild_plants_2021.tsv").write_text(
        "name_zh\tscientific_name\tclass\tnote\n龙血树\tDracaena cochinchinensis\t2\t\n", encoding="utf-8")
    for name in ("cn_wild_animals_2021_higher_taxa.tsv", "cn_wild_plants_2021_higher_taxa.tsv"):
        (raw / name).write_text("name_zh\tscientific_name\trank\tclass\tnote\n", encoding="utf-8")
    cites = [
        _cites_row("Pantholops hodgsonii", "SPECIES", "I", english="Chiru", spanish="Antílope tibetano",
                   french="Antilope du Tibet, Chirou"),
        _cites_row("Uncia uncia", "SPECIES", "I", synonyms="Panthera uncia (Schreber, 1775)"),
        _cites_row("Alpha", "GENUS", "II"),
        _cites_row("Beta", "GENUS", "II", annotation="Appendix II:Populations of Madagascar"),
        _cites_row("Dracaena", "GENUS", "II"),  # the lizard genus, not the plant
    ]
    taxa, names = build(raw, cites)
    by_id = {t["taxon_id"]: t for t in taxa}
    assert by_id["pantholops_hodgsoni"]["cites_appendix"] == "I"
    assert "spells it Pantholops hodgsonii" in by_id["pantholops_hodgsoni"]["cites_note"]
    assert by_id["panthera_uncia"]["cites_appendix"] == "I" and "synonym" in by_id["panthera_uncia"]["cites_note"]
    assert by_id["alpha_one"]["cites_note"] == "listed through genus Alpha"
    assert by_id["beta_one"]["cites_appendix"] == ""  # a population-limited genus listing is not inherited
    assert by_id["dracaena_cochinchinensis"]["cites_appendix"] == ""
    assert "pantholops_hodgsonii" not in by_id and "uncia_uncia" not in by_id  # one row per taxon
    ambiguous = {(n["name"], n["ambiguous"]) for n in names}
    assert ("龙血树", "yes") in ambiguous and ("藏羚", "no") in ambiguous and ("chiru", "yes") in ambiguous
    # Species+ also gives the Spanish and French common names; a single word cannot stand alone in any language
    langs = {(n["name"], n["lang"], n["kind"]) for n in names}
    assert {("antílope tibetano", "es", "spanish"), ("antilope du tibet", "fr", "french")} <= langs
    assert ("antílope tibetano", "no") in ambiguous and ("chirou", "yes") in ambiguous


def test_spanish_and_french_common_names_name_the_species(analyse):
    """Species+ names in the Convention's other two languages: an ocelot offered in Spanish is Leopardus pardalis,
    a hawksbill in French Eretmochelys imbricata, each with its CITES appendix."""
    ocelot = analyse("Gato onza bebé en venta")
    assert ocelot is not None and ocelot.taxon.scientific_name == "Leopardus pardalis" and ocelot.matched == "gato onza"
    assert "CITES Appendix I" in ocelot.taxon.protection.label
    hawksbill = analyse("Vends tortue imbriquée, écaille entière")
    assert hawksbill is not None and hawksbill.taxon.scientific_name == "Eretmochelys imbricata"


def test_english_names_are_found_in_the_plural() -> None:
    from classifier.taxa import _english_plural, default_matcher

    matcher = default_matcher()
    assert [n.taxon_id for n in matcher.names_at("chinese crocodile lizards")] == ["shinisaurus_crocodilurus"]
    assert matcher.names_at("chinese crocodile lizard") == matcher.names_at("chinese crocodile lizards")
    assert (_english_plural("lory"), _english_plural("ostrich"), _english_plural("grey"), _english_plural("鳄蜥"),
            _english_plural("ibis")) == ("lories", "ostriches", "greys", None, None)
    match = matcher.identify("3x chinese crocodile lizards, wild caught", (), None)
    assert match is not None and match.taxon.taxon_id == "shinisaurus_crocodilurus"
