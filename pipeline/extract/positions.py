"""Positions: the sentences of letters, statements and news reports that object to the rule, ask for
a change to it or support it, each with the organisation holding it, a stance and a topic.

Attribution is a document-level walk (a news report names ITI once and keeps quoting it; a heading
"ITIF评估…" hands the following paragraphs to ITIF); stance, topic and in-sentence attribution are
per sentence. Cue tables live in patterns/stances.jsonl, topics.jsonl and orgs.jsonl."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .nlp import spacy  # noqa: F401 - first, so that spaCy loads without torch (see nlp)

# isort: split

from spacy.language import Language
from spacy.tokens import Doc

from ..lexicon import for_matching
from ..lexicon import index as word_index
from ..models import Paragraph
from ..paths import CJK
from .common import add_span, load_patterns, span_scorer, text_of

GROUP = "positions"
STANCE_ORDER = ("request_change", "oppose", "support")
# sentence ends: . ! ? (not after an abbreviation) or 。！？, with any closing quotes; a bullet starts anew
# (a footnote number may follow the full stop: "… U.S. AI companies.10 The U.S. government should …";
# PDF text sets bullets in the Symbol font's private-use points, U+F0B7 and kin)
BULLETS = "●•▪◦‣⁃\uf0b7\uf0a7\uf076\uf0d8\uf0fc"
SENTENCE_END = re.compile(
    rf"(?<=[.!?])[\"”’)]*(?=\s+[\"“‘(]?[A-Z0-9{BULLETS}\u3400-\u9fff])"
    rf"|(?<=[A-Za-z)\"”’][.!?])\d{{1,3}}(?=\s+[A-Z])"
    rf"|(?<=[。！？])[\"”’」]*|(?=[{BULLETS}]\s?)"
)
ABBREVIATION = re.compile(
    r"(?:\b(?:U\.S|e\.g|i\.e|No|Nos|Dr|Mr|Ms|Mrs|Inc|Co|Corp|Sec|Secs|Jan|Feb|Mar|Apr|Jun|Jul|"
    r"Aug|Sep|Sept|Oct|Nov|Dec|St|vs|cf|al|Vol|pp|p|Fed|Reg)|\b[A-Z])\.$"
)
BULLET = re.compile(rf"^[{BULLETS}*–-]\s*")


squash = for_matching  # the text the cues match (lexicon.for_matching), never the text quoted


@dataclass(frozen=True)
class Cues:
    stances: tuple[tuple[str, str, re.Pattern], ...]  # (stance, lang, regex)
    topics: tuple[tuple[str, tuple[re.Pattern, ...]], ...]
    anchors: tuple[re.Pattern, ...]
    appraisals: tuple[tuple[str, re.Pattern], ...]  # (stance, predicate) said of the rule as subject
    appraisal_subjects: tuple[re.Pattern, ...]  # what counts as the rule in a sentence's subject
    orgs: tuple[tuple[str, str], ...]  # (name, short), longest name first
    name_pattern: re.Pattern
    speech_verb: re.Pattern
    speech_prefix: re.Pattern
    not_speaker: tuple[re.Pattern, ...]
    anaphora: re.Pattern
    imperative: dict[str, frozenset[str]]  # not_imperative, finite (see imperative())
    keep: re.Pattern = re.compile(r"(?!)")  # verbs of keeping a rule as it is (kept_as_it_is)
    keep_but: re.Pattern = re.compile(r"(?!)")  # what makes keeping it a change after all
    # a topic whose cues name a subject wider than the rule's ("open-source models", "frontier models":
    # argued for security, openness, safety) is evidence that a sentence is on the rule only with these
    topic_needs: dict[str, re.Pattern] = field(default_factory=dict)
    # cues that put a sentence on a topic's ground without making it the sentence's topic ("China":
    # the adversary of most arguments about the rule, whatever they are about): for the gate only
    gate_cues: dict[str, tuple[re.Pattern, ...]] = field(default_factory=dict)


def _alternation(words: list[str]) -> str:
    parts = []
    for word in sorted(words, key=len, reverse=True):
        escaped = re.escape(word)
        parts.append(escaped if CJK.search(word) else rf"(?<![A-Za-z]){escaped}(?![A-Za-z])")
    return "|".join(parts)


@lru_cache(maxsize=1)
def cues() -> Cues:
    rows = load_patterns("stances")
    stances = tuple((row["stance"], row["lang"], re.compile(row["regex"], re.I)) for row in rows if "regex" in row)
    appraisals = tuple((row["stance"], re.compile(row["appraisal"], re.I)) for row in rows if "appraisal" in row)
    subjects = next((row["appraisal_subject"] for row in rows if "appraisal_subject" in row), [])
    imperative = {row["table"]: frozenset(row["words"]) for row in rows if "table" in row}
    keep = next((row["keep"] for row in rows if "keep" in row), r"(?!)")
    keep_but = next((row["keep_but"] for row in rows if "keep_but" in row), r"(?!)")
    topics, anchors, needs, gate = [], (), {}, {}
    for row in load_patterns("topics"):
        if "anchor" in row:
            anchors = tuple(re.compile(p, re.I) for p in row["anchor"])
        else:
            topics.append((row["topic"], tuple(re.compile(p, re.I) for p in row["cues"])))
            if row.get("gate_cues"):
                gate[row["topic"]] = tuple(re.compile(p, re.I) for p in row["gate_cues"])
            if row.get("evidence_needs"):
                needs[row["topic"]] = re.compile(row["evidence_needs"], re.I)
    orgs: list[tuple[str, str]] = []
    table: dict[str, list[str]] = {}
    for row in load_patterns("orgs"):
        if "short" in row:
            orgs.extend((name, row["short"]) for name in row["names"])
        else:
            table.update(row)
    orgs.sort(key=lambda pair: len(pair[0]), reverse=True)
    return Cues(
        stances=stances,
        topics=tuple(topics),
        anchors=anchors,
        appraisals=appraisals,
        appraisal_subjects=tuple(re.compile(p, re.I) for p in subjects),
        orgs=tuple(orgs),
        name_pattern=re.compile(_alternation([name for name, _ in orgs])),
        speech_verb=re.compile(_alternation(table["speech_verbs"]), re.I),
        speech_prefix=re.compile(rf"(?:{_alternation(table['speech_prefixes'])})\s*$", re.I),
        not_speaker=tuple(re.compile(p, re.I) for p in table["not_speaker"]),
        anaphora=re.compile(_alternation(table["anaphora"]), re.I),
        imperative=imperative,
        topic_needs=needs,
        gate_cues=gate,
        keep=re.compile(keep, re.I),
        keep_but=re.compile(keep_but, re.I),
    )


def is_acronym_of(short: str, name: str) -> bool:
    """ "CNAS" of "Center for a New American Security", "IFP" of "Institute for Progress": the letters
    of the short form are the initials of the name's words, in order, starting with the first word
    ("TEST" is no acronym of "Acme Policy Institute")."""
    letters = [c for c in short.upper() if c.isalpha()]
    initials = [w[0].upper() for w in re.findall(r"[A-Za-z][\w'’&-]*", name)]
    if len(letters) < 2 or not initials or letters[0] != initials[0]:
        return False
    at = 0
    for letter in letters:
        while at < len(initials) and initials[at] != letter:
            at += 1
        if at == len(initials):
            return False
        at += 1
    return True


def short_name(org: str) -> str:
    """ "Information Technology Industry Council (ITI)" → "ITI" (a parenthesis that is the name's
    acronym); "Acme Policy Institute (TEST)" stays as given; a known name → its short form."""
    bracketed = re.search(r"^(.*?)\s*\(([^()]{2,20})\)\s*$", org or "")
    if bracketed and is_acronym_of(bracketed.group(2).strip(), bracketed.group(1)):
        return bracketed.group(2).strip()
    for name, short in cues().orgs:
        if name.lower() == (org or "").strip().lower():
            return short
    return (org or "").strip()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, stripped of surrounding space and a leading bullet."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        if end <= start or ABBREVIATION.search(text[start : match.start()].rstrip()) and text[match.start() - 1] == ".":
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    out = []
    for begin, end in spans:
        piece = text[begin:end]
        lead = len(piece) - len(piece.lstrip())
        bullet = BULLET.match(piece[lead:])
        begin += lead + (bullet.end() if bullet else 0)
        end = begin + len(text[begin:end].rstrip())
        if end - begin >= (4 if CJK.search(text[begin:end]) else 8):
            out.append((begin, end))
    return out


def speaker_in(sentence: str) -> str | None:
    """The organisation a sentence attributes its words to: a name followed closely by a speech verb
    ("ITI said", "奥克斯曼…表示"), or after "according to"; not a name in a frame such as "After SIA …"."""
    c = cues()
    shorts = dict(c.orgs)
    for match in c.name_pattern.finditer(sentence):
        before = sentence[: match.start()]
        if any(p.search(before.strip()) for p in c.not_speaker):
            continue
        if c.speech_prefix.search(before):
            return shorts[match.group(0)]
        after = re.split(r"[,，.。;；:：!?！？“\"]", sentence[match.end() :], maxsplit=1)[0]
        window = after[:40] if CJK.search(after) else after[:60]
        if c.speech_verb.search(window):
            return shorts[match.group(0)]
    return None


DOT_LEADERS = re.compile(r"(?:\.\s?){5,}")


def is_heading(paragraph: Paragraph) -> bool:
    """Headings and titles state a subject, not a position (and hand attribution on). Layout may
    call a short sentence a heading; a sentence's closing punctuation says otherwise."""
    if paragraph.kind == "table" or DOT_LEADERS.search(paragraph.text):
        return True  # a table, or an entry of a table of contents ("Export controls …… 7")
    if re.search(r"[.。!?！？:：][\"”’」)]*$", paragraph.text):
        return False
    return paragraph.kind == "heading" or len(paragraph.text) < (40 if CJK.search(paragraph.text) else 90)


