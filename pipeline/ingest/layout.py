"""Layout geometry: characters → lines by baseline (superscripts and subscripts kept as ^x and _x,
lines split at column gutters), columns in reading order, the evidence that a line starts a paragraph,
text set at an angle turned upright. Pure functions on characters (pdfplumber's dicts) and lines: no I/O."""

from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_left, bisect_right, insort
from collections import Counter

from ..models import Line, Page


def mark_page_starts(pages: list[Page]) -> None:
    """The first line of a page starts anew when the last line of the page before stopped short."""
    for before, page in zip(pages, pages[1:]):
        last = next((ln for ln in reversed(before.lines) if ln.kind == "body"), None)
        first = next((ln for ln in page.lines if ln.kind == "body"), None)
        if last is None or first is None:
            continue
        widths = sorted(ln.x1 for ln in before.lines if ln.kind == "body")
        right = widths[int(len(widths) * 0.9)]
        if right - last.x1 > first.first_word_width + (first.size or 10):
            first.after_short = True


def text_angle(char: dict) -> int:
    """The direction the character's text runs in, in whole degrees counter-clockwise (0 for upright
    text, and for text tilted less than 5°, which reads as upright)."""
    matrix = char.get("matrix") or (1, 0, 0, 1, 0, 0)
    a, b = matrix[0], matrix[1]
    if not (a or b):
        return 0
    angle = round(math.degrees(math.atan2(b, a))) % 360
    return 0 if angle <= 5 or angle >= 355 else angle


def into_frame(chars: list[dict], angle: int, bbox: tuple) -> tuple[list[dict], float]:
    """Characters of text running at `angle` turned so that it runs left to right, in a frame whose
    origin is the turned page's corner; also the frame's width (the turned page's)."""
    phi = math.radians(angle)
    cos, sin = math.cos(phi), math.sin(phi)

    def turn(x: float, y: float) -> tuple[float, float]:  # y grows downward, as `top` does
        return x * cos - y * sin, x * sin + y * cos

    corners = [turn(x, y) for x in (bbox[0], bbox[2]) for y in (bbox[1], bbox[3])]
    shift_x = min(p[0] for p in corners)
    shift_y = min(p[1] for p in corners)
    width = max(p[0] for p in corners) - shift_x
    out = []
    for char in chars:
        points = [turn(x, y) for x in (char["x0"], char["x1"]) for y in (char["top"], char["bottom"])]
        xs = [p[0] - shift_x for p in points]
        ys = [p[1] - shift_y for p in points]
        out.append({**char, "x0": min(xs), "x1": max(xs), "top": min(ys), "bottom": max(ys), "size": max(ys) - min(ys)})
    return out, width


def inside_box(char: dict, box: tuple) -> bool:
    x0, top, x1, bottom = box
    mid_x = (char["x0"] + char["x1"]) / 2
    mid_y = (char["top"] + char["bottom"]) / 2
    return x0 <= mid_x <= x1 and top <= mid_y <= bottom


def chars_to_lines(chars: list[dict], number: int, page_width: float) -> tuple[list[Line], set[int]]:
    """Group characters into lines by baseline. Small characters next to a line are its
    superscripts or subscripts, written as ^x and _x; small characters on their own form lines.
    Also returns the ids of the lines set in no one type size (a tenth or more of their characters
    in other sizes), whose size says nothing about where a paragraph starts."""
    if not chars:
        return [], set()
    sizes = Counter(round(c["size"], 1) for c in chars if c["text"].strip())
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    small_limit = 0.8 * body
    big = sorted((c for c in chars if c["size"] >= small_limit), key=lambda c: (c["bottom"], c["x0"]))
    groups: list[list[dict]] = []
    for char in big:
        if groups and abs(char["bottom"] - groups[-1][0]["bottom"]) <= 2.0:
            groups[-1].append(char)
        else:
            groups.append([char])
    homes = [_Home(group) for group in groups]
    leftovers: list[dict] = []
    marks: dict[int, str] = {}
    for char in sorted((c for c in chars if c["size"] < small_limit), key=lambda c: c["x0"]):
        home = _script_home(char, homes)
        if home is None:
            leftovers.append(char)
            continue
        marks[id(char)] = "^" if char["bottom"] < home.median_bottom() - 0.2 * body else "_"
        home.add(char)
    leftovers.sort(key=lambda c: (c["bottom"], c["x0"]))
    for char in leftovers:
        if (
            groups
            and groups[-1]
            and groups[-1][0]["size"] < small_limit
            and abs(char["bottom"] - groups[-1][0]["bottom"]) <= 1.5
        ):
            groups[-1].append(char)
        else:
            groups.append([char])
    pieces = [piece for group in groups for piece in _split_at_gutters(group, body)]
    lines: list[Line] = []
    mixed: set[int] = set()
    for piece in pieces:
        printed = [round(c["size"], 1) for c in piece if c["text"].strip()]
        if not printed:
            continue
        line = line_from_chars(piece, number, marks)
        if printed.count(line.size) < 0.9 * len(printed):
            mixed.add(id(line))
        lines.append(line)
    return lines, mixed


