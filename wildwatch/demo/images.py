"""Placeholder product photos: tiny valid PNGs, so image URLs resolve without shipping files."""
from __future__ import annotations

import hashlib
import struct
import zlib

SIZE = 8  # pixels per side


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def placeholder_png(key: str) -> bytes:
    """An 8x8 single-colour PNG whose colour is derived from `key` (stable across runs)."""
    red, green, blue = hashlib.sha256(key.encode("utf-8")).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * SIZE  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(row * SIZE)) + _chunk(b"IEND", b""))
