"""Paragraph markers of the CFR outline, (a)(1)(i)(A)(1)(i): what type and ordinal a marker can stand
for ('i' is a letter or a numeral) and the stack of open levels a walk keeps, as eRegs'
regulations-parser does."""

from __future__ import annotations

from dataclasses import dataclass, field

ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
    "xi": 11,
    "xii": 12,
    "xiii": 13,
    "xiv": 14,
    "xv": 15,
    "xvi": 16,
    "xvii": 17,
    "xviii": 18,
    "xix": 19,
    "xx": 20,
    "xxi": 21,
    "xxii": 22,
    "xxiii": 23,
    "xxiv": 24,
    "xxv": 25,
}


def marker_types(marker: str) -> list[tuple[str, int]]:
    """Every (type, ordinal) a paragraph marker can stand for: 'i' is a letter or a numeral."""
    kinds: list[tuple[str, int]] = []
    if marker.isdigit():
        kinds.append(("digit", int(marker)))
    if marker.lower() in ROMAN:
        kinds.append(("roman" if marker.islower() else "ROMAN", ROMAN[marker.lower()]))
    if len(marker) == 1 and marker.isalpha():
        kinds.append(("lower" if marker.islower() else "upper", ord(marker.lower()) - 96))
    elif len(marker) == 2 and marker.isalpha() and marker[0] == marker[1] and marker.islower():
        kinds.append(("lower", 26 + ord(marker[0]) - 96))  # (aa) follows (z)
    return kinds


# the level that conventionally nests under each level in the CFR: (a)(1)(i)(A)(1)(i)
CHILD_TYPE = {"lower": "digit", "digit": "roman", "roman": "upper", "upper": "digit"}


def _resolve_ambiguous(kinds: list[tuple[str, int]], levels: list, next_marker: str | None) -> list[tuple[str, int]]:
    """(i), (v), (x) are letters or numerals. eRegs' rule: a numeral when the next marker is the
    numeral that follows, or when a numeral is what nests under the current level; else a letter."""
    names = {kind for kind, _ in kinds}
    if not {"lower", "roman"} <= names:
        return kinds
    roman = next(k for k in kinds if k[0] == "roman")
    letter = next(k for k in kinds if k[0] == "lower")
    numerals = {v: k for k, v in ROMAN.items()}
    if next_marker == numerals.get(roman[1] + 1):
        return [roman]
    if next_marker == chr(96 + letter[1] + 1):
        return [letter]
    for depth in range(len(levels) - 1, -1, -1):
        kind, ordinal, _ = levels[depth]
        if kind == "roman" and ordinal + 1 == roman[1]:
            return [roman]
        if kind == "lower" and ordinal + 1 == letter[1]:
            # a letter continues unless a numeral nests right here
            if levels and CHILD_TYPE.get(levels[-1][0]) == "roman" and roman[1] == 1:
                return [roman]
            return [letter]
    # no sequence to follow: "(i)" and "(ii)" are numerals, a lone "(v)" or "(x)" a letter
    return [roman] if roman[1] == 1 or len(next(k for k, v in ROMAN.items() if v == roman[1])) > 1 else [letter]


@dataclass
class MarkerStack:
    """Open levels of an outline: [(type, ordinal, label)]. A marker continues the deepest level
    whose next ordinal it is, starts a child level when it is a first marker (a, 1, i, A), and
    otherwise resumes the nearest level of its type (amended text skips with * * *)."""

    levels: list[tuple[str, int, str]] = field(default_factory=list)

    def push(self, marker: str, next_marker: str | None = None) -> None:
        kinds = _resolve_ambiguous(marker_types(marker), self.levels, next_marker)
        if not kinds:
            return
        for depth in range(len(self.levels) - 1, -1, -1):
            level_type, ordinal, _ = self.levels[depth]
            for kind, value in kinds:
                if kind == level_type and value == ordinal + 1:
                    del self.levels[depth:]
                    self.levels.append((kind, value, marker))
                    return
        firsts = [k for k in kinds if k[1] == 1]
        if firsts:
            # 'i' right under a letter level is roman unless it continues the letters (handled above)
            kind = next((k for k in firsts if k[0] in ("roman", "ROMAN")), firsts[0])
            self.levels.append((kind[0], 1, marker))
            return
        for depth in range(len(self.levels) - 1, -1, -1):
            level_type = self.levels[depth][0]
            for kind, value in kinds:
                if kind == level_type:
                    del self.levels[depth:]
                    self.levels.append((kind, value, marker))
                    return
        preferred = kinds[-1] if kinds[0][0] in ("roman", "ROMAN") and len(marker) == 1 else kinds[0]
        if preferred[0] == "lower":
            self.levels.clear()
        self.levels.append((preferred[0], preferred[1], marker))

    def clear(self) -> None:
        self.levels.clear()

    def labels(self) -> list[str]:
        return [label for _, _, label in self.levels]
