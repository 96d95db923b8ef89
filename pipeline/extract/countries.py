"""Countries: names normalised to ISO 3166 alpha-2 (pycountry, its Chinese translations and an alias
table), lists detected as lists (one per line under a heading; inline enumerations "A, B, C and D",
"甲、乙、丙和丁"), and named country groups recorded as group references."""

from __future__ import annotations

import gettext
import re
from functools import lru_cache

import pycountry

from .nlp import spacy  # noqa: F401 - first, so that spaCy loads without torch (see nlp)

# isort: split

from spacy.language import Language
from spacy.tokens import Doc

from ..paths import CJK as CJK_NAME
from .common import add_span, load_patterns, span_scorer, text_of

MENTIONS, LISTS, GROUPS = "countries", "country_lists", "country_groups"
# what may join two parts of one enumeration across clauses
LIST_CHAIN = re.compile(r"^(?=[^。.!?\n]{0,40}$)(?=.*(?:[;；]|以及|例如|such as|including)).*$", re.S)
# what may stand between two members of an enumeration
LIST_GLUE = re.compile(r"^\s*(?:,|、|，|;|/)?\s*(?:(?:and|or|as well as)\s+|和|及|与|以及|或)?\s*(?:the\s+)?$")


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, str]:
    """Every name → ISO alpha-2. English names as pycountry gives them (name, common and official
    names), their Simplified Chinese translations, then the alias table (which wins)."""
    names: dict[str, str] = {}
    chinese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                names[value] = country.alpha_2
        translated = chinese.gettext(country.name)
        if translated != country.name:
            names[translated] = country.alpha_2
    for row in load_patterns("country_aliases"):
        names[row["alias"]] = row["iso2"]
    return names


# what an official long name may carry around the country's name: "the", "the Government of",
# "… Special Administrative Region (of China)"
NAME_WRAPPING = re.compile(
    r"^(?:the\s+)?(?:(?:government|regime|territory) of (?:the\s+)?)?|"
    r"\s+(?:Special Administrative Region(?: of (?:the )?(?:People's Republic of )?China)?"
    r"|SAR)$",
    re.I,
)


@lru_cache(maxsize=4096)
def resolve(name: str) -> str | None:
    name = re.sub(r"\s+", " ", name.strip(" .,;:")).strip()
    table = gazetteer()
    for candidate in dict.fromkeys((name, NAME_WRAPPING.sub("", name).strip())):
        if not candidate:
            continue
        if candidate in table:
            return table[candidate]
        lowered = _lowered()
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return None


@lru_cache(maxsize=1)
def _lowered() -> dict[str, str]:
    return {k.lower(): v for k, v in gazetteer().items()}


# an entry of a list given by official long names: "The People's Republic of China, including the
# Hong Kong Special Administrative Region (China)", "Republic of Cuba (Cuba)", "Venezuelan politician
# Nicolás Maduro (Maduro Regime)"
ENTRY_SHORT_FORM = re.compile(r"\((?P<short>[^()]{2,60})\)\s*[;,.]?\s*(?:and|or)?\s*$")
INCLUDING = re.compile(
    r",?\s+(?:including|and including|together with)\s+(?P<parts>.+?)"
    r"(?=\s*\([^()]{2,60}\)\s*[;,.]?\s*(?:and|or)?\s*$|$)"
)
ITEM_MARKER = re.compile(r"^\s*(?:\((?:[a-z]{1,2}|[ivxl]{1,6}|\d{1,3}|[A-Z])\)\s*)+")


def parse_entry(text: str, offset: int = 0) -> list[dict]:
    """The members one list entry names: the entry itself (its short form or its long name), then
    the territories it says it includes, each marked as part of it. An entry naming no country (a
    regime, a person, an organisation) is kept with its text and no ISO code."""
    stripped = text.rstrip()
    lead = len(stripped) - len(stripped.lstrip())
    marker = ITEM_MARKER.match(stripped)
    begin = marker.end() if marker else lead
    body = stripped[begin:].rstrip(" ;,.")
    body = re.sub(r"^(?:and|or)\s+", "", body)
    begin = offset + begin + (len(stripped[begin:].rstrip(" ;,.")) - len(body))
    short = ENTRY_SHORT_FORM.search(body)
    head = body[: short.start()].strip() if short else body
    including = INCLUDING.search(head)
    name = head[: including.start()].strip(" ,") if including else head
    iso2 = (resolve(short.group("short")) if short else None) or resolve(name)
    members = [{"name": body, "iso2": iso2, "start": begin, "end": begin + len(body), "part_of": None}]
    if including:
        parts_text = including.group("parts")
        base = begin + head.index(parts_text)
        for part in re.finditer(r"[^,]+?(?=,\s*|\s+and\s+|$)", parts_text):
            piece = re.sub(r"^(?:and\s+|the\s+)+", "", part.group(0).strip(), flags=re.I)
            code = resolve(piece)
            if code and code != iso2:
                start = base + part.start() + part.group(0).index(piece)
                members.append(
                    {"name": piece, "iso2": code, "start": start, "end": start + len(piece), "part_of": iso2}
                )
    return members


