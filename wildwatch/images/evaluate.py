"""Measures of the image stage on generated pictures: OCR character accuracy, and image links against the demo truth.

Both run on pictures this project draws itself (wildwatch.demo.images), so they show that the pieces work
and where they break (small text, noise, altered copies); they are not evidence of quality on real
marketplace photos. `scripts/eval_images.py` prints them.
"""
from __future__ import annotations

import io
import random
from collections import defaultdict
from dataclasses import dataclass, field

#: Texts sellers stamp on photos, written for this measure (not the demo's truth lines): contacts, prices,
#: product names, in Simplified and Traditional Chinese and English.
PHRASES = {
    "zh": ["加微信 huaxia_2288 看实物", "正品 老料 手镯 包邮", "特价 ¥1680 限量三件", "微信同号 138 0013 9527",
           "犀角杯 私聊 价格面议", "穿山甲片 一斤起批", "象牙雕刻 摆件 出售", "高仿 慎拍 不退不换",
           "扫码关注 店铺上新", "满300减50 全场包邮"],
    "zh-Hant": ["售價 NT$2,400 面交", "玳瑁手鐲 老件 收藏", "加賴 LINE: shop8868", "全新未拆 台北自取",
                "現貨供應 歡迎詢問", "象牙印章 手工雕刻"],
    "en": ["WhatsApp +44 7911 123456", "Genuine pre-ban ivory", "Price $350 free shipping", "DM for wholesale price",
           "Telegram @oldcarvings", "Rhino horn cup antique", "Limited stock 3 left", "Email: sales@curio-trade.com"],
}
SIZES = (18, 22, 26, 32, 40)  # pixels: small captions to big banners on a 400-pixel photo


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions each cost 1)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _squash(text: str) -> str:
    return "".join(text.split())


@dataclass
class OcrAccuracy:
    """Character accuracy, 1 - (edit distance / reference characters), whitespace ignored, by group."""

    samples: int = 0
    errors: dict = field(default_factory=lambda: defaultdict(int))
    characters: dict = field(default_factory=lambda: defaultdict(int))
    worst: list = field(default_factory=list)  # (accuracy, reference, read)

    def add(self, groups: list[str], reference: str, read: str) -> None:
        ref, got = _squash(reference), _squash(read)
        distance = min(edit_distance(ref, got), len(ref))
        for group in ["all", *groups]:
            self.errors[group] += distance
            self.characters[group] += len(ref)
        self.samples += 1
        self.worst.append((1 - distance / max(1, len(ref)), reference, read))

    def accuracy(self, group: str = "all") -> float:
        return 1 - self.errors[group] / max(1, self.characters[group])

    def lines(self) -> list[str]:
        out = [f"OCR character accuracy on {self.samples} generated pictures (Tesseract chi_sim+chi_tra+eng; "
               "synthetic pictures, not real listing photos):"]
        for group in sorted(self.characters, key=lambda g: (g != "all", g)):
            out.append(f"  {group:>14}: {self.accuracy(group):.3f} ({self.characters[group]} characters)")
        out.append("  worst:")
        for accuracy, reference, read in sorted(self.worst)[:5]:
            out.append(f"    {accuracy:.2f}  {reference!r} -> {read!r}")
        return out


def ocr_samples(count: int, seed: int = 7):
    """(picture, reference text, groups) triples: phrases on product photos at several sizes, with noise."""
    from PIL import Image, ImageDraw, ImageFilter

    from wildwatch.demo.images import SIZE, base_photo, cjk_font

    rng = random.Random(seed)
    for index in range(count):
        lang = ("zh", "zh-Hant", "en")[index % 3]
        text = rng.choice(PHRASES[lang])
        size = SIZES[(index // 3) % len(SIZES)]
        noise = ("clean", "jpeg", "blur+jpeg", "grain")[(index // 15) % 4]
        image = base_photo(f"ocr-eval:{seed}:{index}", rng.choice(["crafts", "jewelry", "tea", "pets"])).copy()
        draw = ImageDraw.Draw(image)
        font = cjk_font(size)
        width = draw.textlength(text, font=font)
        if width > SIZE - 20:  # a long phrase at a large size: two lines, as a seller would break it
            cut = len(text) // 2
            lines = [text[:cut], text[cut:]]
        else:
            lines = [text]
        top = rng.randint(10, SIZE - len(lines) * (size + 8) - 20)
        box_width = max(draw.textlength(line, font=font) for line in lines)
        left = rng.randint(6, max(7, int(SIZE - box_width - 16)))
        if rng.random() < 0.6:  # on a label; else straight on the photo
            draw.rectangle((left - 6, top - 4, left + box_width + 6, top + len(lines) * (size + 8)), fill=(245, 245, 240))
            colour = rng.choice(((15, 15, 15), (170, 20, 20), (20, 30, 130)))
        else:
            colour = (255, 255, 255) if sum(image.getpixel((left, top))) < 380 else (0, 0, 0)
        for number, line in enumerate(lines):
            draw.text((left, top + number * (size + 8)), line, font=font, fill=colour)
        if noise == "grain":
            grain = Image.effect_noise(image.size, 24).convert("RGB")
            image = Image.blend(image, grain, 0.12)
        if noise.startswith("blur"):
            image = image.filter(ImageFilter.GaussianBlur(0.8))
        if noise != "clean":
            out = io.BytesIO()
            image.save(out, "JPEG", quality=rng.randint(55, 80))
            image = Image.open(io.BytesIO(out.getvalue()))
            image.load()
        yield image, text, [lang, f"{size}px", noise]


def measure_ocr(count: int = 60, seed: int = 7) -> OcrAccuracy:
    from wildwatch.images.ocr import read_text

    result = OcrAccuracy()
    for image, reference, groups in ocr_samples(count, seed):
        result.add(groups, reference, read_text(image).text)
    return result


def demo_link_truth() -> tuple[dict, set]:
    """Every demo listing's pictures as (sha256, phash, url) refs, and the true listing pairs (images.json)."""
    from PIL import Image

    from wildwatch import config
    from wildwatch.demo.catalog import load_catalog
    from wildwatch.demo.images import demo_photo_groups, demo_picture
    from wildwatch.demo.oldstreet import build_listings
    from wildwatch.images.inspect import check_image

    catalog = load_catalog(config.DEMO_CATALOG)
    oldstreet = build_listings(catalog, 1)
    refs: dict = defaultdict(list)

    def add(shop, listing_id, position, category, url):
        body, content_type = demo_picture(shop, listing_id, position, category)
        checked = check_image(body, content_type)
        refs[(shop, listing_id)].append((checked.sha256, checked.phash, url))

    for item in catalog:
        for position, path in enumerate(item.images, 1):
            add("demo", item.id, position, item.category, path)
    for item in oldstreet:
        add("oldstreet", item.id, 1, item.category, f"/pic/{item.id}")
    truth = set()
    for group in demo_photo_groups([item.id for item in oldstreet]):
        uses = [(use["shop"], use["listing"]) for use in group["uses"]]
        for i, a in enumerate(uses):
            for b in uses[i + 1:]:
                truth.add(tuple(sorted((a, b), key=repr)))
    del Image
    return dict(refs), truth


def link_precision_recall(refs: dict, truth: set, max_distance: int) -> tuple[float, float, int, list]:
    from wildwatch.images.links import image_links

    found = {(link.a, link.b): link for link in image_links(refs, max_distance=max_distance)}
    hits = set(found) & truth
    wrong = [found[key] for key in sorted(set(found) - truth, key=repr)]
    return len(hits) / max(1, len(found)), len(hits) / max(1, len(truth)), len(found), wrong