# a letter names the rule it comments on: "the Hospital Price Transparency rule", "the AI Diffusion Rule"
NAMED_RULE = re.compile(
    r"\b(?:the|this|these|proposed|interim final|final)\s+(?:[A-Z][\w.&-]*\s+){1,7}"
    r"(?:[Rr]ules?|[Rr]egulations?|IFR|NPRM)\b"
)


COMMENTS_ON = re.compile(
    r"\b(?:comments?|response|submission|letter|testimony)\b[^.;]{0,80}?"
    r"\b(?:on|to|regarding|concerning|about)\b"
    r"(?P<subject>[^.;]{0,160})",
    re.I,
)
RULE_NOUN = re.compile(r"\b(?:proposed|interim final|final)\s+rule\b|\bNPRM\b|\bIFR\b")


# a sentence that refers back for its subject: "Such controls …", "These restrictions …", "they did not work"
ANAPHOR = re.compile(
    r"\b(?:(?:these|those|such|the same) (?:\w+[- ])?(?:controls|restrictions|rules|measures|regulations|"
    r"policies|requirements|limits|caps|export controls)|they)\b",
    re.I,
)
ANAPHOR_REACH = 60  # characters from the sentence's start within which the anaphor must stand


LEAD_IN = 80  # characters: a shorter sentence ending in a colon introduces a list
OPENING_CHARS = 300  # where a paragraph says what it comments on ("comments to state legislatures on
# proposed AI regulation" deep in a body paragraph is an aside)


