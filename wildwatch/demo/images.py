"""The demo shops' listing pictures: product-like photos drawn with Pillow, deterministic, made on request.

Every picture is drawn from a seed (the listing, its position, or the shared photo it reuses), so the
shops serve the same bytes on every run without shipping image files. What the pictures carry is ground
truth in data/demo_marketplace/images.json: some listings show their handle, price or product name only
in a picture (text drawn with the Debian CJK font), and some photos reappear under other listings and
sellers, in both shops, as the same file or resized, recompressed or slightly cropped, so seller networks
can be found by image. Drawing costs a few milliseconds; an LRU cache keeps a night's pictures.
"""
from __future__ import annotations

import hashlib
import io
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from wildwatch import config

TRUTH_FILE = config.DATA_DIR / "demo_marketplace" / "images.json"
SIZE = 400
VARIANTS = ("same", "resized", "recompressed", "cropped")
FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


class FontMissing(RuntimeError):
    """No CJK font: scripts/install_ocr.sh installs fonts-wqy-microhei."""


@lru_cache(maxsize=16)
def cjk_font(size: int):
    """The first CJK font installed, at `size` pixels (Chinese text in the pictures needs one)."""
    from PIL import ImageFont

    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise FontMissing(f"no CJK font found (looked for {', '.join(FONT_PATHS)}); run scripts/install_ocr.sh")


