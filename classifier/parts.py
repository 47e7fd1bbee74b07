"""Named parts: a part or product word beside a species name reads as that species' product, in any language.

Why: the lexicon names products term by term ("piel de jaguar", "cuero de jaguar", "garras de jaguar"), and every
market writes combinations it does not list ("piel de leopardo", "da báo", "kulit python", "dents de requin").
``parts.csv`` holds each language's part words (skin, tooth or tusk, claw, bone, horn, scales, bile, meat or fat,
feathers, eggs, young, fins, shell) and ``animals.csv`` the common names of the traded animals in those languages
(leopardo, báo, tiburón: words too ordinary to count alone, so they are not lexicon terms).  A part word joined to
an animal name (or a species name of the lexicon) only by its language's little words ("de", "d'", "ya", "ng",
"of"; South Asia's genitive words and endings, "बाघ की खाल", "ভালুকের পিত্ত") or by nothing, in the order the
language writes them, is a hit for the animal's group ("part" evidence: "piel+leopardo").  A curated term that
already names the product wins, and a lookalike word anywhere in the listing that the text does not deny (print,
resin, faux, estampado, peluche, fossil, pastry) stops every pair.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from classifier.matching import UNSPACED_SCRIPT, Span, TermMatcher
from classifier.text import normalise

__all__ = ["AnimalName", "PartWord", "PartComposer", "PART_FIRST_LINK", "LOOKALIKE_WORDS", "may_pair", "spaced_species"]

# Between a part and the animal that follows it: Romance "de/da/di/du/des/d'", Swahili "ya/wa/za/cha", Tagalog "ng",
# English "of (the)".  Indonesian, Malay and Vietnamese join them with nothing ("kulit harimau", "da báo"); in the
# other languages two words side by side are something else ("huevos pericos" is a dish, "casco Shark" a helmet).
PART_FIRST_LINK = re.compile(
    r"[\s\-]*(?:de|del|de la|de las|de los|da|do|das|dos|di|della|dello|delle|dei|degli|des|du|de l'|d'|l'|"
    r"ya|wa|za|cha|ng|ng mga|of|of the|of a)(?:\s+|(?<='))[\s\-]*")
UNLINKED_LANGS = frozenset({"id", "ms", "vi"})  # languages that put the part right before the animal
# Between an animal and the part after it (English "pangolin scales", "tiger-bone"): a space or a hyphen only.
SPECIES_FIRST_LINK = re.compile(r"[\s\-]+")
SPECIES_FIRST_LANGS = frozenset({"en"})  # languages that put the animal before the part
# South Asia's languages put the animal first too, joined to its part by a genitive word ("बाघ की खाल", "شیر کی کھال",
# "sher ki khaal", "ਸ਼ੇਰ ਦੀ ਖੱਲ", "बाघ को छाला"), by a genitive ending written onto the name ("বাঘের চামড়া", "बाघको
# छाला", "વાઘની ચામડી", "वाघाची कातडी", "புலியின் தோல்": ``GENITIVE_ENDINGS``) or by nothing, as a compound
# ("हाथी दांत", "ہاتھی دانت", "யானை தந்தம்").
SOUTH_ASIAN_LANGS = frozenset({"hi", "ur", "bn", "ne", "mr", "pa", "gu", "ta", "si"})
GENITIVE_LINK = re.compile(
    r"[\s\-]*(?:(?:का|की|के|कि|کا|کی|کے|دا|دی|دے|ਦਾ|ਦੀ|ਦੇ|ਦੀਆਂ|ਦਿਆਂ|को|ની|નો|ના|નું|चा|ची|चे|च्या|এর|ගේ"
    r"|ka|ki|ke|ko|da|di|de)[\s\-]+)?")
# Endings a name takes in the genitive, written onto it: each animals.csv name of these languages is also found with
# them (বাঘ -> বাঘের, হাতি -> হাতির; वाघ -> वाघाची; புலி -> புலியின்).
GENITIVE_ENDINGS = {
    "bn": ("ের", "র", "এর", "er", "r"),  # and the romanised "bagher", "hatir"
    "ne": ("को", "का", "की"),
    "mr": ("ाची", "ाचा", "ाचे", "ाच्या", "ची", "चा", "चे", "च्या"),
    "gu": ("ની", "નો", "ના", "નું"),
    "ta": ("யின்", "வின்", "இன்"),
    "si": ("ගේ",),
}
# Where a field holds no Latin letter, pairs are looked for only in these scripts (Devanagari to Sinhala, Arabic).
SOUTH_ASIAN_SCRIPT = re.compile("[\u0600-\u06ff\u0900-\u0dff]")
# Words that say the listing is about a picture, a copy, a toy, a fossil or a pastry of the thing: where one stands
# in either field (and the text does not deny it: "no es resina"), no pair counts (``RuleSet.evaluate``).  Curated
# terms and exclusions still say what they say.
LOOKALIKE_WORDS = frozenset("""
print prints printed pattern patterned effect look style design motif texture textured embossed imitation faux fake
synthetic artificial vegan replica replicas toy plush costume sticker decal fabric resin polyresin plastic acrylic
silicone shaped pastry pastries bakery almond hooks fossil fossils fossilized fossilised megalodon
estampado estampada estampa sintética sintetica sintético sintetico imitación imitacion falsa falso réplica
juguete peluche disfraz tela motivo diseño estilo efecto símil simil resina plástico plastico acrílico acrilico
silicona fósil fosil fósiles fosiles panadería panaderia
imprimé imprime synthétique synthetique simili jouet déguisement tissu effet façon facon résine resine plastique
fossile fossiles
stampa stampato stampata finta finto imitazione giocattolo tessuto stile effetto plastica fossili
padrão padrao brinquedo pelúcia pelucia tecido imitação imitacao efeito fóssil
corak sintetis imitasi tiruan palsu mainan boneka kain
giả nhựa vải hóa thạch
प्रिंट प्रिंटेड खिलौना खिलौने प्लास्टिक रेजिन स्टिकर প্রিন্ট প্রিন্টেড খেলনা প্লাস্টিক রেজিন স্টিকার پرنٹ کھلونا کھلونے
پلاسٹک ریزن ਪ੍ਰਿੰਟ ਖਿਡੌਣਾ ਪਲਾਸਟਿਕ પ્રિન્ટ રમકડું પ્લાસ્ટિક பிரிண்ட் பொம்மை பிளாஸ்டிக் khilona khilone
जैसा जैसे जैसी जस्तो সদৃশ মতো মত جیسا جیسے جیسی ਵਰਗਾ ਵਰਗੇ જેવું જેવા போன்ற jaisa jaise jaisi
""".split())


@dataclass(frozen=True)
class PartWord:
    """One parts.csv row: a part word of one language and what it names."""

    term: str  # normalised
    lang: str
    part: str  # "skin", "tooth or tusk", ...
    confidence: float
    source: str = ""
    added: str = ""
    verified: bool = False
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class AnimalName:
    """One animals.csv row: an animal's common name in one language and its lexicon group."""

    term: str  # normalised
    lang: str
    group: str
    source: str = ""
    added: str = ""
    verified: bool = False
    note: str = ""
    line: int = 0
    kind: str = "species"  # read like a lexicon species entry by ``PartComposer.find``


