"""A listing scored with the text read in its pictures as a third field, the pictures named in the evidence.

The classifier reads a title and a description; the OCR text of the listing's pictures is given to it
after the description, so the model and the lexicon see everything the buyer sees. Evidence that only
the pictures produced is marked `field: "ocr"` with the picture's URL and SHA-256; contact handles read
in a picture are offer evidence like handles in the text (type only: the value is personal data); and a
listing that the text alone leaves unflagged but the pictures flag gets an `image_only` entry, so an
analyst sees that the decisive words were only in an image. Such a listing is flagged even when the
model's score of the joined text stays under the threshold, when the pictures name a wildlife group the
text does not (see `_decisive_in_pictures`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifier.handles import extract_handles


@dataclass(frozen=True)
class PictureText:
    """The OCR text of one picture of the listing, and which picture it is."""

    url: str
    sha256: str
    text: str


def _key(evidence) -> tuple:
    return (evidence.rule, evidence.term, evidence.group, evidence.kind)


def score_with_pictures(scorer, title: str, description: str, pictures: Sequence[PictureText], *,
                        price: float | None = None, currency: str | None = None) -> dict:
    """The score dict (as ScorePipeline stores it) of the listing with its pictures' text."""
    read = [p for p in pictures if p.text.strip()]
    ocr_text = "\n".join(p.text for p in read)
    records = [{"title": title, "description": description, "price": price, "currency": currency},
               {"title": title, "description": f"{description}\n\n{ocr_text}" if ocr_text else description,
                "price": price, "currency": currency}]
    # Each picture alone, to know which one carried a term.
    records += [{"title": "", "description": p.text} for p in read]
    text_only, combined, *alone = scorer.score_many(records)
    from_text = {_key(e) for e in text_only.evidence}
    by_picture = [(p, {_key(e) for e in result.evidence}) for p, result in zip(read, alone)]
    evidence = []
    for item in combined.evidence:
        entry = item.to_dict()
        if _key(item) not in from_text:
            source = next((p for p, keys in by_picture if _key(item) in keys), read[0] if read else None)
            if source is not None:
                entry.update(field="ocr", image_url=source.url, image_sha256=source.sha256)
        evidence.append(entry)
    for picture in read:
        for handle in extract_handles(picture.text, field="ocr"):
            evidence.append({"rule": "signal", "term": "offer:handle", "matched": handle.type, "group": "*",
                             "kind": "offer", "field": "ocr", "weight": 0.0, "image_url": picture.url,
                             "image_sha256": picture.sha256})
    image_only = not text_only.flagged and (combined.flagged or _decisive_in_pictures(text_only, combined))
    if image_only:
        source = next((p for p, keys in by_picture if keys - from_text), read[0] if read else None)
        evidence.append({"rule": "image_only", "term": "flagged only by the text in its pictures",
                         "matched": f"{text_only.score:.3f} -> {combined.score:.3f}",
                         "group": combined.species or "*", "kind": "image", "field": "ocr", "weight": 0.0,
                         "image_url": source.url if source else "", "image_sha256": source.sha256 if source else ""})
    result = combined.to_dict()
    result["evidence"] = evidence
    result["flagged"] = bool(combined.flagged or image_only)
    result["text_only_score"] = text_only.score
    result["image_only"] = bool(image_only)
    return result


#: A species or product the pictures name this strongly (lexicon group strength, noisy-or of its hits), where
#: the text names it at most TEXT_WEAK, is the decisive part of the listing moved into a picture.
PICTURE_DECISIVE, TEXT_WEAK = 0.6, 0.3


def _decisive_in_pictures(text_only, combined) -> bool:
    """Whether the pictures name a wildlife group that the text does not (exclusions such as "faux" respected).

    Moving the product's name into a photo is a documented evasion (domain notes: image-only ads), so such
    a listing is flagged for an analyst even when the model's score of the joined text stays under the
    threshold, e.g. because its price looks ordinary; the evidence says why (rule "image_only").
    """
    from classifier.rules import best_group, group_strengths

    group = best_group(combined.evidence)
    if group is None:
        return False
    return group_strengths(combined.evidence).get(group, 0.0) >= PICTURE_DECISIVE \
        and group_strengths(text_only.evidence).get(group, 0.0) <= TEXT_WEAK
