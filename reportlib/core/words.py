"""Words every layer writes the same way: a count with its noun."""

from __future__ import annotations

from typing import Any


def counted(n: Any, noun: str, plural: str | None = None) -> str:
    """'1 day', '28 days', '0 hires', '1,234 rows': the whole number `n` with its noun, plural unless n is 1
    (`plural`, when the noun does not take an 's')."""
    return f"{int(n):,} {noun_for(n, noun, plural)}"


def noun_for(n: Any, noun: str, plural: str | None = None) -> str:
    """The noun alone as `n` of it take it: 'report' for 1, 'reports' otherwise ('unknown reports a, b'); also a
    verb or phrase that agrees with a count: noun_for(n, 'was', 'were'), noun_for(n, 'falls', 'fall')."""
    return noun if int(n) == 1 else (plural or noun + "s")