def _split_at_gutters(group: list[dict], body: float) -> list[list[dict]]:
    """Characters on one baseline but across a column gutter belong to different lines. The right
    edge of the piece so far is kept as it grows (taking the maximum over the piece for every
    character made a long line quadratic: 40,000 characters took 143 s)."""
    ordered = sorted(group, key=lambda c: c["x0"])
    pieces = [[ordered[0]]]
    right = ordered[0]["x1"]
    for char in ordered[1:]:
        if char["x0"] - right > 2.5 * body:
            pieces.append([char])
            right = char["x1"]
        else:
            pieces[-1].append(char)
            right = max(right, char["x1"])
    return pieces


class _Home:
    """A line being assembled, with what _script_home asks of it kept up to date as characters join:
    its vertical extent, its characters by left and by right edge, and its baselines in order."""

    def __init__(self, chars: list[dict]):
        self.chars = chars  # the group itself: characters added here are added to it
        self.top = min(c["top"] for c in chars)
        self.bottom = max(c["bottom"] for c in chars)
        by_left = sorted(chars, key=lambda c: c["x0"])
        self.lefts = [c["x0"] for c in by_left]
        self.by_left = by_left
        self.rights = sorted(c["x1"] for c in chars)
        self.bottoms = sorted(c["bottom"] for c in chars)
        self.widest = max(c["x1"] - c["x0"] for c in chars)

    def add(self, char: dict) -> None:
        self.chars.append(char)
        self.top = min(self.top, char["top"])
        self.bottom = max(self.bottom, char["bottom"])
        at = bisect_right(self.lefts, char["x0"])
        self.lefts.insert(at, char["x0"])
        self.by_left.insert(at, char)
        insort(self.rights, char["x1"])
        insort(self.bottoms, char["bottom"])
        self.widest = max(self.widest, char["x1"] - char["x0"])

    def median_bottom(self) -> float:
        """statistics.median of the characters' bottoms."""
        middle = len(self.bottoms) // 2
        if len(self.bottoms) % 2:
            return self.bottoms[middle]
        return (self.bottoms[middle - 1] + self.bottoms[middle]) / 2

    def collides(self, char: dict) -> bool:
        """A character of the line overlaps `char` by more than 0.3 of its width. Only characters whose
        left edge lies within the widest character's width of `char` can, so only those are looked at."""
        width = char["x1"] - char["x0"]
        least = 0.3 * width
        start = bisect_left(self.lefts, char["x0"] + least - self.widest - 1e-6)
        stop = bisect_right(self.lefts, char["x1"] - least + 1e-6)
        for other in self.by_left[start:stop]:
            if min(other["x1"], char["x1"]) - max(other["x0"], char["x0"]) > least:
                return True
        return False

    def touches(self, char: dict) -> bool:
        """A character of the line ends just before `char` begins (scripts follow their base)."""
        index = bisect_left(self.rights, char["x0"] - 3 - 1e-6)
        while index < len(self.rights) and self.rights[index] < char["x0"] + 1 + 1e-6:
            if -1 < char["x0"] - self.rights[index] < 3:
                return True
            index += 1
        return False


def _script_home(char: dict, homes: list[_Home]) -> _Home | None:
    """The line a small character is a superscript/subscript of: its middle lies within the
    line's height, a character of the line is right beside it, and it collides with none."""
    mid = (char["top"] + char["bottom"]) / 2
    for home in homes:
        if not (home.top - 1 <= mid <= home.bottom + 1):
            continue
        if home.collides(char):
            return None
        return home if home.touches(char) else None
    return None