def _rng(key: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big"))


def _colour(rng: random.Random, low: int = 0, high: int = 255) -> tuple[int, int, int]:
    return tuple(rng.randint(low, high) for _ in range(3))  # type: ignore[return-value]


def _product(draw, rng: random.Random, category: str) -> None:
    """A product-like object in the middle: a bangle, carving, box, jar, phone, bag or animal."""
    cx, cy = SIZE // 2 + rng.randint(-80, 80), SIZE // 2 + rng.randint(-60, 70)
    body = _colour(rng, 30, 230)
    shade = tuple(max(0, c - 60) for c in body)
    shape = {"jewelry": "bangle", "crafts": "carving", "antiques": "carving", "art": "carving",
             "phones": "phone", "pets": "animal", "clothing": "bag", "tea": "box", "food": "jar",
             "health": "jar", "beauty": "jar"}.get(category, rng.choice(["box", "carving", "jar", "bangle"]))
    w, h = rng.randint(110, 190), rng.randint(110, 190)
    draw.ellipse((cx - w // 2 - 10, cy + h // 2 - 8, cx + w // 2 + 10, cy + h // 2 + 22), fill=(60, 60, 60))  # shadow
    if shape == "bangle":
        draw.ellipse((cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2), outline=body, width=rng.randint(18, 30))
    elif shape == "carving":
        points = [(cx + int(w / 2 * rng.uniform(0.5, 1.0) * c), cy + int(h / 2 * rng.uniform(0.5, 1.0) * s))
                  for c, s in ((1, 0), (0.7, 0.7), (0, 1), (-0.7, 0.7), (-1, 0), (-0.7, -0.7), (0, -1), (0.7, -0.7))]
        draw.polygon(points, fill=body, outline=shade)
        for _ in range(rng.randint(3, 7)):  # carved grooves
            x, y = cx + rng.randint(-w // 3, w // 3), cy + rng.randint(-h // 3, h // 3)
            draw.arc((x - 20, y - 12, x + 20, y + 12), rng.randint(0, 180), rng.randint(200, 360), fill=shade, width=3)
    elif shape == "phone":
        draw.rounded_rectangle((cx - 55, cy - 100, cx + 55, cy + 100), radius=16, fill=(20, 20, 25), outline=body, width=4)
        draw.rectangle((cx - 45, cy - 85, cx + 45, cy + 80), fill=_colour(rng, 40, 200))
    elif shape == "animal":
        draw.ellipse((cx - w // 2, cy - h // 3, cx + w // 2, cy + h // 3), fill=body)
        draw.ellipse((cx + w // 2 - 30, cy - h // 3 - 40, cx + w // 2 + 30, cy - h // 3 + 20), fill=body)
        draw.ellipse((cx + w // 2 + 5, cy - h // 3 - 20, cx + w // 2 + 13, cy - h // 3 - 12), fill=(0, 0, 0))
    elif shape == "bag":
        draw.polygon([(cx - w // 2, cy + h // 2), (cx + w // 2, cy + h // 2), (cx + w // 3, cy - h // 3),
                      (cx - w // 3, cy - h // 3)], fill=body, outline=shade)
        draw.arc((cx - w // 4, cy - h // 3 - 50, cx + w // 4, cy - h // 3 + 30), 180, 360, fill=shade, width=8)
    elif shape == "jar":
        draw.rounded_rectangle((cx - w // 3, cy - h // 2, cx + w // 3, cy + h // 2), radius=20, fill=body, outline=shade, width=3)
        draw.rectangle((cx - w // 3 - 6, cy - h // 2 - 18, cx + w // 3 + 6, cy - h // 2 + 4), fill=shade)
        draw.rectangle((cx - w // 4, cy - 15, cx + w // 4, cy + 25), fill=_colour(rng, 200, 255))
    else:  # box
        draw.rectangle((cx - w // 2, cy - h // 3, cx + w // 2, cy + h // 2), fill=body, outline=shade, width=3)
        draw.polygon([(cx - w // 2, cy - h // 3), (cx - w // 3, cy - h // 2), (cx + w // 2 + 20, cy - h // 2),
                      (cx + w // 2, cy - h // 3)], fill=shade)


@lru_cache(maxsize=2048)
def base_photo(key: str, category: str):
    """The photo behind `key`: a backdrop (gradient with props) and a product, the same on every call."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = _rng(key)
    top, bottom = _colour(rng, 90, 250), _colour(rng, 20, 200)
    # The backdrop is drawn small and scaled up: out of focus, as behind a product, and cheap to make.
    small = SIZE // 4
    mask = Image.linear_gradient("L").rotate(rng.uniform(0, 360), resample=Image.BILINEAR, expand=False,
                                             fillcolor=rng.choice((0, 255))).resize((small, small))
    image = Image.composite(Image.new("RGB", (small, small), bottom), Image.new("RGB", (small, small), top), mask)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(5, 12)):  # props and clutter in the background
        x, y, r = rng.randint(0, small), rng.randint(0, small), rng.randint(5, 30)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x - r, y - r, x + r, y + r), fill=_colour(rng, 40, 240))
    image = image.filter(ImageFilter.GaussianBlur(1)).resize((SIZE, SIZE), Image.BILINEAR)
    _product(ImageDraw.Draw(image), rng, category)
    return image


def _with_text(image, lines: tuple[str, ...], key: str):
    """Lines of text on a label across the picture, the way sellers stamp contacts and prices on photos."""
    from PIL import ImageDraw

    rng = _rng("text:" + key)
    image = image.copy()
    draw = ImageDraw.Draw(image)
    size = rng.choice((26, 28, 30, 34))
    font = cjk_font(size)
    widths = [draw.textlength(line, font=font) for line in lines]
    height = len(lines) * (size + 10) + 12
    top = rng.choice((14, SIZE - height - 14))
    left = max(8, int((SIZE - max(widths)) / 2) - 12)
    draw.rounded_rectangle((left, top, min(SIZE - 8, left + max(widths) + 24), top + height), radius=10,
                           fill=(250, 250, 245))
    colour = rng.choice(((20, 20, 20), (180, 20, 20), (20, 40, 140)))
    for number, line in enumerate(lines):
        draw.text((left + 12, top + 8 + number * (size + 10)), line, font=font, fill=colour)
    return image


def _encode(image, variant: str) -> tuple[bytes, str]:
    """The picture as a shop would serve it in `variant` (see VARIANTS)."""
    out = io.BytesIO()
    if variant == "same":
        image.save(out, "PNG", compress_level=1)  # fast; the demo serves them on request
        return out.getvalue(), "image/png"
    if variant == "resized":
        image.resize((SIZE * 3 // 4, SIZE * 3 // 4)).save(out, "JPEG", quality=88)
    elif variant == "recompressed":
        image.save(out, "JPEG", quality=55)
    elif variant == "cropped":
        cut = SIZE // 34  # 3% off every side
        image.crop((cut, cut, SIZE - cut, SIZE - cut)).resize((SIZE, SIZE)).save(out, "JPEG", quality=85)
    else:
        raise ValueError(f"unknown picture variant {variant!r}; one of {', '.join(VARIANTS)}")
    return out.getvalue(), "image/jpeg"


@dataclass(frozen=True)
class PictureSpec:
    """What one served picture is: which photo (seed), which text on it, which variant."""

    photo: str
    category: str
    lines: tuple[str, ...] = ()
    variant: str = "same"


@lru_cache(maxsize=1)
def load_truth(path: Path = TRUTH_FILE) -> dict:
    """images.json, checked: a bad entry names the file, the entry and the field."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for index, entry in enumerate(data.get("text_in_image", [])):
        for name in ("shop", "listing", "position", "lines", "carries"):
            if name not in entry:
                raise ValueError(f"{path}: text_in_image #{index}: missing {name!r}")
    for group in data.get("photo_groups", []):
        for use in group.get("uses", []):
            if use.get("variant") not in VARIANTS:
                raise ValueError(f"{path}: photo group {group.get('group')!r}: variant {use.get('variant')!r} "
                                 f"is not one of {', '.join(VARIANTS)}")
    return data


def _is_trader_id(listing_id: str) -> bool:
    """A planted trader's post (wildwatch.demo.traders), not a re-post of a Demo Bazaar catalogue entry."""
    from wildwatch.demo.traders import is_trader_id

    return is_trader_id(listing_id)


def oldstreet_variant(listing_number: int) -> str:
    """Old Street re-posts reuse the Demo Bazaar listing's first photo, in turn as each variant."""
    return VARIANTS[(listing_number // 6) % len(VARIANTS)]


def oldstreet_picture_path(shop_id: str) -> str:
    """The address of an Old Street listing's picture (the extension follows its format)."""
    number = int(shop_id[3:])
    return f"/pic/{shop_id}-1.{'png' if oldstreet_variant(number) == 'same' else 'jpg'}"


def picture_spec(shop: str, listing_id: str, position: int, category: str) -> PictureSpec:
    """Which photo, text and variant `shop` shows as picture `position` (from 1) of `listing_id`."""
    truth = load_truth()
    lines: tuple[str, ...] = ()
    for entry in truth.get("text_in_image", []):
        if (entry["shop"], entry["listing"], entry["position"]) == (shop, listing_id, position):
            lines = tuple(entry["lines"])
    for group in truth.get("photo_groups", []):
        uses = group["uses"]
        for use in uses:
            if (use["shop"], use["listing"], use["position"]) == (shop, listing_id, position):
                first = uses[0]
                return PictureSpec(f"{first['shop']}:{first['listing']}:{first['position']}", category, lines,
                                   use["variant"])
    if shop == "oldstreet" and position == 1 and not _is_trader_id(listing_id):  # traders' posts are their own
        number = int(listing_id[3:])
        return PictureSpec(f"demo:DB-{number:04d}:1", category, lines, oldstreet_variant(number))
    return PictureSpec(f"{shop}:{listing_id}:{position}", category, lines)


@lru_cache(maxsize=4096)
def render(spec: PictureSpec) -> tuple[bytes, str]:
    """The picture's bytes and content type (PNG for the original, JPEG for altered copies)."""
    image = base_photo(spec.photo, spec.category)
    if spec.lines:
        image = _with_text(image, spec.lines, spec.photo)
    return _encode(image, spec.variant)


def demo_picture(shop: str, listing_id: str, position: int, category: str) -> tuple[bytes, str]:
    """What the demo shop `shop` ("demo" or "oldstreet") serves for a listing's picture."""
    return render(picture_spec(shop, listing_id, position, category))


def demo_photo_groups(oldstreet_ids: list[str]) -> list[dict]:
    """Every set of pictures that are one photo: the planted groups plus each Old Street re-post's pair."""
    groups = [dict(g) for g in load_truth().get("photo_groups", [])]
    for shop_id in oldstreet_ids:
        if _is_trader_id(shop_id):  # the planted traders' posts (traders.json) have photos of their own
            continue
        number = int(shop_id[3:])
        groups.append({"group": f"repost-{shop_id}", "uses": [
            {"shop": "demo", "listing": f"DB-{number:04d}", "position": 1, "variant": "same"},
            {"shop": "oldstreet", "listing": shop_id, "position": 1, "variant": oldstreet_variant(number)}]})
    return groups
