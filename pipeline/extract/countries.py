"""Countries: names normalised to ISO 3166 alpha-2 (pycountry, its Chinese translations and an alias
table), lists detected as lists (one per line under a heading; inline enumerations "A, B, C and D",
"甲、乙、丙和丁"), and named country groups recorded as group references."""
from __future__ import annotations

import gettext
import re
from functools import lru_cache

import pycountry
from spacy.language import Language
from spacy.tokens import Doc

from ..paths import CJK as CJK_NAME
from .common import add_span, load_patterns, span_scorer

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


def resolve(name: str) -> str | None:
    name = re.sub(r"\s+", " ", name.strip(" .,;:")).strip()
    table = gazetteer()
    if name in table:
        return table[name]
    lowered = {k.lower(): v for k, v in table.items()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        return None


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
    label = head[bounds[-1] if bounds else 0:].strip(" -–—:：")
    return label[-120:].strip()


@Language.factory("regkb_countries")
def make_countries(nlp: Language, name: str):
    return CountryFinder()


class CountryFinder:
    def __init__(self):
        self.groups = [(row["name"], re.compile(row["regex"])) for row in load_patterns("country_groups")]

    def __call__(self, doc: Doc) -> Doc:
        for group in (MENTIONS, LISTS, GROUPS):
            doc.spans[group] = []
        text = doc.text
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
                    add_span(doc, GROUPS, match.start(), match.end(), label,
                             {"group": f"Country Group {label}" if found else name})
        if doc.user_data.get("kind") == "list":
            self._line_list(doc)
        self._inline_lists(doc, mentions)
        return doc

    def _line_list(self, doc: Doc) -> None:
        """A heading line and one name per line under it."""
        lines = doc.text.split("\n")
        if len(lines) < 4:
            return
        offset = len(lines[0]) + 1
        members = []
        for line in lines[1:]:
            members.append({"name": line.strip(), "iso2": resolve(line), "start": offset, "end": offset + len(line)})
            offset += len(line) + 1
        if sum(1 for m in members if m["iso2"]) >= 3:
            add_span(doc, LISTS, 0, len(doc.text), "LIST",
                     {"label": lines[0].strip(), "members": members, "style": "lines"})

    def _inline_lists(self, doc: Doc, mentions: list[tuple[int, int, str, str]]) -> None:
        text = doc.text
        runs: list[list[tuple[int, int, str, str]]] = []
        for mention in mentions:
            if runs and LIST_GLUE.match(text[runs[-1][-1][1]:mention[0]]) and "\n" not in text[runs[-1][-1][1]:mention[0]]:
                runs[-1].append(mention)
            else:
                runs.append([mention])
        runs = self._chain(text, runs)
        for run in runs:
            if len(run) < 3:
                continue
            start, end = run[0][0], run[-1][1]
            members = [{"name": name, "iso2": iso2, "start": a, "end": b} for a, b, name, iso2 in run]
            add_span(doc, LISTS, start, end, "LIST",
                     {"label": _sentence_before(text, start), "members": members, "style": "inline"})

    @staticmethod
    def _chain(text: str, runs: list[list[tuple[int, int, str, str]]]) -> list[list[tuple[int, int, str, str]]]:
        """One enumeration in clauses: "allies, such as Israel and Singapore; trading partners, such
        as Brazil, India …" — runs within a sentence joined by a semicolon or "such as" are one list."""
        chained: list[list[tuple[int, int, str, str]]] = []
        for run in runs:
            if chained and LIST_CHAIN.match(text[chained[-1][-1][1]:run[0][0]]):
                chained[-1] = chained[-1] + run
            else:
                chained.append(run)
        return chained

    score = staticmethod(span_scorer(LISTS))
