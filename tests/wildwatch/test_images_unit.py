"""Listing images without a crawl: checks on real generated pictures, pHash links, real Tesseract, re-scoring."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from wildwatch.demo.images import demo_picture, picture_spec, render
from wildwatch.images.inspect import CheckedImage, ImageLimits, Refusal, check_image
from wildwatch.images.links import ImageLink, image_links, phash_distance


def _jpeg(key: str = "demo:DB-0005:1") -> bytes:
    body, _ = demo_picture("demo", key.split(":")[1], int(key.split(":")[2]), "phones")
    out = io.BytesIO()
    Image.open(io.BytesIO(body)).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_real_picture_is_kept_with_its_hashes_and_size():
    body, content_type = demo_picture("demo", "DB-0005", 1, "phones")
    checked = check_image(body, content_type)
    assert isinstance(checked, CheckedImage)
    assert (checked.content_type, checked.extension, checked.width, checked.height) == ("image/png", "png", 400, 400)
    assert len(checked.sha256) == 64 and len(checked.phash) == 16 and int(checked.phash, 16) >= 0
    assert check_image(body, content_type) == checked  # deterministic: the same bytes, the same record


@pytest.mark.parametrize("body, content_type, reason", [
    (b"<!doctype html><html><body>Not found</body></html>", "image/png", "not_an_image"),
    (b"<html>login</html>", "text/html; charset=utf-8", "not_an_image"),
    (b"GIF89a" + b"\x00" * 40, "image/svg+xml", "bad_content_type"),
    (b"", "image/jpeg", "corrupt"),
])
def test_what_is_not_a_picture_is_refused_with_a_named_reason(body, content_type, reason):
    result = check_image(body, content_type)
    assert isinstance(result, Refusal) and result.reason == reason, result


def test_a_truncated_jpeg_is_corrupt_and_an_oversized_one_too_large():
    whole = _jpeg()
    cut = check_image(whole[: len(whole) // 2], "image/jpeg")
    assert isinstance(cut, Refusal) and cut.reason == "corrupt"
    over = check_image(whole, "image/jpeg", ImageLimits(max_bytes=len(whole) - 1))
    assert isinstance(over, Refusal) and over.reason == "too_large" and f"{len(whole):,} bytes" in over.detail


def test_a_decompression_bomb_and_a_tracking_pixel_are_refused():
    big = io.BytesIO()
    Image.new("L", (9000, 9000)).save(big, "PNG")  # tiny file, 81 million pixels
    bomb = check_image(big.getvalue(), "image/png", ImageLimits(max_pixels=40_000_000))
    assert isinstance(bomb, Refusal) and bomb.reason == "too_large"
    pixel = io.BytesIO()
    Image.new("RGB", (1, 1)).save(pixel, "GIF")
    assert check_image(pixel.getvalue(), "image/gif").reason == "too_small"


def test_altered_copies_of_a_photo_stay_close_and_other_photos_far():
    spec = picture_spec("demo", "DB-0040", 1, "crafts")
    original = check_image(*render(spec))
    copies = {variant: check_image(*render(spec.__class__(spec.photo, spec.category, spec.lines, variant)))
              for variant in ("resized", "recompressed", "cropped")}
    other = check_image(*demo_picture("demo", "DB-0300", 2, "crafts"))
    for variant, copy in copies.items():
        assert copy.sha256 != original.sha256
        assert phash_distance(original.phash, copy.phash) <= 8, variant
    assert phash_distance(original.phash, other.phash) > 12


def test_image_links_pairs_owners_by_photo_with_evidence():
    a = ("s" * 64, "ffff0000ffff0000", "http://shop-a/1.jpg")
    a_copy = ("t" * 64, "ffff0000ffff0003", "http://shop-b/x.jpg")  # 2 bits apart
    unrelated = ("u" * 64, "0123456789abcdef", "http://shop-c/9.jpg")
    links = image_links({"acct-1": [a], "acct-2": [a_copy, unrelated], "acct-3": [unrelated], "acct-4": []})
    pairs = {(link.a, link.b): link for link in links}
    assert set(pairs) == {("acct-1", "acct-2"), ("acct-2", "acct-3")}
    link = pairs[("acct-1", "acct-2")]
    assert isinstance(link, ImageLink) and link.distance == 2 and not link.same_file
    assert link.evidence() == {"kind": "image", "same_file": False, "distance": 2, "a_url": a[2], "b_url": a_copy[2],
                               "a_sha256": a[0], "b_sha256": a_copy[0], "a_phash": a[1], "b_phash": a_copy[1],
                               "shared_pictures": 1}
    assert pairs[("acct-2", "acct-3")].same_file and pairs[("acct-2", "acct-3")].distance == 0
    assert links[0].distance == 0  # closest first
    assert image_links({"acct-1": [a], "acct-2": [a_copy]}, max_distance=1) == []


def test_a_photo_shown_by_too_many_owners_links_nobody():
    logo = ("l" * 64, "aaaaaaaaaaaaaaaa", "http://shop/logo.png")
    owners = {f"acct-{n}": [logo] for n in range(6)}
    assert len(image_links(owners)) == 15
    assert image_links(owners, max_owners=5) == []


def test_image_links_names_a_malformed_phash():
    with pytest.raises(ValueError, match=r"acct-1.*http://x/1.jpg.*malformed pHash 'zz'"):
        image_links({"acct-1": [("s" * 64, "zz", "http://x/1.jpg")]})


def test_image_links_agree_with_an_all_pairs_scan():
    import random

    rng = random.Random(3)
    owners = {n: [(f"{n}-{k}", f"{rng.getrandbits(64):016x}", f"u{n}-{k}") for k in range(3)] for n in range(60)}
    base = owners[0][0][1]
    for n in range(1, 6):  # near copies of one photo
        flipped = int(base, 16) ^ sum(1 << rng.randrange(64) for _ in range(n))
        owners[n].append((f"copy-{n}", f"{flipped:016x}", f"c{n}"))
    expected = set()
    flat = [(n, p) for n, refs in owners.items() for _s, p, _u in refs]
    for i, (n1, p1) in enumerate(flat):
        for n2, p2 in flat[i + 1:]:
            if n1 != n2 and phash_distance(p1, p2) <= 8:
                expected.add(tuple(sorted((n1, n2), key=repr)))
    assert {(link.a, link.b) for link in image_links(owners)} == expected and expected


def test_tesseract_reads_chinese_and_english_in_a_generated_picture():
    from wildwatch.images.ocr import read_text, text_lines_seen

    body, _ = demo_picture("demo", "DB-0142", 1, "crafts")  # images.json: 象牙 老料雕件 / 微信 xy88523
    image = Image.open(io.BytesIO(body))
    assert text_lines_seen(image) >= 2
    result = read_text(body)
    assert "象牙" in result.text and "xy88523" in result.text, result.text
    assert result.engine.startswith("tesseract ") and result.engine.endswith("chi_sim+chi_tra+eng")
    plain = Image.open(io.BytesIO(demo_picture("demo", "DB-0005", 1, "phones")[0]))
    assert text_lines_seen(plain) == 0  # a product shot with no text skips Tesseract


def test_pictures_read_together_give_each_picture_its_own_text():
    """One Tesseract process for several pictures (its language models load once): the texts come back in
    order, a picture without text included, each as reading it alone gives it."""
    from wildwatch.images.ocr import read_text, read_texts

    with_text, _ = demo_picture("demo", "DB-0142", 1, "crafts")  # 象牙 老料雕件 / 微信 xy88523
    plain, _ = demo_picture("demo", "DB-0005", 1, "phones")
    blank = Image.new("L", (40, 40), 255)
    pictures = [blank, with_text, plain, with_text, blank]
    together = [result.text for result in read_texts(pictures)]
    assert len(together) == 5 and together[0] == together[4] == ""
    assert "象牙" in together[1] and "xy88523" in together[1] and together[3] == together[1]
    assert together == [read_text(picture).text for picture in pictures]


def _tsv(*pages: int) -> str:
    """Tesseract's TSV output with a page row for each of `pages` (and no words)."""
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    return header + "".join(f"1\t{page}\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n" for page in pages)