def comments_on_a_rule(text: str) -> bool:
    """A letter's opening saying what it comments on: "Comments of … on the Hospital Price
    Transparency rule" (not "Comments to OSTP RFI on an AI Action Plan": a request for information)."""
    return any(
        NAMED_RULE.search(m.group("subject")) or RULE_NOUN.search(m.group("subject"))
        for m in COMMENTS_ON.finditer(text[:OPENING_CHARS])
    )


def about_the_rule(text: str) -> bool:
    text = squash(text)
    return bool(NAMED_RULE.search(text)) or any(p.search(text) for p in cues().anchors)


def attribution(paragraphs: list[Paragraph], doc_type: str, author_org: str, title: str) -> list[dict]:
    """Per paragraph: who speaks in it (the author of a letter; the organisation a news report is
    quoting, carried forward until another is named) and whether its context is about the rule."""
    author = short_name(author_org)
    reported = doc_type in ("news", "analysis")
    speakers: list[str | None] = []
    current: str | None = None
    # how a report hands a paragraph to its speaker: "heading" (a section that is the organisation's
    # own text), "named" (the paragraph names it), "quoted" (a quotation following its naming) or
    # "narration" (the reporter's own words after someone was named: not the speaker's position)
    handover: list[str] = []
    off_subject: list[bool] = []
    current_kind, current_off = "", False
    for paragraph in paragraphs:
        if reported:
            named = next(
                (s for s in map(speaker_in, (paragraph.text[a:b] for a, b in sentence_spans(paragraph.text))) if s),
                None,
            )
            kind = "named" if named else ""
            if is_heading(paragraph):
                found = cues().name_pattern.search(paragraph.text)
                named = named or (dict(cues().orgs)[found.group(0)] if found else None)
                kind = "heading" if named else ""
            if named:
                # naming the organisation whose section this is does not end its section
                current_kind = "heading" if named == current and current_kind == "heading" else kind
                current = named
                current_off = responds_to_other_subject(paragraph.text)
            elif current_kind in ("named", "quoted"):
                current_kind = (
                    "quoted"
                    if QUOTE_OPEN.match(paragraph.text) or cues().anaphora.search(paragraph.text)
                    else ("quoted" if is_heading(paragraph) else "narration")
                )
            handover.append(current_kind)
            off_subject.append(current_off)
        else:
            handover.append("author")
            off_subject.append(False)
        speakers.append(current if reported else author)
    # a report's opening lines, before anyone is named, speak for the first organisation it names
    first = next((s for s in speakers if s), None)
    speakers = [s or first for s in speakers]
    title_relevant = about_the_rule(title)
    # a comment letter says in its opening lines which rule it comments on
    opening_relevant = doc_type == "comment" and any(comments_on_a_rule(p.text) for p in paragraphs[:4])
    headings: dict[str, bool] = {}
    out = []
    for paragraph, speaker, kind, off in zip(paragraphs, speakers, handover, off_subject):
        heading = paragraph.section_path.split(" > ")[0]
        if heading not in headings:
            headings[heading] = about_the_rule(heading)
        out.append(
            {
                "speaker": speaker or "",
                "doc_type": doc_type,
                "heading_like": is_heading(paragraph),
                "handover": kind,
                "off_subject": off,
                "section_relevant": opening_relevant or headings[heading] and whole_heading(heading),
                # the whole document is on the rule (its title, or a comment's opening, names it)
                "document_relevant": title_relevant or opening_relevant,
                "rule_context": not off
                and (title_relevant or opening_relevant or headings[heading] or about_the_rule(paragraph.text)),
            }
        )
    return out


