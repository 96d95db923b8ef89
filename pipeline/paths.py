"""Plain-string helpers that the parsers and the read side share: section paths and the one
definition of a CJK character. Nothing here imports spaCy (or anything beyond `re`), so the read
side (query, tables, report, cite, the datasette plugin) can use it without loading the parsers."""

from __future__ import annotations

import re

# CJK Unified Ideographs Extension A and the Unified Ideographs (U+3400–U+9FFF), and the CJK
# Compatibility Ideographs (U+F900–U+FAFF). The class body is exported for regexes that need it
# inside a larger character class (a lookbehind, a token pattern).
CJK_CLASS = "\u3400-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{CJK_CLASS}]")


def root_of(section_path: str) -> str:
    """The provision a path belongs to: "§ 740.29(h)(2)" → "§ 740.29", "ECCN 3A090.a.1" → "ECCN 3A090"."""
    if section_path.startswith("§"):
        return re.match(r"§ [\d.]+[a-z]?", section_path).group(0)
    if section_path.startswith("ECCN"):
        return re.match(r"ECCN \w{5}", section_path).group(0)
    if section_path.startswith("Supplement"):
        return re.match(r"Supplement No\. \d+ to Part \d+", section_path).group(0)
    return section_path.split(" > ")[0]