def test_page_texts_split_at_form_feeds():
    from wildwatch.images.ocr import page_texts

    assert page_texts("one\n\f\ftwo\n", _tsv(1, 2, 3), 3) == ["one\n", "", "two\n"]
    assert page_texts("", _tsv(1), 1) == [""]


@pytest.mark.parametrize("text, listed, problem", [
    ("a\fb\fc", (1, 2), "wrote 3 page texts for 2"),  # a text for a picture that is not there
    ("a\fb", (1,), "accounted for 1 of 2"),           # a picture Tesseract did not read
    ("a", (1, 2), "wrote 1 page texts for 2"),
])
def test_texts_that_do_not_match_the_pictures_are_refused(text, listed, problem):
    from wildwatch.images.ocr import page_texts

    with pytest.raises(OSError, match=problem):
        page_texts(text, _tsv(*listed), 2)


def test_when_the_pictures_cannot_be_read_together_each_is_read_alone(monkeypatch):
    """A picture that makes Tesseract fail costs only its own text: the others are read one by one."""
    from wildwatch.images import ocr, stage

    calls = []

    def fake_read_texts(images, languages=ocr.LANGUAGES, timeout=60):
        calls.append(list(images))
        if len(images) > 1 or images[0] == "bad":
            raise OSError("tesseract failed (exit 1): Error in pixReadStream")
        return [ocr.OcrResult(f"text of {images[0]}", "tesseract test")]

    monkeypatch.setattr(ocr, "read_texts", fake_read_texts)
    assert stage.read_pictures(["a", "bad", "c"]) == [
        ("text of a", "tesseract test", None),
        (None, None, "tesseract failed (exit 1): Error in pixReadStream"),
        ("text of c", "tesseract test", None)]
    assert calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


