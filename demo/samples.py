"""Sample attachments the demo's people can send: a photo of a letter, a voice note, a PDF."""

from __future__ import annotations

import math
import struct
import zlib

__all__ = ["media_type", "sample_document", "sample_photo", "sample_voice"]


def sample_photo(width: int = 150, height: int = 200) -> bytes:
    """A PNG of a letter: a white page with a letterhead and lines of text."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type "none"
        for x in range(width):
            margin = 12 <= x < width - 12
            if y < 26:
                pixel = (30, 80, 140)  # letterhead
            elif margin and y % 12 in (0, 1) and 40 <= y < height - 20 and (x * 7 + y) % 53 > 6:
                pixel = (120, 120, 120)  # a line of text
            else:
                pixel = (250, 250, 245)
            row += bytes(pixel)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def sample_voice(seconds: float = 1.5, rate: int = 8000) -> bytes:
    """A short WAV of rising tones that a browser can play (Telegram's would be Ogg Opus)."""
    samples = bytearray()
    for n in range(int(seconds * rate)):
        tone = 330 + 110 * int(3 * n / (seconds * rate))
        fade = min(1.0, (seconds * rate - n) / 800)
        samples.append(int(128 + 60 * fade * math.sin(2 * math.pi * tone * n / rate)))
    data = bytes(samples)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + b"data" + struct.pack("<I", len(data)) + data


def sample_document() -> bytes:
    """A tiny one-page PDF."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def media_type(data: bytes) -> str:
    """The content type of a stored file, from its first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"RIFF"):
        return "audio/wav"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return "application/octet-stream"
