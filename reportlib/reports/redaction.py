"""Other people's names and ids in free text from data (QA comments, contact reasons), found and replaced.

`Redactor(own, others)` replaces every other person's name and id in a text with a mark ("[another agent]"),
keeping the reader's own; the agent 1:1 review passes each QA comment through it, the client review and
workbook each contact reason (own: none). The rules are in the class's docstring; docs/definitions.md
("Agent 1:1 reviews") says them for readers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import pandas as pd

from reportlib.core.safety import as_latin, whole_word

REDACTED = "[another agent]"


def roster_terms(roster: pd.DataFrame) -> list[str]:
    """Every name and id of a roster (agents table): agent_id, name and the supervisor values, as text."""
    cols = [c for c in ("agent_id", "name", "supervisor") if c in roster.columns]
    return [t for c in cols for t in (roster_text(v) for v in roster[c]) if t]


def note_terms(roster: pd.DataFrame) -> list[str]:
    """The roster terms a page's notes and warnings leave out (`redact_terms`): every name and every agent_id of 3
    characters or more; an id of digits alone is no one's name and reads like a row number or a count in a
    warning, so it is kept."""
    ids = [i for i in roster["agent_id"].dropna().astype(str) if re.search(r"[^\W\d_]", i)]
    names = list(roster["name"].dropna().astype(str)) if "name" in roster else []
    return sorted({t for t in names + ids if len(t.strip()) >= 3})


def redact_terms(text: Any, terms: Iterable[str], mark: str = "[redacted]") -> str:
    """`text` with each of `terms` replaced by `mark`, as a whole word (not inside another: "ted" leaves "expected"
    whole), all in one pass (the longest term first at each place; a replacement is never searched again). For
    messages the tool writes (notes, warnings), whose names are written as the roster has them; free text people
    type (comments, reasons) goes through `Redactor`, which also finds a name's other forms."""
    ordered = sorted({t for t in terms if t}, key=lambda t: (-len(t), t))
    if not ordered:
        return str(text)
    return re.sub("|".join(whole_word(t) for t in ordered), mark, str(text))