def test_missing_tesseract_language_is_named(monkeypatch):
    from wildwatch.images import ocr

    ocr.engine_name.cache_clear()
    try:
        with pytest.raises(ocr.OcrUnavailable, match="no xyz language data.*install_ocr.sh"):
            ocr.engine_name("eng+xyz")
    finally:
        ocr.engine_name.cache_clear()


def test_words_only_in_a_picture_flag_the_listing_and_name_the_picture(trained_scorer):
    from wildwatch.images.rescore import PictureText, score_with_pictures

    title, description = "桌面小擺件 高12公分", "實物拍攝，詳情看圖。不包郵，運費到付。"  # DB-0142
    assert not trained_scorer.score(title, description, price=1599, currency="HKD").flagged
    picture = PictureText("http://shop/img/DB-0142-1.png", "a" * 64, "象牙老料雕件\n微信 xy88523")
    result = score_with_pictures(trained_scorer, title, description, [picture], price=1599, currency="HKD")
    assert result["flagged"] and result["image_only"]
    from_picture = [e for e in result["evidence"] if e.get("field") == "ocr"]
    assert {e["image_url"] for e in from_picture} == {picture.url}
    assert any(e["term"] == "象牙" and e["group"] == "ivory" for e in from_picture)
    handle = [e for e in from_picture if e["term"] == "offer:handle"]
    assert handle and handle[0]["matched"] == "wechat" and "xy88523" not in str(handle)  # the type, never the value
    assert any(e["rule"] == "image_only" and e["image_sha256"] == "a" * 64 for e in from_picture)


def test_an_innocent_picture_or_a_faux_one_flags_nothing(trained_scorer):
    from wildwatch.images.rescore import PictureText, score_with_pictures

    tea = score_with_pictures(trained_scorer, "正山小种 红茶 200g", "新茶上市",
                              [PictureText("u1", "b" * 64, "正山小种 ¥88 包邮")])
    assert not tea["flagged"] and not tea["image_only"]
    faux = score_with_pictures(trained_scorer, "Bangle, cream colour", "Resin, lightweight.",
                               [PictureText("u2", "c" * 64, "FAUX IVORY resin bangle")])
    assert not faux["image_only"]


def test_a_stored_picture_is_kept_without_its_bytes_and_still_recorded_whole(tmp_path):
    """A crawl keeps each fetched picture for the later listings that show it again; once its file is written
    it keeps only the record (bytes let go), and a later listing's row still has the picture's size."""
    from store.images import save_file

    body, content_type = demo_picture("demo", "DB-0005", 1, "phones")
    checked = check_image(body, content_type)
    assert checked.size == len(body)
    light = checked.without_body()
    assert light.body == b"" and (light.sha256, light.phash, light.size) == (checked.sha256, checked.phash, len(body))
    with pytest.raises(ValueError, match="missing and its bytes were let go"):
        save_file(tmp_path, light)  # never an empty file in place of a picture
    path = save_file(tmp_path, checked)
    assert save_file(tmp_path, light) == path and (tmp_path / path).read_bytes() == body
