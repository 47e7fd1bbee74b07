"""The one-sentence reading of a score: why it is an offer, or which of missing trade, mention or lookalike
kept it out (classifier.reading), from records or the dicts the store keeps."""
from __future__ import annotations

from classifier.evidence import Evidence
from classifier.reading import as_evidence, offer_reading

IVORY = Evidence("term", "象牙", "象牙", "ivory", "product", "title", 0.7)


def _signal(family: str, label: str) -> Evidence:
    return Evidence("signal", f"{family}:{label}", label, "*", family, "description", 1.0)


def test_a_flag_names_its_wildlife_evidence_and_its_trade_signals() -> None:
    reading = offer_reading([IVORY, _signal("offer", "price"), _signal("offer", "contact")], True)
    assert reading == "Offer: ivory (象牙), with price, contact."


def test_a_part_beside_an_animal_is_named_as_the_text_writes_it() -> None:
    part = Evidence("part", "piel+leopardo", "piel de leopardo", "big_cats", "product", "title", 0.6)
    reading = offer_reading([part, _signal("offer", "price")], True)
    assert reading == "Offer: big_cats (piel de leopardo), with price."


def test_a_flag_that_also_reads_as_news_says_the_offer_outweighs_it() -> None:
    reading = offer_reading([IVORY, _signal("mention", "enforcement"), _signal("offer", "price"),
                             _signal("offer", "contact")], True)
    assert reading.startswith("Offer: ivory (象牙), with price, contact.")
    assert "Also reads as enforcement news; the offer signals outweigh it." in reading


def test_a_flag_without_any_trade_signal_asks_the_analyst_to_check() -> None:
    assert offer_reading([IVORY], True).endswith("No trade signal: check that it is an offer.")


def test_an_unflagged_mention_says_it_reads_as_one() -> None:
    assert offer_reading([IVORY, _signal("mention", "enforcement")], False) == (
        "Not an offer: ivory (象牙); reads as enforcement news; no trade signal: a species word alone is not an offer.")


def test_an_unflagged_species_word_without_trade_says_so() -> None:
    assert offer_reading([IVORY], False) == "Not an offer: ivory (象牙); no trade signal: a species word alone is not an offer."


def test_lookalikes_and_other_senses_are_named() -> None:
    coast = Evidence("exclusion", "ivory coast", "ivory coast", "ivory", "exclusion", "title", 0.9)
    assert offer_reading([coast], False) == "Not a wildlife offer: the wildlife words are another thing here (ivory coast)."
    resin = Evidence("exclusion", "树脂", "树脂", "*", "exclusion", "title", 0.8)
    assert "lookalike or legal context (树脂)" in offer_reading([IVORY, resin, _signal("offer", "price")], False)


def test_a_description_is_named_by_its_words() -> None:
    described = Evidence("description", "hornbill casque", "red skin+yellow core+block", "hornbill", "coded",
                         "description", 0.45)
    assert offer_reading([described, _signal("offer", "price")], True) == (
        "Offer: hornbill (described: red skin+yellow core+block), with price.")


def test_stored_dicts_read_the_same_and_unknown_shapes_are_skipped() -> None:
    evidence = [IVORY, _signal("offer", "price")]
    stored = [e.to_dict() for e in evidence] + [{"kind": "coded", "term": "广角"}, "text"]
    assert as_evidence(stored) == tuple(evidence)
    assert offer_reading(stored, True) == offer_reading(evidence, True)
    assert offer_reading(None, False) == "Not a wildlife offer: no wildlife term or description."
