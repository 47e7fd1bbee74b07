"""Build the taxon table and its name table from the raw list copies (used by scripts/build_taxa.py).

Pure functions over rows: the script reads the files, this module decides what goes in.
Every status keeps the id of the list it came from (data/taxa/sources.csv); a status that no
list gives stays empty rather than guessed.
"""
from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["build", "list_totals", "group_for", "norm_sci"]

CN_ANIMALS = "CN-A-2021"
CN_PLANTS = "CN-P-2021"
CITES = "CITES-2017"

# Lexicon groups (data/lexicon/groups.csv) by taxon, most specific rule first.
_GROUP_RULES: tuple[tuple[str, str, str], ...] = (
    ("species", "Panthera tigris", "tiger"),
    ("species", "Eretmochelys imbricata", "hawksbill"),
    ("species", "Ailuropoda melanoleuca", "other"),
    ("genus", "Ailuropoda", "other"),
    ("genus", "Saiga", "saiga"),
    ("genus", "Pantholops", "saiga"),
    ("genus", "Totoaba", "totoaba"),
    ("genus", "Bahaba", "totoaba"),
    ("genus", "Moschus", "musk"),
    ("genus", "Dalbergia", "rosewood"),
    ("genus", "Pterocarpus", "rosewood"),
    ("genus", "Aquilaria", "agarwood"),
    ("genus", "Gyrinops", "agarwood"),
    ("genus", "Hippocampus", "seahorse"),
    ("family", "Elephantidae", "ivory"),
    ("family", "Rhinocerotidae", "rhino_horn"),
    ("family", "Manidae", "pangolin"),
    ("family", "Felidae", "big_cats"),
    ("family", "Bucerotidae", "hornbill"),
    ("family", "Ursidae", "bear_bile"),
    ("family", "Moschidae", "musk"),
    ("family", "Coralliidae", "coral"),
    ("family", "Holothuriidae", "sea_cucumber"),
    ("family", "Stichopodidae", "sea_cucumber"),
    ("family", "Cheloniidae", "sea_turtle"),
    ("family", "Dermochelyidae", "sea_turtle"),
    *(("family", f, "shark_fin") for f in (
        "Carcharhinidae", "Sphyrnidae", "Lamnidae", "Rhincodontidae", "Cetorhinidae", "Alopiidae",
        "Rhinidae", "Glaucostegidae", "Rhinobatidae",  # wedgefishes and guitarfishes: the top fin grades
    )),
    *(("family", f, "tortoises") for f in (
        "Testudinidae", "Geoemydidae", "Trionychidae", "Platysternidae", "Emydidae", "Chelidae",
        "Podocnemididae", "Carettochelyidae",
    )),
    ("order", "Antipatharia", "coral"),
    ("order", "Primates", "primates"),
    ("order", "Psittaciformes", "parrots"),
    ("order", "Passeriformes", "songbirds"),
    ("class", "Reptilia", "reptiles"),
)

# Plain everyday words that are also standard names (food, brands, idioms, cosmetics).
EVERYDAY_ZH = frozenset(
    "鸳鸯 画眉 云雀 玫瑰 龙眼 甘草 天麻 人参 黄连 银杏 红松 楠木 螺蛳 发菜 莼菜 虫草 青梅 大叶茶 中华猕猴桃 "
    "软枣猕猴桃 鹿角菜 法螺 鹦鹉螺 原鸡 野牛 白鹤 鸿雁 角鱼 小鲤 海马 猕猴 草龟 花龟 松鸡 金豆 山橘 "
    "野黄瓜 莲 雪莲 红景天 肉苁蓉 锁阳 厚朴 降香 巴戟天 金荞麦 野大豆 水曲柳 黄檗 紫椴 红椿 水杉 松口蘑".split()
)
_WILD_ONLY = "仅限"
_CITES_RANKS = ("species", "subspecies", "variety", "genus", "family", "order")


def norm_sci(name: str) -> str:
    """Lower-case scientific name with one space between parts ("var.x" -> "var. x")."""
    name = re.sub(r"\b(var|subsp|sect)\.\s*", r"\1. ", name.strip())
    return re.sub(r"\s+", " ", name).lower()


