"""Bytes → text: byte-order marks, UTF-16 without one, UTF-8 with stray Windows-1252 bytes, and the
best-scoring legacy encoding (charset_normalizer) for the rest."""

from __future__ import annotations

import re

from ..models import DocumentError

BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),  # before UTF-16: FF FE starts both
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# the Unicode blocks of text in a Latin script, as charset_normalizer names them
LATIN_BLOCKS = {
    "Basic Latin",
    "Control character",
    "Latin-1 Supplement",
    "Latin Extended-A",
    "Latin Extended-B",
    "Latin Extended Additional",
    "General Punctuation",
    "Currency Symbols",
    "Letterlike Symbols",
}


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as text: BOMs first, then UTF-16 without a BOM, UTF-8 (with stray Windows-1252
    bytes), then the best-scoring legacy encoding."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DocumentError(name, f"undecodable text: bad {codec} ({exc.reason})") from exc
    try:
        # NUL is never text: a stray one in UTF-8 is dropped; many of them mean UTF-16 or binary
        text = data.decode("utf-8")
        if text.count("\x00") <= 1 + len(text) // 1000:
            return text.replace("\x00", "")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise DocumentError(name, "undecodable text: binary data (NUL bytes) in a text file")
    mixed = _utf8_with_stray_cp1252(data)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        raise DocumentError(name, "undecodable text: not UTF-8 and no other encoding fits")
    if set(best.alphabets) <= LATIN_BLOCKS:
        # charset_normalizer cannot tell the Latin code pages apart on a letter's few accented
        # letters (it read "café" and "naïve" in Latin-1 as cp1250 "café", "naďve"); Windows-1252,
        # a superset of Latin-1's letters, is what such files are written in
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark, or None. The NUL bytes of its ASCII characters (line
    ends, spaces, digits) sit on one side of each pair: odd offsets in little-endian, even in
    big-endian (CJK characters such as 一 U+4E00 put a few on the other side). Binary data has its NULs
    anywhere, and a stray NUL in text is too rare to count."""
    odd = data[1::2].count(0)
    even = data[0::2].count(0)
    if len(data) % 2 or max(odd, even) < max(len(data) // 100, 2) or min(odd, even) > max(odd, even) // 4:
        return None
    try:
        text = data.decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


# bytes that are not UTF-8, as errors="surrogateescape" keeps them; and real non-ASCII characters
ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
DECODED_NON_ASCII = re.compile("[\x80-\udc7f\udd00-\U0010ffff]")


def _utf8_with_stray_cp1252(data: bytes) -> str | None:
    """A UTF-8 file with a few single bytes of Windows-1252 pasted in (a "café" from an old
    editor): UTF-8 with those bytes read as Windows-1252. None unless every undecodable byte is a
    lone byte among text and there is real UTF-8 beside them."""
    text = data.decode("utf-8", errors="surrogateescape")
    runs = ESCAPED_BYTES.findall(text)
    if any(len(run) > 1 for run in runs) or not DECODED_NON_ASCII.search(text):
        return None
    try:
        return ESCAPED_BYTES.sub(lambda m: bytes([ord(m.group(0)) - 0xDC00]).decode("cp1252"), text)
    except UnicodeDecodeError:  # one of the five bytes Windows-1252 leaves undefined
        return None