THIRD_PARTY = re.compile(
    r"^(?:As\s+[^,]{2,60}?\s+(?:stated|said|noted|argued|wrote|observed|put it)\b"
    r"|(?:It|The (?:report|study|paper|analysis|authors?)|[A-Z][a-z]+)\s+"
    r"(?:concluded|concludes|suggests|suggested|found|finds|observed|observes)\b)"
)
CITATION_NOTE = re.compile(r"https?://|\bwww\.\w|\bdoi\.org/|\bdoi:\s*10\.", re.I)
QUOTE_OPEN = re.compile(r"^\s*[“\"「『‘]")
QUOTE_MARK = re.compile(r"[“”\"「」『』]")
# "…就拜登政府…启动301调查做出了如下回应" / "responded to the Section 301 investigation": what a quoted
# statement answers. When that subject is not the rule, the statement is no position on the rule.
RESPONDS_TO = re.compile(
    r"就(?P<zh>.{2,80}?)(?:做出|作出|发表)了?(?:如下)?(?:回应|评论|声明|表态)"
    r"|(?:respond(?:ed|ing|s)? to|in response to|(?:a )?statement on|commented on)"
    r"\s+(?P<en>[^.;:]{3,120})",
    re.I,
)


FRAGMENT_END = re.compile(r"\b(?:with|and|or|of|the|to|for|a|an|in|on|that|by|from|as|at)$|[,;:(–-]$", re.I)