def _latin(term: str) -> bool:
    return all(ch < "\u0250" or "\u1e00" <= ch <= "\u1eff" or ch in " -'" for ch in term)


def _forms(animal: AnimalName) -> list[str]:
    """The name as written, and with each genitive ending of its language that is written in its script."""
    latin = _latin(animal.term)
    return [animal.term, *(animal.term + ending for ending in GENITIVE_ENDINGS.get(animal.lang, ())
                           if _latin(ending) == latin)]


class PartComposer:
    """Finds part words and pairs them with the species hits of the same field."""

    def __init__(self, parts: Iterable[PartWord], animals: Iterable[AnimalName] = ()) -> None:
        self.parts: dict[str, tuple[PartWord, ...]] = {}
        for part in parts:
            self.parts[part.term] = (*self.parts.get(part.term, ()), part)
        self.animals: dict[str, tuple[AnimalName, ...]] = {}
        for animal in animals:
            for form in _forms(animal):
                if animal not in self.animals.get(form, ()):
                    self.animals[form] = (*self.animals.get(form, ()), animal)
        self.lookalikes = frozenset(normalise(w) for w in LOOKALIKE_WORDS)
        self.matcher = TermMatcher([*self.parts, *self.animals, *self.lookalikes])

    def find(self, text: str, species: list[tuple[Span, object]]) -> list[tuple[Span, PartWord, object]]:
        """(the pair's span, the part, the animal's row) for every part word joined to an animal's name.

        ``species``: (span, entry) of the field's species hits in spaced scripts only (a CJK name and its part
        are one word, and the lexicon lists those); the names of ``animals.csv`` are found here.  A part in another
        language than the name pairs only with an English name and only when it is 4+ letters long ("os", "da" are
        other languages' little words).  Lookalike words are the caller's to weigh, for the whole listing (``stops``).
        """
        spans = self.matcher.find(text)
        part_spans = [span for span in spans if span.term in self.parts]
        if not part_spans:
            return []
        species = [*species, *((span, animal) for span in spans for animal in self.animals.get(span.term, ()))]
        out = []
        for part_span in part_spans:
            for species_span, entry in species:
                if species_span.start >= part_span.end:
                    first, second = part_span, species_span
                elif part_span.start >= species_span.end:
                    first, second = species_span, part_span
                else:
                    continue
                if second.start - first.end > 12:
                    continue
                gap = (first.end, second.start)
                for part in self.parts[part_span.term]:
                    south_asian = part.lang in SOUTH_ASIAN_LANGS or entry.lang in SOUTH_ASIAN_LANGS
                    if entry.lang != part.lang and not (entry.lang == "en" and len(part.term) >= 4) and not (
                            part.lang == "en" and south_asian):  # "tiger ki khaal", "hiran ki skin"
                        continue
                    if first is species_span:
                        joined = GENITIVE_LINK.fullmatch(text, *gap) if south_asian else (
                            part.lang in SPECIES_FIRST_LANGS and SPECIES_FIRST_LINK.fullmatch(text, *gap))
                    else:
                        joined = PART_FIRST_LINK.fullmatch(text, *gap) or (
                            part.lang in UNLINKED_LANGS and SPECIES_FIRST_LINK.fullmatch(text, *gap))
                    if joined:
                        out.append((Span(first.start, second.end, text[first.start:second.end]), part, entry))
                        break
        return out

    def stops(self, text: str, negated: Callable[[str, Span], bool] = lambda text, span: False) -> bool:
        """Whether ``text`` holds a lookalike word it does not deny: then no pair of the listing counts, in either
        field ("Bear claw pastries" over "almond bear claws, box of 6")."""
        return any(span.term in self.lookalikes and not negated(text, span) for span in self.matcher.find(text))


def spaced_species(pairs: Iterable[tuple[Span, object]]) -> list[tuple[Span, object]]:
    """The (span, entry) pairs of species names written in a spaced script (Latin, South Asia's)."""
    return [(s, e) for s, e in pairs if e.kind == "species" and not UNSPACED_SCRIPT.search(s.term)]


def may_pair(text: str, latin_words: list) -> bool:
    """Whether a field can hold a pair: it has Latin words or South Asian letters (the only scripts of the tables)."""
    return bool(latin_words) or SOUTH_ASIAN_SCRIPT.search(text) is not None
