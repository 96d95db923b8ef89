"""What regkb puts into pdfminer before it reads a PDF: stream decoders that stop at the inflation budget
(pdfminer decodes every stream whole, with no limit), and each character's text rendering mode
(pdfplumber does not expose it; mode 3 is invisible)."""

from __future__ import annotations

import io
import zlib

from . import limits

# bytes inflated since the document was opened (in this process), and the problem once one is refused
INFLATED: dict = {"bytes": 0, "refused": ""}
_GUARDED = False


class InflateRefused(Exception):
    """A compressed stream would inflate past the budget (raised inside pdfminer, reported by read_pdf)."""


def start_inflate_budget() -> None:
    _install_pdf_guards()
    INFLATED.update(bytes=0, refused="")


def _inflate_room() -> int:
    return max(0, min(limits.MAX_STREAM_BYTES, limits.MAX_INFLATED_BYTES - INFLATED["bytes"]))


def _refuse_inflation() -> None:
    if INFLATED["bytes"] + limits.MAX_STREAM_BYTES <= limits.MAX_INFLATED_BYTES:
        problem = (
            f"a compressed stream inflates to more than {limits.MAX_STREAM_BYTES:,} bytes, the limit for one "
            "stream (a decompression bomb?)"
        )
    else:
        problem = (
            f"its compressed streams inflate to more than {limits.MAX_INFLATED_BYTES:,} bytes in all, the limit "
            "for one document (a decompression bomb?)"
        )
    # kept as well as raised: should pdfminer swallow the exception somewhere, the read still fails
    INFLATED["refused"] = problem
    raise InflateRefused(problem)


def _accept(out: bytes | bytearray) -> bytes:
    INFLATED["bytes"] += len(out)
    return bytes(out)


def _inflate(data: bytes) -> bytes:
    """zlib.decompress for pdfminer, which never stops inflating: this one stops one byte past the budget."""
    room = _inflate_room()
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, room + 1)
    if len(out) > room:
        _refuse_inflation()
    if not inflater.eof:  # what zlib.decompress says of a stream that stops short
        raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return _accept(out)


def _inflate_damaged(data: bytes) -> bytes:
    """pdfminer's decompress_corrupted (what it falls back to when a stream's checksum is wrong: keep what
    inflates) with the budget, and in linear time: it fed one byte at a time and appended to a bytes
    object, quadratic in the output. Fed in chunks; the chunk holding the damage is fed again byte by
    byte from a copy of the state before it."""
    room = _inflate_room()
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    size = 0
    step = 4096  # a chunk inflates to at most about 4 MB, so the budget is checked often enough
    for start in range(0, len(data), step):
        chunk = data[start : start + step]
        before = inflater.copy()
        try:
            out = inflater.decompress(chunk)
        except zlib.error:
            inflater = before
            for offset in range(len(chunk)):
                try:
                    out = inflater.decompress(chunk[offset : offset + 1])
                except zlib.error:
                    if start + offset < len(data) - 3:
                        raise  # as pdfminer's: damage before the checksum is an error
                    return _accept(b"".join(parts))
                size += len(out)
                if size > room:
                    _refuse_inflation()
                parts.append(out)
            continue
        size += len(out)
        if size > room:
            _refuse_inflation()
        parts.append(out)
    return _accept(b"".join(parts))


def _lzw_decode(data: bytes) -> bytes:
    """pdfminer's lzwdecode, stopped at the budget (one LZW code can stand for thousands of bytes)."""
    from pdfminer.lzw import LZWDecoder

    room = _inflate_room()
    parts: list[bytes] = []
    size = 0
    for part in LZWDecoder(io.BytesIO(data)).run():
        size += len(part)
        if size > room:
            _refuse_inflation()
        parts.append(part)
    return _accept(b"".join(parts))


def _run_length_decode(data: bytes) -> bytes:
    """RunLengthDecode (PDF 1.7, 7.4.5) with the budget: pdfminer's rldecode built a list of one Python
    int per output byte (8 bytes each), so 2 MB of runs took 2 GB."""
    room = _inflate_room()
    out = bytearray()
    index = 0
    while index < len(data):
        length = data[index]
        index += 1
        if length == 128:
            break
        if length < 128:
            out += data[index : index + length + 1]
            index += length + 1
        elif index < len(data):
            out += data[index : index + 1] * (257 - length)
            index += 1
        if len(out) > room:
            _refuse_inflation()
    return _accept(out)


def _install_pdf_guards() -> None:
    """Put the budgeted decoders in pdfminer's place (it decodes every stream whole, with no limit) and
    record each character's text rendering mode (pdfplumber does not expose it: mode 3 is invisible)."""
    global _GUARDED
    if _GUARDED:
        return
    import types

    from pdfminer import pdftypes
    from pdfminer.layout import LTChar
    from pdfplumber import page as plumber_page

    capped_zlib = types.SimpleNamespace(
        **{name: getattr(zlib, name) for name in dir(zlib) if not name.startswith("__")}
    )
    capped_zlib.decompress = _inflate
    pdftypes.zlib = capped_zlib
    pdftypes.decompress_corrupted = _inflate_damaged
    pdftypes.lzwdecode = _lzw_decode
    pdftypes.rldecode = _run_length_decode

    device = plumber_page.PDFPageAggregatorWithMarkedContent
    render_string, render_char = device.render_string, device.render_char

    def string_with_mode(self, textstate, *args, **kwargs):
        self.regkb_render_mode = getattr(textstate, "render", 0)
        return render_string(self, textstate, *args, **kwargs)

    def char_with_mode(self, *args, **kwargs):
        advance = render_char(self, *args, **kwargs)
        made = self.cur_item._objs
        if made and isinstance(made[-1], LTChar):
            made[-1].render_mode = getattr(self, "regkb_render_mode", 0)
        return advance

    device.render_string, device.render_char = string_with_mode, char_with_mode
    plumber_page.ALL_ATTRS.add("render_mode")
    _GUARDED = True
