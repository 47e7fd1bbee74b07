"""Text in listing pictures, read with Tesseract (chi_sim + chi_tra + eng).

Product photos are small and busy, so each picture is turned grey, scaled up until text is large
enough for Tesseract's models (about 30 pixels a line), and its contrast stretched. Tesseract puts
spaces between Chinese characters; they are taken out again so the classifier's lexicon matches.

Loading the three languages' models is ~0.3 s of CPU per Tesseract process, nearly all of what reading
a product picture costs, so `read_texts` hands several pictures to one process (a list file in; the text
out, a form feed between pictures, checked against the TSV out, which lists every picture it read).
pytesseract finds the binary and checks the languages.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import tempfile
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


def _as_image(picture):
    from PIL import Image

    image = Image.open(io.BytesIO(picture)) if isinstance(picture, (bytes, bytearray)) else picture
    image.load()
    return image


def read_text(picture, languages: str = LANGUAGES, timeout: float = TIMEOUT_SECONDS) -> OcrResult:
    """The text Tesseract reads in `picture` (bytes or a Pillow image); raises OcrUnavailable or OSError."""
    return read_texts([picture], languages, timeout)[0]


def read_texts(pictures: list, languages: str = LANGUAGES, timeout: float = TIMEOUT_SECONDS) -> list[OcrResult]:
    """The text of each picture (bytes or Pillow images), in order, read by one Tesseract process.

    Raises OcrUnavailable, or OSError when Tesseract fails, gives no answer within `timeout` seconds or
    does not account for every picture: the caller then reads the pictures one by one, so that one
    bad picture costs only its own text.
    """
    import pytesseract

    engine = engine_name(languages)
    if not pictures:
        return []
    images = [preprocess(_as_image(picture)) for picture in pictures]
    with tempfile.TemporaryDirectory(prefix="wildwatch-ocr-") as folder:
        paths = []
        for number, image in enumerate(images):
            paths.append(os.path.join(folder, f"{number:05d}.png"))
            image.save(paths[-1], compress_level=1)
        listing = os.path.join(folder, "pictures.txt")
        with open(listing, "w", encoding="utf-8") as out:
            out.write("\n".join(paths) + "\n")
        base = os.path.join(folder, "read")
        command = [pytesseract.pytesseract.tesseract_cmd, listing, base, "-l", languages, "--psm", "3", "txt", "tsv"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False,
                                  env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        except subprocess.TimeoutExpired:
            raise OSError(f"tesseract gave no answer in {timeout:.0f} s") from None
        except OSError as exc:
            raise OSError(f"tesseract could not be run: {exc}") from None
        if done.returncode != 0:
            problem = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise OSError(f"tesseract failed (exit {done.returncode}): {problem[0][:300]}")
        try:
            with open(base + ".txt", encoding="utf-8", errors="replace") as f:
                text = f.read()
            with open(base + ".tsv", encoding="utf-8", errors="replace") as f:
                tsv = f.read()
        except FileNotFoundError as exc:
            raise OSError(f"tesseract wrote no {os.path.basename(exc.filename)}") from None
    return [OcrResult(clean_text(page), engine) for page in page_texts(text, tsv, len(images))]


def page_texts(text: str, tsv: str, pages: int) -> list[str]:
    """The text of pages 1..`pages` from Tesseract's two outputs of one run.

    The text output is each page's text (what reading that picture alone gives) with a form feed between
    pages; the TSV output lists every page it read. Raises OSError unless both account for every page.
    """
    listed = {int(cells[1]) for cells in (row.split("\t") for row in tsv.splitlines()[1:])
              if len(cells) >= 12 and cells[0] == "1" and cells[1].isdigit()}
    if listed != set(range(1, pages + 1)):
        raise OSError(f"tesseract accounted for {len(listed & set(range(1, pages + 1)))} of {pages} pictures")
    pieces = text.split("\f")
    if len(pieces) != pages:
        raise OSError(f"tesseract wrote {len(pieces)} page texts for {pages} pictures")
    return pieces


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
        sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]  # pixels per mark (sum_labels: 2x slower)
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