def roster_text(value: Any) -> str | None:
    """A roster value as text, stripped; None when missing or blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


# --- text from data about other people ----------------------------------------------------------------


_APOSTROPHES = "'’‘ʼ`"  # straight, right and left single quotes, modifier letter, grave


@lru_cache(maxsize=4096)
def _base(ch: str) -> str:
    """A character as names are matched, case kept: a letter or digit without its accents and in its plain width
    ("Ễ" -> "E", "ｅ" -> "e", "０" -> "0"), a Cyrillic or Greek look-alike as its Latin letter, full-width
    punctuation as its plain form ("－" -> "-"), an apostrophe of any kind as "'"; other characters as they are."""
    if ch in _APOSTROPHES:
        return "'"
    parts = unicodedata.normalize("NFKD", ch)
    if not ch.isalnum():  # punctuation folds to punctuation ("－", "．", "＿", "＇" full width: a review)
        folded = _base(parts) if len(parts) == 1 and parts != ch else ch
        # a symbol stays one ("Rob™", "№Rob", "RobⓇ": read as letters they joined the name)
        return folded if not folded.isalnum() else ch
    # a letter and its accents -> the letter; a character that decomposes into several (a Korean syllable into its
    # consonants and vowel, "ﬁ", "ǅ") stays whole: reading 박 as ᄇ matched ordinary Korean words (a review)
    base = parts[0] if parts and all(unicodedata.combining(c) for c in parts[1:]) else ch
    return as_latin(base)


def _unseen(ch: str) -> bool:
    """A combining mark or an invisible format character (a zero-width space or joiner, a soft hyphen, a word
    joiner, a byte-order mark: Unicode category Cf): left out when text is matched, so that "Gar\u200by Riv\u200bera",
    which reads "Gary Rivera", is found (a probe)."""
    return bool(unicodedata.combining(ch)) or unicodedata.category(ch) == "Cf"


def _skeleton(text: str) -> tuple[str, list[int] | None]:
    """`text` (NFC) as matched (`_base` of each character, combining marks and invisible characters left out:
    `_unseen`) and, per character of it, the
    index of the character of `text` it stands for (None: the same indices, for ASCII text, the common case). A
    name is then found by one pattern of plain letters in any accent, width or look-alike ("Nguyễn", "ＡＣＭＥ",
    "Rоb" with a Cyrillic "о"): the first version spelt every accented form of each letter into the pattern, from
    U+00C0-U+024F only, and missed "Trần Quốc Bảo" (a probe); all of them made the pattern twice as slow to build."""
    if text.isascii():
        return text, None
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if _unseen(ch):
            continue
        chars.append(_base(ch))
        where.append(i)
    where.append(len(text))
    return "".join(chars), where


def _matchable(term: str) -> bool:
    """Whether a roster value can be looked for in text: it holds a letter or digit (a value of combining marks
    or punctuation alone, "-", matched everywhere or between words: "follow-up" read "follow[another agent]up")."""
    return any(c.isalnum() for c in _skeleton(term)[0])


def _fold(ch: str) -> str:
    """A character as compared with the agent's own: `_base` of its lower case, any case (Cyrillic "В" and "в"
    alike, though only the capital is drawn as a Latin letter)."""
    low = ch.lower()
    return _base(low if len(low) == 1 else ch).lower()


def _flex(text: str, upper: str = "none") -> str:
    """A pattern matching `text` in the skeleton of a text (`_skeleton`): `upper` "none" (any case), "first" (the
    first letter in capitals) or "all" (every letter in capitals)."""
    out = []
    for i, ch in enumerate(_skeleton(text)[0]):
        low, cap = ch.lower(), ch.upper()
        if low == cap or len(low) != 1 or len(cap) != 1:  # no case ("ß" has none of one letter)
            out.append(re.escape(ch))
            continue
        low, cap = _base(low), _base(cap)  # as the text's letters read: Cyrillic "В" is "B", its "в" stays
        if upper == "all" or (upper == "first" and i == 0):
            # a title-case letter ("ǅ" of "ǅemal") is a name's capital as it is written: itself too (a review)
            out.append(re.escape(cap) if ch in (low, cap) or not ch.istitle() else f"[{re.escape(cap)}{re.escape(ch)}]")
        else:
            out.append("[" + "".join(re.escape(c) for c in dict.fromkeys((low, cap, ch))) + "]")
    return "".join(out)


class Redactor:
    """Replaces every other agent's name and id in text with "[another agent]" (`mark`), keeping the agent's own.

    Redacted: each other person's full name and id in any case, with any run of spaces (a no-break space too),
    dots, underscores or hyphens between the name's words ("patrick  ross", "diane.young@..."); and each word of
    their names of 3 letters or more (hyphenated ones whole and in parts) written as a name (capitalised or in
    capitals: "Patrick", "Ross's", "Gary A.", "O'BRIEN"), unless it is a word of the agent's own name or team. An
    apostrophe of any kind matches any other ("O’Brien" is "O'Brien"), and a letter with or without its accent,
    in full width or as a Cyrillic or Greek look-alike ("Chloe" is "Chloé", "Nguyễn", "Rоb": matched on the
    text's `_skeleton`). A term found is kept as the agent's own only when written as the agent's own or folding to
    it and to no one else's ("AG1" beside the agent's "ag1" is redacted). A lower-case lone word ("will", "hope")
    is left, so that names that are also words do not blank the comment; a capitalised one that is also a word ("Long hold", "Mark the account") is redacted: an
    evaluator's comment loses a word rather than names a colleague. One pattern holds every term, longest first,
    so at each position the longest one wins: a colleague named "Ann Leeds" is redacted even though the agent is
    "Ann Lee", and the agent's own "Ann Lee" is kept even though a colleague is named "Ann". A term needs a whole
    word at each end that is a letter or digit (so "Al" is not found inside "Also").

    A full name is also found run together ("DonaldPatterson") and written with an initial (`_initials`), as a
    name ("D. Patterson", "Donald P.": capitals where a name has them) or in an e-mail address ("d.patterson@...",
    "dpatterson@..."): a probe found those left whole, and a review found the initial forms in any case blanked
    words ("along" for Amy Long, "a long way", "shall" for Sarah Hall). A second probe's forms are found too: an
    id with separators between its letters and digits ("A-0108"), a name surname first ("richardson.rebecca@",
    "Richardson, Rebecca"), a first name and an initial before an "@" ("garyr@"), a handle ("@grivera"), an
    initial run into a surname in capitals ("JMeyer"), and text with invisible characters inside a name
    (`_unseen`). Left, as the price of not blanking ordinary words: a lone word in lower case ("escalated to
    patterson"), an initial run into a surname in lower case without an "@" ("grivera": "along") and a word of a
    name shorter than 3 letters ("Ask Li").
    """

    SEPARATORS = r"[\s._-]+"  # what may stand between a name's words in free text (\s covers no-break spaces)
    _LETTERS_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")  # where an id's letters meet its digits

    # a name with an initial (`_initials`), found by its shape and looked up (one small pattern, not one per
    # person: 300 names' forms in the one pattern more than doubled its build): an initial and a surname before
    # an "@" in any case ("d.patterson@", "dpatterson@"), an initial and a surname as a name ("D. Patterson",
    # "D PATTERSON"), a name and an initial ("Donald P")
    _WORD = r"[^\W\d_][\w'’‘ʼ`-]*[^\W_]"
    _ADDRESS = re.compile(rf"(?<![\w.])([^\W\d_])[._-]?({_WORD})(?=@)")
    _INITIAL_SURNAME = re.compile(rf"(?<!\w)([^\W\d_])(?:\.\s*|\s+)({_WORD})(?!\w)")
    _NAME_INITIAL = re.compile(rf"(?<!\w)({_WORD})\s+([^\W\d_])(?![\w'’‘ʼ`])")  # not "Sean O" of "O'Brien"
    # and, from a probe: a first name and an initial before an "@" ("garyr@", "gary_r@"), a handle ("@grivera",
    # "@g.rivera") and an initial run into a surname as a name ("JMeyer", "GRIVERA": both capitals)
    _ADDRESS_FIRST = re.compile(rf"(?<![\w.])({_WORD})[._-]?([^\W\d_])(?=@)")
    _HANDLE = re.compile(rf"(?<![\w@])@([^\W\d_])[._-]?({_WORD})(?!\w)")
    _RUN_TOGETHER = re.compile(rf"(?<!\w)([^\W\d_])({_WORD})(?!\w)")  # "JMeyer"; not "ALONG" (capitals only)

    def __init__(self, own: Iterable[Any], others: Iterable[Any], mark: str = REDACTED, lone_words: bool = True):
        """`mark`: what a name found is replaced with. `lone_words`: each word of a name written as a name counts too
        (a QA comment's "ask Patrick"); off for text in sentence case of its own, a contact reason, whose first
        word is always capitalised ("Grace period extension", "Price change": a review)."""
        self.mark = mark
        # a term without a letter or digit (combining marks alone, a roster's "-") would match everywhere or
        # between words: left out (a review)
        own_terms = {t for t in (unicodedata.normalize("NFC", v) for v in map(roster_text, own) if v) if _matchable(t)}
        other_terms = {
            t for t in (unicodedata.normalize("NFC", v) for v in map(roster_text, others) if v) if _matchable(t)
        } - own_terms
        # a term found is kept when it is the agent's own as written, or folds to the agent's own and to no other
        # person's: another agent's id that folds to the agent's ("AG1" beside the agent's "ag1", "A_B" beside
        # "A.B") was kept as the agent's own (a probe)
        self.own_exact = own_terms
        self.own = {k for t in own_terms for k in self._keys(t)} - {k for t in other_terms for k in self._keys(t)}
        own_words = {self._key(w) for t in own_terms for w in self._words(t)}
        words = {w for t in other_terms for w in self._words(t) if self._key(w) not in own_words} - other_terms
        self.own_initials = {k for t in own_terms for k in self._initials(t)}
        self.initials = {k for t in other_terms for k in self._initials(t)} - self.own_initials
        pieces = [(t, self._piece(t)) for t in own_terms | other_terms]
        pieces += [(w, self._word_piece(w)) for w in words] if lone_words else []
        pieces.sort(key=lambda tp: (-len(tp[0]), tp[0]))
        self.pattern = re.compile("|".join(p for _, p in pieces)) if pieces else None

    @classmethod
    def _key(cls, text: str) -> str:
        """A term as compared with the agent's own: separators left out, apostrophes and accents folded, any case."""
        folded = "".join(_fold(c) for c in text.strip() if not _unseen(c))
        return re.sub(r"[\s._,-]+", "", folded)  # the separators, and the comma of "Lee, Ann"

    @classmethod
    def _surname_first(cls, term: str) -> list[str]:
        """The words of a name of two words or more, surname first (as "Richardson, Rebecca"); none for an id or a
        one-word name."""
        words = [w for w in re.split(cls.SEPARATORS, term.strip()) if w]
        return words[::-1] if len(words) >= 2 and not any(c.isdigit() for c in term) else []

    @classmethod
    def _keys(cls, term: str) -> set[str]:
        """`_key` of a term as `_piece` finds it: a name also surname first."""
        reverse = cls._surname_first(term)
        return {cls._key(term)} | ({cls._key(" ".join(reverse))} if reverse else set())

    @classmethod
    def _initials(cls, term: str) -> set[tuple[str, str]]:
        """A person's name with an initial, as keys: ("d", "patterson") for "D. Patterson" and ("donald", "p") for
        "Donald P" (first and last words of 3 letters or more, starting with a letter); none for an id or a
        one-word name."""
        words = [w for w in re.split(cls.SEPARATORS, term.strip()) if w]
        if len(words) < 2 or any(
            len(w) < 3 or not w[0].isalpha() or any(c.isdigit() for c in w) for w in (words[0], words[-1])
        ):
            return set()
        first, last = words[0], words[-1]
        return {(cls._key(first[0]), cls._key(last)), (cls._key(first), cls._key(last[0]))}

    def _initial_spans(self, skeleton: str, where: list[int] | None) -> list[tuple[int, int]]:
        """Where the text whose `_skeleton` is (skeleton, where) holds another person's name written with an
        initial (the agent's own kept): spans of the text."""
        spans: list[tuple[int, int]] = []
        for pattern, as_name in (
            (self._ADDRESS, False),
            (self._ADDRESS_FIRST, False),
            (self._HANDLE, False),
            (self._INITIAL_SURNAME, True),
            (self._NAME_INITIAL, True),
            (self._RUN_TOGETHER, True),
        ):
            for m in pattern.finditer(skeleton):
                a, b = m.group(1), m.group(2)
                if as_name and not (a[0].isupper() and b[0].isupper()):  # a name's capitals: never "a long way"
                    continue
                if pattern is self._RUN_TOGETHER and b.isupper():  # a word in capitals ("ALONG", "SHALL", "GROSS")
                    continue
                key = (self._key(a), self._key(b))
                if key in self.initials and key not in self.own_initials:
                    spans.append(_in_text(m, where))
        return spans

    @staticmethod
    def _words(term: str) -> list[str]:
        """The words of a name that are redacted on their own: 3 letters or more, not digits alone; a hyphenated
        word whole and each of its parts ("Mary-Kate", "Mary", "Kate")."""
        found = re.findall(r"\w[\w'’‘ʼ`-]*\w", term)
        parts = [p for w in found if "-" in w for p in w.split("-")]
        return [w for w in dict.fromkeys(found + parts) if len(w) >= 3 and not w.isdigit()]

    @classmethod
    def _piece(cls, term: str) -> str:
        """A full name or id: any case, any separators between its words or none ("DonaldPatterson"), and between
        an id's letters and digits ("A-0108", "a_0064", "A 0108": the id "A0108" as people type it); a name of
        two words or more also surname first ("richardson.rebecca@", "Richardson, Rebecca")."""
        words = [w for w in re.split(cls.SEPARATORS, term.strip()) if w]
        body = r"[\s._-]*".join(cls._id_word(w) for w in words)
        reverse = cls._surname_first(term)
        if reverse:
            surname_first = r",?[\s._-]*".join(_flex(w) for w in reverse)
            body = f"(?:{body}|{surname_first})"
        return whole_word(_skeleton(term)[0], body or None)

    @classmethod
    def _id_word(cls, word: str) -> str:
        """One word of a term, with `.`, `_` or `-` allowed where its letters meet its digits ("A-0108"), and a space
        too when a part is long enough not to be ordinary text: 2 letters or 3 digits ("A 0108", not "a 5" of "a 5
        minute hold" for the id A5, a review)."""
        parts = [p for p in cls._LETTERS_DIGITS.split(word) if p]
        long_enough = any(len(p) >= (3 if p.isdigit() else 2) for p in parts)
        return (r"[\s._-]*" if long_enough else r"[._-]?").join(_flex(p) for p in parts)

    @classmethod
    def _word_piece(cls, word: str) -> str:
        """One word of a name, written as a name: capitalised (the rest in any case) or in capitals."""
        return whole_word(_skeleton(word)[0], f"(?:{_flex(word, 'first')}|{_flex(word, 'all')})")

    def __call__(self, text: Any) -> str:
        # composed (NFC) as the terms are: a name written with combining accents ("Nguye\u0302\u0303n") is the name;
        # a text with nothing redacted is returned as given (NFC turns some compatibility characters into others)
        raw = "" if roster_text(text) is None else str(text)
        composed = value = unicodedata.normalize("NFC", raw)
        skeleton, where = _skeleton(value)
        if self.initials:
            spans = self._initial_spans(skeleton, where)
            if spans:
                value = _marked(value, spans, self.mark)
                skeleton, where = _skeleton(value)
        if self.pattern is not None:
            spans = [
                (start, end)
                for start, end in (_in_text(m, where) for m in self.pattern.finditer(skeleton))
                if value[start:end] not in self.own_exact and self._key(value[start:end]) not in self.own
            ]
            value = _marked(value, spans, self.mark)
        return raw if value == composed else value


def _in_text(m: re.Match[str], where: list[int] | None) -> tuple[int, int]:
    """The span of the text that match `m` of its `_skeleton` stands for."""
    return (m.start(), m.end()) if where is None else (where[m.start()], where[m.end()])


def _marked(text: str, spans: Iterable[tuple[int, int]], mark: str) -> str:
    """`text` with each span replaced by `mark`; spans that overlap (two forms of one name: "@grivera" is a handle
    and an initial run into a surname) one mark."""
    parts, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            last = max(last, end)
            continue
        parts += [text[last:start], mark]
        last = end
    return "".join(parts) + text[last:] if parts else text