def whole_heading(text: str) -> bool:
    """A section heading proper ("Export Controls", "Recommendation 6: Improve export controls …"), not
    a line of a sentence that layout left as one ("… open a new, deliberative rulemaking process with")."""
    text = text.strip()
    return 0 < len(text) <= 100 and text[0].isupper() and not FRAGMENT_END.search(text)


def responds_to_other_subject(text: str) -> bool:
    match = RESPONDS_TO.search(text)
    if not match:
        return False
    return not about_the_rule(match.group("zh") or match.group("en"))


def _stance_hits(clause: str, rules: list[tuple[str, re.Pattern]]) -> dict[str, str]:
    hits: dict[str, str] = {}
    for stance, pattern in rules:
        if stance in STANCE_ORDER:
            match = pattern.search(clause)
            if match:
                negated = any(s == "negates" and p.search(clause[: match.start()]) for s, p in rules)
                hits.setdefault("oppose" if stance == "support" and negated else stance, match.group(0))
    return hits


def lexicon() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """English verbs in their base form, nouns and adjectives (pipeline.lexicon: WordNet's index)."""
    index = word_index()
    return index["verb"], index["noun"], index["adj"]


# a sentence's opening word, after a list marker ("3.", "b)", "2:"), or after a label and a dash or
# colon ("Export Controls – Support …", "Recommendation 3: Expand …")
MARKER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+\.?\s+|(?:\d{1,2}|[A-Za-z]|[ivxIVX]{1,4})[.):]\s*)?")  # "3.1 ", "b)"
LABEL = re.compile(r"^[A-Z][\w&,’' -]{1,48}?\s?[–—:]\s+")
OPENING = re.compile(r"(?P<word>[A-Z][a-z]{2,})\b(?P<rest>[^.;:!?–—]*)")
WORDS = re.compile(r"[A-Za-z][\w'’-]*")
FULL_STOP = re.compile(r"(?<!\.)[.!?][\"”’)]*\s*$")


def imperative(sentence: str) -> str | None:
    """The verb an English sentence opens with when it is an imperative ("Refine export control rules
    to …", "3. Expand export controls", "Export Controls – Support balanced export controls …"): a
    verb in its base form (the lexicon), not one of the words that open statements ("See", "Let",
    auxiliaries), and, when the word is a noun too ("Export", "Support", "Control"), not followed
    within four words by a finite verb that would make it the subject ("Export controls are …",
    "Research showed …")."""
    text = sentence[MARKER.match(sentence).end() :]
    label = LABEL.match(text)
    for start in ([label.end()] if label else []) + [0]:
        match = OPENING.match(text, start)
        if match and _imperative_verb(match.group("word"), match.group("rest"), bool(FULL_STOP.search(sentence))):
            return match.group("word")
    return None


