"""English words by part of speech: WordNet's lemma index as spaCy ships it (the spacy-lookups-data
package, en_lemma_index: 8,700 verbs, 57,500 nouns, 21,000 adjectives, 3,800 adverbs, base forms,
lower case). Read once per process, in about 20 ms; no spaCy import.

Used to find imperatives (a sentence opening with a verb in its base form: extract.positions), to
mend words a PDF text layer split ("Am erican Chamber of Comm erce": mend_split_words), and so for
the text the positions' cues and the relevance stage match (for_matching)."""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def index() -> dict[str, frozenset[str]]:
    """Part of speech ("verb", "noun", "adj", "adv") → its words."""
    data = json.loads(gzip.decompress((files("spacy_lookups_data") / "data" / "en_lemma_index.json.gz").read_bytes()))
    return {pos: frozenset(words) for pos, words in data.items()}


@lru_cache(maxsize=1)
def words() -> frozenset[str]:
    return frozenset().union(*index().values())


def is_word(token: str) -> bool:
    """A word of the lexicon, or an inflection of one ("associations", "coordinated", "exporting")."""
    low = token.lower()
    known = words()
    if low in known:
        return True
    for ending, back in (("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if low.endswith(ending) and len(low) > len(ending) + 2 and low[: -len(ending)] + back in known:
            return True
    return False


# words the lexicon leaves out (it lists content words) that a split word's piece must not be
FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for and or nor as is it be we us our no not so do go up me my he she his her "
    "its if i you your they them their this that these those with from into than then there here are was were "
    "has have had can may will".split()
)


PIECE = re.compile(r"[A-Za-z]+")


def mend_split_words(text: str) -> str:
    """Join two adjacent letter runs that make one word of the lexicon when one of them is no word on
    its own: "Am erican Chamber of Comm erce" → "American Chamber of Commerce"; "Air Force", "Am
    Cham" stay (both words, or no word when joined)."""
    tokens = text.split(" ")
    out: list[str] = []
    for token in tokens:
        if out and PIECE.fullmatch(out[-1] or "-") and PIECE.fullmatch(token or "-"):
            before = out[-1]
            joined = before + token
            if (
                token[:1].islower()
                and before.lower() not in FUNCTION_WORDS
                and token not in FUNCTION_WORDS
                and is_word(joined)
                and not (is_word(before) and is_word(token))
            ):
                out[-1] = joined
                continue
        out.append(token)
    return " ".join(out)


# the ligatures PDF text layers keep ("eﬀective", "diﬀusion", "ﬂexible"): matched as their letters
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})


@lru_cache(maxsize=8192)
def for_matching(text: str) -> str:
    """Text as cues match it (never as it is quoted): runs of white space as one space, ligatures as
    their letters, words a PDF text layer split mended ("expor t contr ols")."""
    return mend_split_words(re.sub(r"\s+", " ", text or "").strip().translate(LIGATURES))
