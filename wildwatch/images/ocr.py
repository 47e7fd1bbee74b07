"""Text in listing pictures, read with Tesseract (chi_sim + chi_tra + eng) through pytesseract.

Product photos are small and busy, so each picture is turned grey, scaled up until text is large
enough for Tesseract's models (about 30 pixels a line), and its contrast stretched. Tesseract puts
spaces between Chinese characters; they are taken out again so the classifier's lexicon matches.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

LANGUAGES = "chi_sim+chi_tra+eng"
MIN_SIDE = 800  # pixels: smaller pictures are scaled up (at most 3x) before reading (30 px text -> 60 px)
TIMEOUT_SECONDS = 60
_CJK = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK_GAP_RE = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")
_SPACES_RE = re.compile(r"[ \t]+")
_WORDY_RE = re.compile(f"[0-9A-Za-z{_CJK}]")


class OcrUnavailable(RuntimeError):
    """Tesseract or one of its language files is missing (scripts/install_ocr.sh installs them)."""


@dataclass(frozen=True)
class OcrResult:
    text: str
    engine: str  # "tesseract 5.3.0 chi_sim+chi_tra+eng"


@lru_cache(maxsize=1)
def engine_name(languages: str = LANGUAGES) -> str:
    """Tesseract's version and the languages used; raises OcrUnavailable naming what is missing."""
    import pytesseract

    try:
        version = pytesseract.get_tesseract_version()
        installed = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise OcrUnavailable(f"tesseract is not installed ({exc}); run scripts/install_ocr.sh") from None
    missing = [lang for lang in languages.split("+") if lang not in installed]
    if missing:
        raise OcrUnavailable(f"Tesseract has no {', '.join(missing)} language data; run scripts/install_ocr.sh")
    return f"tesseract {version} {languages}"


def preprocess(image):
    """Grey, scaled up to MIN_SIDE on the short side (at most 3x), contrast stretched."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        backdrop = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(backdrop, image)
    grey = image.convert("L")
    short = min(grey.size)
    if short < MIN_SIDE:
        factor = min(3.0, MIN_SIDE / short)
        grey = grey.resize((round(grey.width * factor), round(grey.height * factor)), Image.LANCZOS)
    return ImageOps.autocontrast(grey, cutoff=1)


def clean_text(raw: str) -> str:
    """Lines with at least one letter, digit or Chinese character; no spaces between Chinese characters."""
    lines = []
    for line in raw.splitlines():
        line = _SPACES_RE.sub(" ", _CJK_GAP_RE.sub("", line)).strip()
        if line and _WORDY_RE.search(line):
            lines.append(line)
    return "\n".join(lines)


def read_text(picture, languages: str = LANGUAGES, timeout: float = TIMEOUT_SECONDS) -> OcrResult:
    """The text Tesseract reads in `picture` (bytes or a Pillow image); raises OcrUnavailable or OSError."""
    import pytesseract
    from PIL import Image

    engine = engine_name(languages)
    image = Image.open(io.BytesIO(picture)) if isinstance(picture, (bytes, bytearray)) else picture
    image.load()
    try:
        raw = pytesseract.image_to_string(preprocess(image), lang=languages, config="--psm 3", timeout=timeout)
    except RuntimeError as exc:  # pytesseract's timeout
        raise OSError(f"tesseract gave no answer in {timeout:.0f} s ({exc})") from None
    except pytesseract.TesseractError as exc:
        raise OSError(f"tesseract failed: {exc}") from None
    return OcrResult(clean_text(raw), engine)


def text_lines_seen(image, *, contrast: int = 40) -> int:
    """How many rows of character-like marks a picture has: a cheap check before the costly OCR.

    Marks are connected areas clearly darker (or lighter) than their surroundings, the size of a
    character at the sizes sellers stamp on photos (6-80 pixels high at 400 pixels wide), partly filled;
    a row is three or more such marks of similar height on one line. Smooth product shots have none
    and skip Tesseract; textured real photos usually have some and are read anyway, so the check
    only saves time, it does not decide what counts as text.
    """
    import numpy as np
    from PIL import Image
    from scipy import ndimage

    grey = image.convert("L")
    if grey.width > 600:
        grey = grey.resize((600, max(1, round(grey.height * 600 / grey.width))), Image.BILINEAR)
    pixels = np.asarray(grey, dtype=np.int16)
    local = ndimage.uniform_filter(pixels, size=31)
    rows = 0
    for mask in (pixels < local - contrast, pixels > local + contrast):
        labels, count = ndimage.label(mask)
        if not count:
            continue
        sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, count + 1))
        marks = []
        for index, box in enumerate(ndimage.find_objects(labels)):
            if box is None:
                continue
            height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
            if 6 <= height <= 80 and width <= 80 and 0.08 <= sizes[index] / (height * width) <= 0.95:
                marks.append(((box[0].start + box[0].stop) / 2, height, box[1].start))
        marks.sort()
        used = [False] * len(marks)
        for i, (centre, height, _x) in enumerate(marks):
            if used[i]:
                continue
            line = [j for j in range(i, len(marks)) if not used[j] and abs(marks[j][0] - centre) <= height / 2
                    and 0.4 <= marks[j][1] / height <= 2.5]
            if len(line) >= 3:
                rows += 1
                for j in line:
                    used[j] = True
    return rows