def _compound_subject(sentence: str, verb: str) -> bool:
    """Whether the word read as an imperative heads a compound noun instead ("Export controls harm …",
    "Control measures …"): the word after it is a plural noun."""
    after = squash(sentence).split(verb, 1)[-1].split()
    following = re.sub(r"\W+$", "", after[0]).lower() if after else ""
    return following.endswith("s") and following[:-1] in lexicon()[1]


def _imperative_verb(word: str, rest: str, sentence_end: bool) -> bool:
    verbs, nouns, adjectives = lexicon()
    table = cues().imperative
    low = word.lower()
    if low not in verbs or low in table["not_imperative"]:
        return False
    following = [w.lower() for w in WORDS.findall(rest)[:4]]
    finite = table["finite"]
    if following and following[0] in finite:
        return False  # "Support is broad", "Control will …"
    if low not in nouns:
        return True
    # a noun too: a title ("Export controls on AI advanced chips") is no sentence; nor is a subject
    # followed by its verb ("Export controls are …", "Research showed …")
    past = lambda w: w.endswith("ed") and w not in nouns and w not in adjectives  # noqa: E731
    return sentence_end and not any(w in finite or past(w) for w in following)


def stance_of(sentence: str, lang: str, imperatives: bool = True) -> tuple[str, str] | None:
    """(stance, cue text) of a sentence, or None when it takes no side; imperatives: whether an
    imperative the cue table does not list counts (see imperative())."""
    sentence = squash(sentence)  # text from PDFs spaces words unevenly ("can  mitigate")
    rules = [(s, p) for s, language, p in cues().stances if language == lang or (lang == "zh" and language == "en")]
    if any(s == "courtesy" and p.search(sentence) for s, p in rules):
        return None
    hits = _stance_hits(sentence, rules)
    for stance, pattern in rules:  # after "but", the clause that follows decides, if it takes a side
        found = list(pattern.finditer(sentence)) if stance == "contrast" else []
        if found and found[-1].end() < len(sentence) - 8:
            hits = _stance_hits(sentence[found[-1].end() :], rules) or hits
    for stance, pattern in rules:  # "… should recognize that X would cede American leadership": X's verdict
        found = pattern.search(sentence) if stance == "recognition" else None
        if found:
            verdict = {k: v for k, v in _stance_hits(sentence[found.end() :], rules).items() if k != "request_change"}
            if verdict:
                hits = verdict
    verb = imperative(sentence) if lang == "en" and imperatives else None
    if verb and "oppose" in hits and "request_change" not in hits and not _compound_subject(sentence, verb):
        # a recommendation ("Implement strict export controls … to prevent adversarial access", "Streamline
        # export control policies … while avoiding blanket restrictions") whatever the words it gives as reasons
        return kept_as_it_is(sentence, "request_change", verb)
    for stance in STANCE_ORDER:
        if stance in hits:
            return kept_as_it_is(sentence, stance, hits[stance]) if lang == "en" else (stance, hits[stance])
    if verb:
        return kept_as_it_is(sentence, "request_change", verb)  # "Expand export controls to …": a recommendation
    return appraisal(sentence) if lang == "en" else None


KEEP_REACH = 60  # characters after a verb of keeping ("maintain", "continue to enforce") that are read
KEEP_OBJECT = 25  # and how far into them the rule it keeps must begin


def kept_as_it_is(sentence: str, stance: str, cue: str) -> tuple[str, str]:
    """A request to keep the rule as it is ("The U.S. government should maintain targeted export
    restrictions", "the United States must continue to implement and enforce robust export controls",
    "Maintain export controls, which are vital …") supports it: the request's verb is one of keeping
    (patterns/stances.jsonl "keep"), the rule (an appraisal subject) its object close after it."""
    if stance != "request_change":
        return stance, cue
    text = squash(sentence)
    for verb in cues().keep.finditer(text):
        rest = text[verb.end() : verb.end() + KEEP_REACH]
        if cues().keep_but.search(text[verb.end() :]):
            continue  # "Maintain and Strengthen the Framework", "maintaining … framework, but with modifications"
        if any((found := p.search(rest)) and found.start() <= KEEP_OBJECT for p in cues().appraisal_subjects):
            return "support", verb.group(0)
    return stance, cue