@lru_cache(maxsize=1)
def mention_pattern() -> re.Pattern:
    names = sorted(gazetteer(), key=len, reverse=True)
    english = [re.escape(n) for n in names if not CJK_NAME.search(n)]
    chinese = [re.escape(n) for n in names if CJK_NAME.search(n)]
    return re.compile(r"(?<![\w.])(?:" + "|".join(english) + r")(?![\w])|" + "|".join(chinese))


def _sentence_before(text: str, position: int) -> str:
    """The words introducing an enumeration: back to the sentence start or a dash."""
    head = text[:position]
    # a sentence boundary, but not the period of "No. 5", "U.S." or "e.g."
    bounds = [m.end() for m in re.finditer(r"(?<![Nn]o)(?<!U\.S)(?<!e\.g)(?<!i\.e)[.;:]\s|[。；：\n]", head)]
    label = head[bounds[-1] if bounds else 0 :].strip(" -–—:：")
    return label[-120:].strip()


def item_lists(paragraphs) -> list[dict]:
    """Lists given as (1)(2)(3) items, one entry to a paragraph ("(1) The People's Republic of China,
    including … (China);", "(2) Republic of Cuba (Cuba);"): runs of sibling items each of which is
    just an entry naming a country. The run counts when it has three items or more, or when it is
    amended text whose lead-in is elided ("(a) * * *"). Returns, per list, the index of its first
    item's paragraph, its label and its members with the index of the paragraph each sits in."""
    out: list[dict] = []
    index = 0
    while index < len(paragraphs):
        paragraph = paragraphs[index]
        parent, _, last = paragraph.section_path.rpartition("(")
        if not last or not _is_entry_item(paragraph.text):
            index += 1
            continue
        run = [index]
        following = index + 1
        while following < len(paragraphs):
            candidate = paragraphs[following]
            if candidate.section_path.rpartition("(")[0] != parent or not _is_entry_item(candidate.text):
                break
            run.append(following)
            following += 1
        lead = next((p for p in reversed(paragraphs[:index]) if p.section_path == parent), None)
        lead_text = lead.text.strip() if lead else ""
        # amended text prints only the revised items, the lead-in elided ("(a) * * *"): the items
        # stand for the list; otherwise an enumeration needs three members, as inline ones do
        elided = (lead is None and "(" in parent) or bool(re.search(r"(?:\*\s*){3}$", lead_text))
        if len(run) >= 3 or elided:
            members = []
            for at in run:
                for member in parse_entry(paragraphs[at].text):
                    members.append({**member, "paragraph_index": at})
            label = re.sub(r"^\([^)]{1,5}\)\s*", "", lead_text).strip(" :—*") or parent
            out.append({"paragraph_index": run[0], "label": label[:200], "members": members})
        index = following
    return out


def _is_entry_item(text: str) -> bool:
    """A marked paragraph that is nothing but one list entry: "(1) Republic of Cuba (Cuba);"."""
    stripped = text.strip()
    if not ITEM_MARKER.match(stripped) or len(stripped) > 250:
        return False
    members = parse_entry(stripped)
    body = ITEM_MARKER.sub("", stripped).strip(" ;,.")
    return bool(members[0]["iso2"]) and (bool(ENTRY_SHORT_FORM.search(body + ";")) or resolve(body) is not None)


@Language.factory("regkb_countries")
def make_countries(nlp: Language, name: str):
    return CountryFinder()


