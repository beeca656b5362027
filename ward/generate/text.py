"""Vietnamese text helpers: tone placement, look-alike letters, diacritics, Windows-1258 form."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def fold_eth(text: str) -> str:
    """`Ð`/`ð` (Icelandic eth, found in the name lists) to the Vietnamese `Đ`/`đ`."""
    return text.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")


def _move_tone(word: str, to_first: bool) -> str:
    """In an open syllable ending in oa, oe or uy, put the tone mark on the first or second vowel."""
    decomposed = nfd(word)
    tones = [c for c in decomposed if c in TONE_MARKS]
    if len(tones) != 1:
        return word
    base = nfc("".join(c for c in decomposed if c not in TONE_MARKS))
    low = base.lower()
    if not low.endswith(("oa", "oe", "uy")) or low.endswith("quy"):
        return word
    at = len(base) - 2 if to_first else len(base) - 1
    return nfc(base[: at + 1] + tones[0] + base[at + 1 :])


@lru_cache(maxsize=1 << 16)
def _civil_word(word: str) -> str:
    return _move_tone(word, True)


@lru_cache(maxsize=1 << 16)
def _old_word(word: str) -> str:
    return _move_tone(word, False)


def civil_tone(text: str) -> str:
    """Civil-record placement: `Hòa`, `Thúy`, `Khỏe` (the mark on the first vowel of oa, oe, uy)."""
    return " ".join(_civil_word(w) for w in text.split(" "))


def old_tone(text: str) -> str:
    """The other placement: `Hoà`, `Thuý`, `Khoẻ`."""
    return " ".join(_old_word(w) for w in text.split(" "))


# An NFC word in civil placement that old_tone would change: o+tone then a/e, or u+tone then y (not qu).
CIVIL_OPEN_SYLLABLE = r"(?i)(?:[òóỏõọ][ae]|(?:^|[^q])[ùúủũụ]y)(?:\s|$)"


def clean_name(text: str) -> str:
    """What a cleaner must make of a delivered name: NFC, Đ folded, single spaces, each word
    capitalised, civil tone placement."""
    words = fold_eth(nfc(text)).split()
    return civil_tone(" ".join(w[:1].upper() + w[1:].lower() for w in words))


@lru_cache(maxsize=65536)
def strip_diacritics(text: str) -> str:
    folded = nfd(fold_eth(text)).replace("\u0110", "D").replace("\u0111", "d")
    return nfc("".join(c for c in folded if not unicodedata.combining(c)))


def _cp1258_table() -> dict[str, str]:
    """Every precomposed Latin letter that Windows-1258 cannot hold as one byte, to its storable form."""
    table = {}
    for code in range(0xC0, 0x1EFA):
        ch = chr(code)
        if not unicodedata.category(ch).startswith("L"):
            continue
        decomposed = nfd(fold_eth(ch))
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        stored = nfc("".join(c for c in decomposed if c not in TONE_MARKS)) + tones
        if stored != ch:
            table[ch] = stored
    return table


_CP1258 = _cp1258_table()


def cp1258_form(text: str) -> str:
    """Text as Windows-1258 stores it: base letters (with circumflex, breve, horn) plus a combining
    tone mark; `Ð` (not in the code page) written as `Đ`. Encodes with `encoding="cp1258"`."""
    import polars as pl

    return pl.Series([text]).str.replace_many(list(_CP1258), list(_CP1258.values())).item()