def line_from_chars(group: list[dict], number: int, marks: dict[int, str]) -> Line:
    group.sort(key=lambda c: c["x0"])
    parts: list[str] = []
    previous = None
    current_mark = ""
    first_word_end = None
    for char in group:
        text = char["text"]
        mark = marks.get(id(char), "")
        if previous is not None:
            gap = char["x0"] - previous["x1"]
            if gap > 0.15 * max(previous["size"], 1) and text != " " and previous["text"] != " ":
                parts.append(" ")
                current_mark = ""
        if mark and mark != current_mark:
            parts.append(mark)
        current_mark = mark
        if text == " " or (parts and parts[-1] == " "):
            if first_word_end is None and previous is not None:
                first_word_end = previous["x1"]
        parts.append(text)
        previous = char
    content = re.sub(r"\s+", " ", "".join(parts)).strip()
    sizes = Counter(round(c["size"], 1) for c in group if c["text"].strip())
    bold_chars = sum(1 for c in group if "Bold" in c.get("fontname", "") and c["text"].strip())
    printable = sum(1 for c in group if c["text"].strip()) or 1
    x0 = min(c["x0"] for c in group)
    x1 = max(c["x1"] for c in group)
    return Line(
        text=content,
        page=number,
        x0=x0,
        x1=x1,
        top=min(c["top"] for c in group),
        bottom=max(c["bottom"] for c in group),
        size=sizes.most_common(1)[0][0] if sizes else 0.0,
        bold=bold_chars / printable > 0.6,
        first_word_width=(first_word_end or x1) - x0,
    )


def order_columns(lines: list[Line], page_width: float) -> list[Line]:
    """Two- or three-column pages: find gutters no body line crosses and read column by column.
    Lines that cross every gutter (titles spanning the page) keep their place between bands."""
    body = [line for line in lines if line.kind == "body"]
    if len(body) < 12:
        return lines
    gutters = []
    x = page_width * 0.2
    # every 2 pt across the middle of the page; on pages wider than 3,333 pt (no paper is) at most 1,000 places
    step = max(2.0, page_width * 0.6 / 1000)
    while x < page_width * 0.8:
        crossing = sum(1 for line in body if line.x0 < x < line.x1)
        left = sum(1 for line in body if line.x1 <= x)
        right = sum(1 for line in body if line.x0 >= x)
        if crossing <= len(body) * 0.05 and left >= 5 and right >= 5:
            gutters.append(x)
        x += step
    if not gutters:
        return lines
    # merge neighbouring gutter positions into one cut each
    cuts: list[tuple[float, float]] = []
    for position in gutters:
        if cuts and position - cuts[-1][1] <= 2 * step:
            cuts[-1] = (cuts[-1][0], position)
        else:
            cuts.append((position, position))
    edges = [(a + b) / 2 for a, b in cuts]

    def column_of(line: Line) -> int | None:
        spans = [e for e in edges if line.x0 < e < line.x1]
        if spans:
            return None
        return sum(1 for e in edges if line.x0 >= e)

    ordered: list[Line] = []
    band: list[Line] = []
    for line in sorted(lines, key=lambda line: line.top):
        column = column_of(line)
        if column is None:
            ordered.extend(sorted(band, key=lambda ln: (column_of(ln), ln.top)))
            band = []
            ordered.append(line)
        else:
            band.append(line)
    ordered.extend(sorted(band, key=lambda ln: (column_of(ln), ln.top)))
    for line in ordered:
        line.column = column_of(line) or 0
    return ordered


def mark_blocks(lines: list[Line], mixed_sizes: set[int]) -> None:
    """Layout evidence that a line starts a paragraph: a first-line indent, a larger gap than the
    page's usual line spacing, a change of font size, or a previous line that stopped although the
    next word would fit."""
    body = [line for line in lines if line.kind == "body"]
    if not body:
        return
    by_column: dict[int, list[Line]] = {}
    for line in body:
        by_column.setdefault(line.column, []).append(line)
    for column_lines in by_column.values():
        left = Counter(round(line.x0) for line in column_lines).most_common(1)[0][0]
        right = sorted(line.x1 for line in column_lines)[int(len(column_lines) * 0.9)]
        gaps = [b.top - a.bottom for a, b in zip(column_lines, column_lines[1:]) if b.top > a.top]
        usual_gap = statistics.median(gaps) if gaps else 0.0
        previous: Line | None = None
        for index, line in enumerate(column_lines):
            if previous is None:
                if line.x0 - left >= 8:
                    line.starts_block = True
                previous = line
                continue
            if line.x0 - previous.x0 >= 8:
                line.starts_block = True
            gap = line.top - previous.bottom
            if gap > max(usual_gap * 1.6, usual_gap + 4):
                line.starts_block = True
            # a paragraph keeps its type size: a 9 pt address line and an 8 pt notice are two blocks
            if (
                line.size
                and previous.size
                and abs(line.size - previous.size) >= 1
                and not {id(line), id(previous)} & mixed_sizes
            ):
                line.starts_block = True
            # an indented block quote has its own right edge; a short list has none worth the name
            window = column_lines[max(0, index - 4) : index + 4]
            local_right = max(ln.x1 for ln in window)
            edge = local_right if local_right - left >= 0.6 * (right - left) else right
            room = edge - previous.x1
            # ragged right edges leave up to a word's room; a paragraph's end leaves more
            if room > line.first_word_width + (line.size or 10):
                line.after_short = True
            previous = line