class CountryFinder:
    def __init__(self):
        self.groups = [(row["name"], re.compile(row["regex"])) for row in load_patterns("country_groups")]

    def __call__(self, doc: Doc) -> Doc:
        for group in (MENTIONS, LISTS, GROUPS):
            doc.spans[group] = []
        text = text_of(doc)
        mentions = []
        for match in mention_pattern().finditer(text):
            iso2 = resolve(match.group(0))
            if iso2:
                mentions.append((match.start(), match.end(), match.group(0), iso2))
                add_span(doc, MENTIONS, match.start(), match.end(), iso2, {"name": match.group(0), "iso2": iso2})
        for name, pattern in self.groups:
            for match in pattern.finditer(text):
                found = match.groupdict().get("groups")
                labels = re.findall(r"[A-E]:\d", found) if found else [name]
                for label in labels:
                    add_span(
                        doc,
                        GROUPS,
                        match.start(),
                        match.end(),
                        label,
                        {"group": f"Country Group {label}" if found else name},
                    )
        if doc.user_data.get("kind") == "list":
            self._line_list(doc)
        if not self._semicolon_list(doc):
            self._inline_lists(doc, mentions)
        return doc

    def _semicolon_list(self, doc: Doc) -> bool:
        """A list of official long names run together with semicolons: "The People's Republic of
        China, including the Hong Kong Special Administrative Region (China); Republic of Cuba
        (Cuba); …; and Venezuelan politician Nicolás Maduro (Maduro Regime)"."""
        text = text_of(doc)
        intro = re.search(r":\s*", text)
        start = intro.end() if intro and intro.end() < len(text) // 2 else 0
        pieces, offset = [], start
        for piece in re.split(r"(?<=;)", text[start:]):
            pieces.append((piece, offset))
            offset += len(piece)
        if len(pieces) < 3:
            return False
        entries = [(piece, at, parse_entry(piece, at)) for piece, at in pieces if piece.strip()]
        resolved = [e for e in entries if e[2][0]["iso2"]]
        if (
            len(resolved) < 3
            or len(resolved) < 0.6 * len(entries)
            or not all(
                ENTRY_SHORT_FORM.search(piece.rstrip()) or members[0]["iso2"] and resolve(piece.strip(" ;."))
                for piece, _, members in resolved
            )
        ):
            return False
        members = [member for _, _, found in entries for member in found]
        add_span(
            doc,
            LISTS,
            entries[0][2][0]["start"],
            members[-1]["end"] if members else len(text),
            "LIST",
            {
                "label": text[:start].strip(" :") or _sentence_before(text, entries[0][1]),
                "members": members,
                "style": "entries",
            },
        )
        return True

    def _line_list(self, doc: Doc) -> None:
        """A heading line and one name per line under it."""
        lines = text_of(doc).split("\n")
        if len(lines) < 4:
            return
        offset = len(lines[0]) + 1
        members = []
        for line in lines[1:]:
            members.append({"name": line.strip(), "iso2": resolve(line), "start": offset, "end": offset + len(line)})
            offset += len(line) + 1
        if sum(1 for m in members if m["iso2"]) >= 3:
            add_span(
                doc,
                LISTS,
                0,
                len(text_of(doc)),
                "LIST",
                {"label": lines[0].strip(), "members": members, "style": "lines"},
            )

    def _inline_lists(self, doc: Doc, mentions: list[tuple[int, int, str, str]]) -> None:
        text = text_of(doc)
        runs: list[list[tuple[int, int, str, str]]] = []
        for mention in mentions:
            if (
                runs
                and LIST_GLUE.match(text[runs[-1][-1][1] : mention[0]])
                and "\n" not in text[runs[-1][-1][1] : mention[0]]
            ):
                runs[-1].append(mention)
            else:
                runs.append([mention])
        runs = self._chain(text, runs)
        for run in runs:
            if len(run) < 3:
                continue
            start, end = run[0][0], run[-1][1]
            members = [{"name": name, "iso2": iso2, "start": a, "end": b} for a, b, name, iso2 in run]
            add_span(
                doc,
                LISTS,
                start,
                end,
                "LIST",
                {"label": _sentence_before(text, start), "members": members, "style": "inline"},
            )

    @staticmethod
    def _chain(text: str, runs: list[list[tuple[int, int, str, str]]]) -> list[list[tuple[int, int, str, str]]]:
        """One enumeration in clauses: "allies, such as Israel and Singapore; trading partners, such
        as Brazil, India …" — runs within a sentence joined by a semicolon or "such as" are one list."""
        chained: list[list[tuple[int, int, str, str]]] = []
        for run in runs:
            if chained and LIST_CHAIN.match(text[chained[-1][-1][1] : run[0][0]]):
                chained[-1] = chained[-1] + run
            else:
                chained.append(run)
        return chained

    score = staticmethod(span_scorer(LISTS))