def taxon_id(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", norm_sci(name)).strip("_")


def group_for(species: str, genus: str, family: str, order: str, klass: str) -> str:
    """The lexicon group of a taxon, or "other"."""
    keys = {"species": species, "genus": genus, "family": family, "order": order, "class": klass}
    for rank, name, group in _GROUP_RULES:
        if keys[rank] and keys[rank] == name:
            return group
    return "other"


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [dict(r) for r in csv.DictReader(handle, delimiter="\t")]


_SYNONYM = re.compile(r"(?:^|, )([A-Z][a-z]+ [a-z]+(?: (?:ssp\\. |var\\. )?[a-z]+)?)(?= [A-Z(]|,|$)")


def _appendices(listing: str) -> list[str]:
    return [p for p in listing.split("/") if p in ("I", "II", "III")]


def _strip_html(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text.replace("\xa0", " "))
    return re.sub(r"\s+", " ", text).strip()


class _Cites:
    """The Species+ export indexed by name, with the higher taxa each genus belongs to."""

    def __init__(self, rows: Iterable[Mapping[str, str]]) -> None:
        self.by_name: dict[str, Mapping[str, str]] = {}
        self.synonyms: dict[str, Mapping[str, str]] = {}
        self.genus_path: dict[tuple[str, str], tuple[str, str, str]] = {}
        for row in rows:
            if row.get("Kingdom") not in ("Animalia", "Plantae"):
                continue
            self.by_name.setdefault(norm_sci(row["FullName"]), row)
            for synonym in _SYNONYM.findall(row.get("SynonymsWithAuthors", "")):
                self.synonyms.setdefault(norm_sci(synonym), row)
            if row.get("Genus"):
                self.genus_path.setdefault((row["Kingdom"], row["Genus"]), (row["Class"], row["Order"], row["Family"]))

    def listing(
        self, sci: str, genus: str, family: str, order: str, kingdom: str
    ) -> tuple[Mapping[str, str] | None, str]:
        """(the row that lists this taxon, how it was found): exact name, else its genus/family/order row."""
        key = norm_sci(sci)
        row = self.by_name.get(key)
        if row is not None and _appendices(row["CurrentListing"]):
            return row, ""
        # The Chinese lists and CITES spell some names differently (hodgsoni / hodgsonii) or use
        # older names (Panthera uncia = Uncia uncia): an exact synonym or that one spelling only.
        for variant in (key + "i", key[:-1] if key.endswith("ii") else ""):
            row = self.by_name.get(variant) if variant else None
            if row is not None and _appendices(row["CurrentListing"]):
                return row, f"CITES spells it {row['FullName']}"
        row = self.synonyms.get(key)
        if row is not None and _appendices(row["CurrentListing"]) and row["RankName"] == "SPECIES":
            return row, f"CITES name {row['FullName']} (synonym)"
        for rank, name in (("genus", genus), ("family", family), ("order", order)):
            higher = self.by_name.get(norm_sci(name)) if name else None
            if higher is None or not _appendices(higher["CurrentListing"]) or higher["RankName"].lower() != rank:
                continue
            if higher["Kingdom"] != kingdom:
                continue
            # A higher-taxon listing limited to some populations or parts ("populations of
            # Madagascar") says nothing safe about one species: not inherited.
            if re.sub(r"Appendix I{1,3}:", "", _strip_html(higher.get("AnnotationEnglish", ""))).strip():
                return None, ""
            return higher, f"listed through {rank} {name}"
        return None, ""


AMENDMENTS_FILE = "cites_amendments.csv"


def with_amendments(raw_dir: Path, cites_rows: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """The Species+ export's rows with the listings adopted since (``raw/cites_amendments.csv``) put over them.

    The export is of 2017-04-21; an amendment row replaces the export's row of the same name or adds one, and
    names its own source (``Source``: CITES-CoP18, CITES-CoP19), so a status says which decision it comes from.
    """
    path = raw_dir / AMENDMENTS_FILE
    amendments = {}
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            amendments = {norm_sci(r["FullName"]): r for r in csv.DictReader(handle)}
    rows = [_amended(r, amendments.pop(norm_sci(r["FullName"]), None)) if r.get("FullName") else r
            for r in cites_rows]
    return rows + list(amendments.values())


def _amended(row: Mapping[str, str], amendment: Mapping[str, str] | None) -> Mapping[str, str]:
    """The export's row with an amendment's listing and source, and the common names of both."""
    if amendment is None:
        return row
    merged = {**row, **{k: amendment[k] for k in ("CurrentListing", "AnnotationEnglish", "Source")}}
    for column, _, _ in COMMON_NAME_COLUMNS:
        names = [n.strip() for n in f"{row.get(column, '')}, {amendment.get(column, '')}".split(", ") if n.strip()]
        merged[column] = ", ".join(dict.fromkeys(names))
    merged["ExportNames"] = ", ".join(row.get(column, "") for column, _, _ in COMMON_NAME_COLUMNS)
    return merged


def _cites_fields(row: Mapping[str, str] | None, how: str) -> dict[str, str]:
    if row is None:
        return {"cites_appendix": "", "cites_note": "", "cites_source": ""}
    parts = _appendices(row["CurrentListing"])
    note = ""
    if len(parts) > 1 or "NC" in row["CurrentListing"].split("/"):
        note = _strip_html(row.get("AnnotationEnglish", ""))[:300]
    if how:
        note = f"{how}; {note}" if note else how
    return {"cites_appendix": "/".join(parts), "cites_note": note, "cites_source": row.get("Source") or CITES}


def list_totals(raw_dir: Path, cites_rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """How many taxa each list has, so coverage is a share of the list, not of our table."""
    cites_rows = with_amendments(raw_dir, cites_rows)
    china = Counter()
    for name in ("cn_wild_animals_2021.tsv", "cn_wild_animals_2021_higher_taxa.tsv",
                 "cn_wild_plants_2021.tsv", "cn_wild_plants_2021_higher_taxa.tsv"):
        for r in _read_tsv(raw_dir / name):
            china[r["class"].strip()] += 1
    cites = Counter()
    for row in cites_rows:
        if row.get("Kingdom") in ("Animalia", "Plantae") and row["RankName"].lower() in _CITES_RANKS:
            for appendix in set(_appendices(row["CurrentListing"])):
                cites[appendix] += 1
    note_cn = "rows of the transcribed list (species and higher taxa)"
    note_cites = "taxa (species to order) of the Species+ export listing that appendix for some population"
    return [
        {"list": "china_I", "total": str(china["1"]), "source": f"{CN_ANIMALS}+{CN_PLANTS}", "note": note_cn},
        {"list": "china_II", "total": str(china["2"]), "source": f"{CN_ANIMALS}+{CN_PLANTS}", "note": note_cn},
        {"list": "cites_I", "total": str(cites["I"]), "source": CITES, "note": note_cites},
        {"list": "cites_II", "total": str(cites["II"]), "source": CITES, "note": note_cites},
    ]


def build(raw_dir: Path, cites_rows: Iterable[Mapping[str, str]]) -> tuple[list[dict], list[dict]]:
    """(taxa rows, name rows) for data/taxa/taxa.csv and names.csv."""
    cites = _Cites(with_amendments(raw_dir, cites_rows))
    taxa: dict[str, dict[str, str]] = {}
    matched: set[str] = set()  # CITES names already given to a taxon of the Chinese lists

    def add_cn(rows: list[dict[str, str]], source: str, kingdom_default: str, rank_default: str) -> None:
        for r in rows:
            sci = r["scientific_name"].strip()
            rank = r.get("rank") or rank_default
            if rank == "species" and re.search(r"\b(var|subsp)\.", sci):
                rank = "variety" if "var." in sci else "subspecies"
            genus = sci.split()[0] if rank not in ("family", "order") else ""
            # Keyed by kingdom too: Dracaena is a plant genus and a lizard genus.
            kingdom = kingdom_default
            klass, order, family = cites.genus_path.get((kingdom, genus), ("", "", ""))
            if rank == "family":
                family = sci
            if rank == "order":
                order = sci
            row, how = cites.listing(sci, genus, family, order, kingdom)
            if row is not None and not how.startswith("listed through"):
                matched.add(row["FullName"])
            species = sci if rank == "species" else ""
            tid = taxon_id(sci)
            taxa[tid] = {
                "taxon_id": tid, "rank": rank, "scientific_name": sci, "name_zh": r["name_zh"].strip(),
                "name_en": row.get("EnglishNames", "").split(", ")[0] if row is not None and not how.startswith("listed through") else "",
                "kingdom": kingdom, "class": klass, "order": order, "family": family,
                "group": group_for(species, genus, family, order, klass),
                "china_class": {"1": "I", "2": "II"}[r["class"].strip()],
                "china_note": r.get("note", "").strip(), "china_source": source,
                **_cites_fields(row, how),
            }

    add_cn(_read_tsv(raw_dir / "cn_wild_animals_2021.tsv"), CN_ANIMALS, "Animalia", "species")
    add_cn(_read_tsv(raw_dir / "cn_wild_animals_2021_higher_taxa.tsv"), CN_ANIMALS, "Animalia", "genus")
    add_cn(_read_tsv(raw_dir / "cn_wild_plants_2021.tsv"), CN_PLANTS, "Plantae", "species")
    add_cn(_read_tsv(raw_dir / "cn_wild_plants_2021_higher_taxa.tsv"), CN_PLANTS, "Plantae", "genus")

    # CITES taxa not on the Chinese lists: every Appendix I taxon, and Appendix II/III taxa of the
    # lexicon's trade groups (parrots, primates, sharks, rosewood, agarwood ...).
    for key, row in sorted(cites.by_name.items()):
        parts = _appendices(row["CurrentListing"])
        rank = row["RankName"].lower()
        if not parts or rank not in _CITES_RANKS:
            continue
        tid = taxon_id(row["FullName"])
        if tid in taxa or row["FullName"] in matched:
            continue
        species = row["FullName"] if rank == "species" else ""
        group = group_for(species, row["Genus"], row["Family"], row["Order"], row["Class"])
        if "I" not in parts and group == "other":
            continue
        taxa[tid] = {
            "taxon_id": tid, "rank": rank, "scientific_name": row["FullName"], "name_zh": "",
            "name_en": row.get("EnglishNames", "").split(", ")[0], "kingdom": row["Kingdom"],
            "class": row["Class"], "order": row["Order"], "family": row["Family"], "group": group,
            "china_class": "", "china_note": "", "china_source": "", **_cites_fields(row, ""),
        }

    names = _names(taxa, cites)
    return [taxa[k] for k in sorted(taxa)], names


# (column of the Species+ export, language, kind) of the common names taken from it.
COMMON_NAME_COLUMNS = (("EnglishNames", "en", "english"), ("SpanishNames", "es", "spanish"),
                       ("FrenchNames", "fr", "french"))


def _names(taxa: dict[str, dict[str, str]], cites: _Cites) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(name: str, lang: str, t: dict[str, str], kind: str, source: str) -> None:
        name = name.strip()
        if lang != "zh":
            name = name.lower()
        if not name or (name, t["taxon_id"]) in seen:
            return
        seen.add((name, t["taxon_id"]))
        why = _ambiguity(name, lang, t)
        rows.append({
            "name": name, "lang": lang, "taxon_id": t["taxon_id"], "kind": kind,
            "ambiguous": "yes" if why else "no", "why": why, "source": source,
        })

    for t in taxa.values():
        if t["name_zh"]:
            add(t["name_zh"], "zh", t, "standard", t["china_source"])
        if t["rank"] not in ("section",):
            add(t["scientific_name"], "la", t, "scientific", t["china_source"] or t["cites_source"])
        row = cites.by_name.get(norm_sci(t["scientific_name"]))
        if row is None and t["name_en"]:
            row = cites.synonyms.get(norm_sci(t["scientific_name"])) or cites.by_name.get(norm_sci(t["scientific_name"]) + "i")
        if row is not None:
            # Species+ gives each taxon's common names in the Convention's three languages; the Spanish and
            # French ones are the names Latin America's and francophone Africa's sellers and buyers use.
            exported = {n.strip() for n in row.get("ExportNames", "").split(", ")}
            for column, lang, kind in COMMON_NAME_COLUMNS:
                for common in filter(None, (n.strip() for n in row.get(column, "").split(", "))):
                    add(common, lang, t, kind, CITES if common in exported else row.get("Source") or CITES)
    rows.sort(key=lambda r: (r["taxon_id"], r["lang"], r["name"]))
    return rows


def _ambiguity(name: str, lang: str, t: Mapping[str, str]) -> str:
    """Why a name cannot stand on its own in a listing ("" when it can)."""
    if lang == "zh":
        if len(name) == 1:
            return "single character"
        if name in EVERYDAY_ZH:
            return "everyday word (food, brand, idiom or common product)"
        if _WILD_ONLY in t["china_note"]:
            return "wild populations only: farmed or captive-bred stock is legal"
        if t["china_source"] == CN_PLANTS:
            return "wild plants only: cultivated plants are legal"
        return ""
    if " " not in name:
        return "single Latin word (genus or higher taxon)" if lang == "la" else "single word"
    return ""
