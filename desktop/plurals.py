"""Counts in words the way people write them: "1 photo", "4 photos", never "4 photo(s)"."""

from __future__ import annotations

# The few nouns the window counts whose plural is not noun + "s".
_IRREGULAR = {"copy": "copies", "match": "matches"}


def counted(n: int, noun: str) -> str:
    """`n` with `noun` in the right number, thousands separated: counted(2000, "photo") == "2,000 photos"."""
    return f"{n:,} {noun if n == 1 else _IRREGULAR.get(noun, noun + 's')}"
