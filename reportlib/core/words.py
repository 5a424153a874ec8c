"""Words every layer writes the same way: a count with its noun, a list in a sentence."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def counted(n: Any, noun: str, plural: str | None = None) -> str:
    """'1 day', '28 days', '0 hires', '1,234 rows': the whole number `n` with its noun, plural unless n is 1
    (`plural`, when the noun does not take an 's')."""
    return f"{int(n):,} {noun_for(n, noun, plural)}"


def noun_for(n: Any, noun: str, plural: str | None = None) -> str:
    """The noun alone as `n` of it take it: 'report' for 1, 'reports' otherwise ('unknown reports a, b'); also a
    verb or phrase that agrees with a count: noun_for(n, 'was', 'were'), noun_for(n, 'falls', 'fall')."""
    return noun if int(n) == 1 else (plural or noun + "s")


def in_words(items: Iterable[Any], last: str = "and") -> str:
    """Items as a sentence lists them: 'phone', 'phone and chat', 'phone, chat and video' (`last`: 'and', 'or')."""
    words = [str(i) for i in items]
    return f" {last} ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
