"""What a downloaded listing image is: checked against the limits, decoded, content- and perceptually hashed.

Pure functions of the bytes and the headers, so the crawl, the tests and a replay agree on what is kept
and why something is refused. A refusal carries a short named reason (counted in the crawl's stats as
`wildwatch/images/refused/<reason>` and kept on the listing_images row).
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field, replace

#: Content types a listing picture may have; anything else (an HTML error page, a script) is refused.
ALLOWED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
#: Pillow format name -> the content type and file extension it is stored under.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "GIF": ("image/gif", "gif"),
           "WEBP": ("image/webp", "webp")}
MAX_BYTES = 5 * 1024 * 1024
MAX_PER_LISTING = 5
#: Decompression bombs: a small file that decodes to a huge canvas is refused before it is decoded.
MAX_PIXELS = 40_000_000
MIN_SIDE = 16  # icons, tracking pixels and spacers are not product photos

REASONS = ("http_error", "not_an_image", "bad_content_type", "too_large", "corrupt", "too_small",
           "over_count", "download_error", "robots", "not_http")


@dataclass(frozen=True)
class ImageLimits:
    """The crawl's limits on listing images (Scrapy settings WILDWATCH_IMAGES_*)."""

    max_per_listing: int = MAX_PER_LISTING
    max_bytes: int = MAX_BYTES
    allowed_types: tuple[str, ...] = ALLOWED_TYPES
    max_pixels: int = MAX_PIXELS

    def __post_init__(self):
        if self.max_per_listing < 0 or self.max_bytes < 1:
            raise ValueError(f"image limits must be positive: {self}")


@dataclass(frozen=True)
class CheckedImage:
    """A picture worth keeping: its bytes, their SHA-256, pHash (16 hex digits) and what it is.

    `size` is the byte count, kept when the bytes are let go (`without_body`) once the file is written.
    """

    body: bytes
    sha256: str
    phash: str
    content_type: str
    extension: str
    width: int
    height: int
    size: int

    def without_body(self) -> "CheckedImage":
        """The same picture without its bytes: what a crawl keeps once the file is written under data/images."""
        return replace(self, body=b"")


@dataclass(frozen=True)
class Refusal:
    """Why a download is not kept: `reason` is one of REASONS, `detail` says what was seen."""

    reason: str
    detail: str = field(default="")


def _declared_type(content_type: str | bytes | None) -> str:
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1", "replace")
    return (content_type or "").split(";", 1)[0].strip().lower()


def phash_hex(image) -> str:
    """imagehash's 64-bit DCT perceptual hash of a Pillow image, as 16 hex digits."""
    import imagehash

    return str(imagehash.phash(image.convert("RGB")))


def check_image(body: bytes, content_type: str | bytes | None, limits: ImageLimits = ImageLimits()) -> CheckedImage | Refusal:
    """Decode and hash `body` if it is an allowed picture within the limits, else say why not.

    The declared type must be an allowed image type, and the bytes must decode as an allowed format
    (an HTML page served as image/png is refused as not_an_image, a truncated JPEG as corrupt).
    """
    from PIL import Image, UnidentifiedImageError

    declared = _declared_type(content_type)
    if declared and declared not in limits.allowed_types:
        kind = "not_an_image" if not declared.startswith("image/") else "bad_content_type"
        return Refusal(kind, f"served as {declared}")
    if len(body) > limits.max_bytes:
        return Refusal("too_large", f"{len(body):,} bytes, limit {limits.max_bytes:,}")
    if not body:
        return Refusal("corrupt", "empty body")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as probe:
                fmt = probe.format
                width, height = probe.size
                if width * height > limits.max_pixels:
                    return Refusal("too_large", f"{width}x{height} pixels, limit {limits.max_pixels:,}")
                probe.verify()  # checksums and structure, without decoding every pixel twice
            with Image.open(io.BytesIO(body)) as image:
                image.load()  # a file cut short fails here
                phash = phash_hex(image)
    except (UnidentifiedImageError,) as exc:
        head = body[:64].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"<")):
            return Refusal("not_an_image", f"markup or text served as {declared or 'no type'}")
        return Refusal("corrupt", f"not a readable picture ({exc.__class__.__name__})")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return Refusal("too_large", str(exc)[:200])
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return Refusal("corrupt", f"{exc.__class__.__name__}: {str(exc)[:160]}")
    if fmt not in FORMATS or FORMATS[fmt][0] not in limits.allowed_types:
        return Refusal("bad_content_type", f"format {fmt} is not allowed")
    if min(width, height) < MIN_SIDE:
        return Refusal("too_small", f"{width}x{height} pixels")
    stored_type, extension = FORMATS[fmt]
    return CheckedImage(body=body, sha256=hashlib.sha256(body).hexdigest(), phash=phash,
                        content_type=stored_type, extension=extension, width=width, height=height, size=len(body))
