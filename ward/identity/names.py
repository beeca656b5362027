"""Do two names of one snapshot name two people? The evidence that tells twins from a re-keyed row.

One snapshot may list the same person twice (a row keyed again by hand: the ID left out, a typo, the
diacritics lost), and it may list twins (same surname, birth date, sex and household; another given
name). Splink's comparison works on folded names, where `Hùng` and `Hưng` are one name and `Anh Duy`
is one letter from `Anh Dũng`; so a link between two rows of one snapshot must also pass this test,
on the names as delivered (cleaned, with diacritics):

- the same name, or the same name keyed wholly without diacritics: `same` / `slip` (a copy);
- word by word: a tone mark or đ/d alone (`Lơi` / `Lợi`, `Đức` / `Dức`) is a keying slip;
- the same letters with other vowel shapes on both sides (`Hùng` / `Hưng`): two names;
- one plain word in a name that has diacritics (`Lan` / `Lân`): `near`;
- two different words that are both real name words (in the reference lists of given names and
  surnames): two names (`Duy` / `Dũng`), unless one letter apart (`An` / `Anh`, `Thảo` / `Tảo`):
  `near`, and the other evidence decides (ward.identity.resolve: a row listed in one snapshot
  only, without another phone, is a copy);
- a word that is no name (`Dng`) is a typo of the other: the score decides.

A conflict is a refusal, not a lower score: a missed duplicate stays visible in review_pairs, a false
merge silently hides a resident.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from rapidfuzz.distance import DamerauLevenshtein

from ward.settings import REFERENCE_DIR

_ETH = str.maketrans({"Ð": "Đ", "ð": "đ"})


def normal(name: str) -> str:
    """Lower case NFC with the eth folded to đ and single spaces: the name as written, comparable."""
    return " ".join(unicodedata.normalize("NFC", name.translate(_ETH)).lower().split())


def fold(name: str) -> str:
    """No diacritics, đ -> d (the form splink compares)."""
    decomposed = unicodedata.normalize("NFD", normal(name).replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def name_words() -> frozenset[str]:
    """Folded words of the reference given names (middle + given) and surnames."""
    words: set[str] = set()
    for file in ("given_names_male.txt", "given_names_female.txt"):
        for line in (REFERENCE_DIR / file).read_text(encoding="utf-8").splitlines():
            words.update(fold(line).split())
    for line in (REFERENCE_DIR / "surnames.csv").read_text(encoding="utf-8").splitlines()[1:]:
        words.update(fold(line.split(",")[0]).split())
    return frozenset(w for w in words if w)


def name_evidence(left: str | None, right: str | None) -> str:
    """`same`, `slip` (a keying slip explains the difference), `near` (real name words one letter
    apart: `An` / `Anh`, a slip or two people, other evidence decides) or `two` (two people)."""
    if not left or not right:
        return "same"
    wa, wb = normal(left).split(), normal(right).split()
    if wa == wb:
        return "same"
    if len(wa) != len(wb):
        return "slip"  # a word dropped or split: the score decides
    plain = (_is_plain(wa), _is_plain(wb))
    verdicts = {_word_evidence(x, y, plain) for x, y in zip(wa, wb, strict=True) if x != y}
    for verdict in ("two", "near"):
        if verdict in verdicts:
            return verdict
    return "slip"


def names_conflict(left: str | None, right: str | None) -> bool:
    """True when the names alone are evidence of two people."""
    return name_evidence(left, right) == "two"


def _is_plain(words: list[str]) -> bool:
    return all(fold(w) == w for w in words)


def _word_evidence(a: str, b: str, plain: tuple[bool, bool]) -> str:
    if _toneless(a) == _toneless(b):
        return "slip"  # only a tone mark or đ/d differs (Lơi / Lợi, Đức / Dức): the commonest slips
    fa, fb = fold(a), fold(b)
    if fa == fb:
        # the same letters with other vowel shapes: on both sides, two names (Hùng / Hưng); a name
        # keyed wholly without diacritics is the same name; one plain word in a name that has
        # them (Lan / Lân, or Hùng keyed Hung) may be either
        if a != fa and b != fb:
            return "two"
        return "slip" if (a == fa and plain[0]) or (b == fb and plain[1]) else "near"
    known = name_words()
    if fa in known and fb in known:
        return "near" if _one_edit(fa, fb) else "two"
    return "slip"  # a word that is no name is a typo of the other


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng


def _toneless(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))


def _one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours."""
    return DamerauLevenshtein.distance(a, b) <= 1