# a phrase put before the main clause, closed by a comma: "Despite its meager budget, ", "In practice, "
FRONTED = re.compile(
    r"^(?:Despite|In spite of|Although|Though|Even though|While|Whereas|Because|Since|Given|"
    r"In practice|In fact|Unfortunately|Ultimately|Today|Currently|At present|As (?:a result|such))"
    r"\b[^,;:.]{0,80},\s+"
)
SUBJECT_REACH = 60  # characters from the sentence's start (after a list marker) to the rule as its subject
PREDICATE_REACH = 90  # characters from the subject's end to the predicate, in the same clause


def negations() -> list[re.Pattern]:
    """The English "negates" cues (patterns/stances.jsonl): what turns a verdict of support round."""
    return [p for s, language, p in cues().stances if s == "negates" and language == "en"]


def appraisal(sentence: str) -> tuple[str, str] | None:
    """(stance, predicate) when the sentence says what the rule is or does (patterns/stances.jsonl,
    "appraisal"): "Export controls are an essential tool …" (support), "Current U.S. export controls
    focus on …, but this strategy has shortcomings" (oppose). The rule must be its subject: named among
    its first words, the predicate following in the same clause."""
    text = squash(sentence)
    opening = MARKER.sub("", text, count=1)
    offset = len(text) - len(opening)
    subjects = [m for p in cues().appraisal_subjects for m in p.finditer(opening) if m.start() <= SUBJECT_REACH]
    fronted = FRONTED.match(opening)
    if not subjects and fronted:
        # after a fronted phrase ("Despite its meager budget, BIS's export controls are the main obstacle …")
        # the main clause's subject opens the rest
        offset, opening = offset + fronted.end(), opening[fronted.end() :]
        subjects = [m for p in cues().appraisal_subjects for m in p.finditer(opening) if m.start() <= SUBJECT_REACH]
    if not subjects:
        return None
    subject = min(subjects, key=lambda m: m.start())
    clause_end = re.search(r"[;:]|(?<!\w\.\w)\.(?:\s|$)", opening[subject.end() :])
    rest = opening[subject.end() : subject.end() + (clause_end.start() if clause_end else len(opening))]
    for stance, predicate in cues().appraisals:
        found = predicate.search(rest)
        # far from its subject only after a contrast ("…, but this strategy has shortcomings")
        if found and (found.start() <= PREDICATE_REACH or re.search(r"\b(?:but|however)\b", rest[: found.start()])):
            start = offset + subject.end() + found.start()
            if stance == "support" and any(p.search(rest[: found.start()]) for p in negations()):
                stance = "oppose"  # "export controls alone won't work", "are not effective"
            return stance, text[start : start + len(found.group(0))]
    return None


def topic_of(text: str, evidence: bool = False, gate: bool = False) -> str | None:
    """The topic with most cue hits; on a tie, the one named first in the sentence (its subject).
    evidence: only a topic that shows the text is on the rule (its "evidence_needs" met, if it has one);
    gate: whether the text is on a topic's ground at all (its "gate_cues" count too)."""
    text = squash(text)
    best: tuple[int, int, str] | None = None
    needs = cues().topic_needs if evidence else {}
    ground = cues().gate_cues if gate else {}
    for topic, patterns in cues().topics:
        if topic in needs and not needs[topic].search(text):
            continue
        patterns = patterns + ground.get(topic, ())
        starts = [m.start() for p in patterns for m in p.finditer(text)]
        if starts and (best is None or (len(starts), -min(starts)) > best[:2]):
            best = (len(starts), -min(starts), topic)
    return best[2] if best else None


@Language.factory("regkb_positions")
def make_positions(nlp: Language, name: str):
    return PositionFinder()


