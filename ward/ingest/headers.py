"""Headers: fold a delivered header and map it to a canonical column of `ward.sources`.

Matching ignores case, diacritics (including đ → d), punctuation, stray spaces and line breaks, and
also accepts the canonical snake_case names. All column knowledge comes from `ward.sources`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from ward.sources import SOURCES

# Letters NFD does not decompose: đ/Đ, and the look-alike Ð/ð (U+00D0/U+00F0) some systems write for Đ.
_LETTER_FOLDS = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})
_REQUIRED_MARK = re.compile(r"\(\s*\*\s*\)|\*")  # "Họ và tên (*)" on government templates
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str | None) -> str:
    """NFC, no diacritics, đ → d, lower case, whitespace (incl. line breaks) collapsed to one space."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).translate(_LETTER_FOLDS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def normalise_header(text: str | None) -> str:
    """The matching key of a header: folded, required marks and punctuation and `_` as spaces."""
    return " ".join(_NOT_WORD.sub(" ", _REQUIRED_MARK.sub(" ", fold(text))).split())


@cache
def header_lookup(source: str) -> dict[str, str]:
    """Matching key → canonical column, from each column's header, aliases and snake_case name."""
    lookup: dict[str, str] = {}
    for column in SOURCES[source].columns:
        for text in (column.header, *column.aliases, column.name):
            lookup.setdefault(normalise_header(text), column.name)
    return lookup


def map_header(header: str | None, source: str) -> str | None:
    """The canonical column a delivered header names in `source`, or None."""
    return header_lookup(source).get(normalise_header(header))


def count_known(cells: list[str | None]) -> int:
    """How many cells are headers of one source (the best source): used to find the header row."""
    keys = [normalise_header(c) for c in cells if c]
    return max(
        (len({header_lookup(s)[k] for k in keys if k in header_lookup(s)}) for s in SOURCES), default=0
    )


@dataclass(frozen=True)
class SourceScore:
    source: str
    matched: frozenset[str]  # canonical columns found
    required_found: int
    required_total: int

    @property
    def coverage(self) -> float:
        return self.required_found / self.required_total if self.required_total else 0.0

    @property
    def rank(self) -> tuple[float, int]:
        return (self.coverage, len(self.matched))


def score_sources(headers: list[str | None]) -> dict[str, SourceScore]:
    """How well a header row fits each source: share of its required columns found, then matches."""
    scores = {}
    for name, source in SOURCES.items():
        matched = frozenset(c for c in (map_header(h, name) for h in headers if h) if c)
        required = set(source.required_columns)
        scores[name] = SourceScore(name, matched, len(required & matched), len(required))
    return scores


def detect_source(headers: list[str | None]) -> str | None:
    """The source a header row belongs to (best required-column coverage), or None if none fits."""
    best = max(score_sources(headers).values(), key=lambda s: s.rank)
    return best.source if best.required_found else None


def belongs_elsewhere(headers: list[str | None], source: str) -> str | None:
    """The other source a file in `source`'s folder clearly belongs to, or None.

    Clearly: the other source fits better and has at least half of its required columns, and the
    folder's own source is not complete.
    """
    scores = score_sources(headers)
    own = scores[source]
    best = max(scores.values(), key=lambda s: s.rank)
    if best.source == source or own.coverage == 1.0 or best.coverage < 0.5:
        return None
    return best.source if best.rank > own.rank else None


@dataclass(frozen=True)
class HeaderMapping:
    """Which file column goes where: canonical columns by position, the rest kept as extras."""

    source: str
    canonical: dict[int, str]  # column position → canonical name (first occurrence wins)
    extras: dict[int, str] = field(default_factory=dict)  # column position → key in _extra_columns
    unknown: tuple[str, ...] = ()  # headers (as delivered) that are not canonical, reported

    @property
    def missing_required(self) -> list[str]:
        found = set(self.canonical.values())
        return [c for c in SOURCES[self.source].required_columns if c not in found]


def map_headers(headers: list[str | None], source: str) -> HeaderMapping:
    """Map a header row; unknown or repeated headers become extras, empty headers `#<position>`."""
    canonical: dict[int, str] = {}
    extras: dict[int, str] = {}
    unknown: list[str] = []
    used_keys: set[str] = set()
    for position, header in enumerate(headers):
        name = map_header(header, source)
        if name and name not in canonical.values():
            canonical[position] = name
            continue
        text = " ".join((header or "").split())
        key = text or f"#{position + 1}"
        if key in used_keys:
            key = f"{key} ({position + 1})"
        used_keys.add(key)
        extras[position] = key
        if text:
            unknown.append(text)
    return HeaderMapping(source, canonical, extras, tuple(unknown))