class PositionFinder:
    """Sets doc.spans["positions"]; needs the paragraph's attribution in doc.user_data."""

    def __call__(self, doc: Doc) -> Doc:
        info = doc.user_data
        if info.get("doc_type", "rule") == "rule" or not info.get("speaker") or info.get("off_subject"):
            return doc
        spans = sentence_spans(text_of(doc))
        taken_until = -1
        for index, (start, end) in enumerate(spans):
            if start < taken_until:
                continue  # joined to the position before it
            sentence = text_of(doc)[start:end]
            lang = "zh" if CJK.search(sentence) else "en"
            # a heading that opens with a verb ("Limit Adversary Access …") states its section's subject
            # unless the cue table lists the verb as a recommendation's
            found = stance_of(sentence, lang, imperatives=not info.get("heading_like"))
            if not found or not (info.get("rule_context") or about_the_rule(sentence)):
                continue
            if sentence.rstrip().endswith((":", "：")) and len(sentence) < LEAD_IN:
                continue  # a list's lead-in ("The EO should:", "Specifically, the NRC must:"): its items argue
            if THIRD_PARTY.search(sentence):
                continue  # what another source said or found ("As X stated, …", "It concluded that …")
            if CITATION_NOTE.search(sentence):
                continue  # a reference to a source ("John Villasenor, “…,” Brookings, https://…") argues nothing
            opens_with_request = found[0] == "request_change" and 0 <= squash(sentence).find(found[1]) <= 4
            if info.get("heading_like") and not opens_with_request:
                continue  # a heading states a subject, unless it is itself a recommendation ("C. Avoid …")
            if info.get("handover") == "narration" and not (QUOTE_MARK.search(sentence) or speaker_in(sentence)):
                continue  # the reporter's own framing, not the words of the organisation last quoted
            # a topic that shows the sentence is on the rule; in a document on the rule, any topic does
            evidence = not info.get("document_relevant")
            own_topic = topic_of(sentence, evidence=evidence, gate=True)
            following = spans[index + 1] if index + 1 < len(spans) else None
            next_text = text_of(doc)[following[0] : following[1]] if following else ""
            # a bullet starts a point of its own: a sentence is never joined to the next bullet's
            bulleted = bool(following) and bool(re.search(f"[{BULLETS}]", text_of(doc)[end : following[0]]))
            if (
                topic_of(sentence, gate=True) is None  # a verdict that names no topic at all
                and following
                and not bulleted
                and len(sentence) < (40 if lang == "zh" else 120)
                and topic_of(next_text, evidence=evidence, gate=True)
            ):
                # a short verdict ("The problems are many.", "It will be important to strike the right
                # balance.") and the sentence that gives its substance are one position
                end = following[1]
                sentence = text_of(doc)[start:end]
                own_topic = topic_of(sentence, evidence=evidence, gate=True)
                taken_until = end
            # "While these controls should continue, …" in a paragraph on the rule: its subject is the rule
            anaphor = bool(ANAPHOR.search(squash(sentence)[:ANAPHOR_REACH])) and about_the_rule(text_of(doc))
            if (
                own_topic is None
                and not about_the_rule(sentence)
                and not anaphor
                and not (info.get("doc_type") == "comment" and info.get("section_relevant") and found[0] != "support")
            ):
                continue  # in a letter on a rule, or a section headed by it, a request or objection needs no topic cue
            # a sentence that names no topic of its own is on "other", whatever its paragraph goes on to
            # (readers marked 'other' where the paragraph's topic was a guess: dev topic accuracy .62 -> .67);
            # the linker still follows the paragraph's topic to a provision (link.corpus)
            topic = topic_of(sentence) or "other"
            add_span(
                doc,
                GROUP,
                start,
                end,
                "POSITION",
                {"org": speaker_in(sentence) or info["speaker"], "stance": found[0], "topic": topic, "cue": found[1]},
            )
        return doc

    score = staticmethod(span_scorer(GROUP))
