"""The linkage model in one place: comparisons, blocking rules, thresholds and confidences.

Both the ward (`ward.identity.resolve`) and the Febrl benchmark (`bench/linkage.py`) build their
splink settings here, from one record layout (see `ward.identity.linkage.RECORD_COLUMNS`):

    unique_id, anchor, settled, surname, given_name, dob_text (yyyymmdd), dob_precision
    ('day'/'month'/'year'), sex, household_id, phone, area

Names are folded (lower case, no diacritics, đ -> d) before they get here. For a Vietnamese name
`surname` is the first word (Nguyễn) and `given_name` the rest (middle + given: "van an"): the middle
name is part of what a person is called, and the family name alone says little (Nguyễn ~ 31%).

Why these comparisons
- surname / given_name: exact (with term-frequency adjustment: sharing "nguyen" is weak evidence,
  sharing "luu" strong), then typo levels (Levenshtein 1, Jaro-Winkler 0.92 / 0.80).
  given_name has a "crossed" level: one's given name is (nearly, Jaro-Winkler >= 0.9) the other's
  surname (Febrl swaps the two fields; Vietnamese names never trigger it). Only there: a crossing
  seen by both name comparisons would count one piece of evidence twice ("Lily Priest" and
  "Hylnad Lily" are two people).
- dob: exact day; day and month swapped (dd/mm vs mm/dd written by Excel); compatible partial dates
  (a `yyyy` or `mm/yyyy` birth date agrees with a full date of that year / month); one digit
  differs; same year. A partial date is stored as the first day of its period, so `dob_text` alone would
  call 1985 (= 19850101) and 01/01/1985 equal: the precision decides the level.
- sex: exact or not. A mismatch is strong evidence against (the ID even encodes it).
- address: same household, else same area (residential group; Febrl: street and postcode), both
  term-frequency adjusted (a household code shared by 12 people is weaker than one shared by 2).
  One comparison, not two: the same household implies the same group, and two comparisons would
  count that evidence twice. No fuzzy level: codes that differ by a digit are other households.
- phone: exact, then one or two keyed-in digit errors (also the Febrl soc_sec_id).
Each level carries prior m/u probabilities (domain guesses) so that a model that could not be
trained still scores sensibly. Training: u by random sampling over all records (hash-based sample
with SEED: the same records every run), m by expectation-maximisation on two blockings (same birth
date; same name) that each leave the other fields free to be learnt, on pairs with an unsettled
side only; then m is shrunk towards the priors in proportion to how few unsettled records there
were (linkage._shrink_to_priors). The prior match probability is set, not estimated by splink
(linkage._prior: splink's estimator counts all N^2/2 pairs, most of which are never compared).

What splink does not do: the clustering (ward.identity.clustering) links strongest first and
refuses a link that would put two 12-digit IDs or two CMNDs in one person. Two rows of one
snapshot may be one person (a row keyed again by hand), but join only at SAME_SNAPSHOT_LINK_THRESHOLD
and when their names as delivered are not those of two people (ward.identity.names: twins share a
household, surname and birth date and differ by a given name, which folding may hide: Hùng/Hưng).

Costs, measured on 2 cores: damerau_levenshtein costs 2 s per million pairs in DuckDB, levenshtein
0.25 s, hamming 0.03 s, jaro_winkler 0.15 s; u-estimation compares U_MAX_PAIRS pairs on every
comparison, so it is the largest fixed cost of a run (~0.8 s).

Why these blocking rules
Only records whose identity is not settled by a 12-digit ID need linking (about 1 % of a
snapshot), so every rule also requires at least one side to be unsettled: pairs of two ID
records are never formed. Each rule is an equi-join, so DuckDB hash-joins it; the candidate pairs
are then the union of:
- same household (a person re-listed without ID stays in their household),
- same full name (moved household, phone changed),
- one's given name is the other's surname (Febrl swaps the fields),
- same birth date with day and month in either order (name typos; only exact dates: a partial date
  would put everyone born "1985" in one block),
- same phone,
- same given name (middle + given) and birth year (surname typo, new household).
"""

from __future__ import annotations

from typing import Any

from splink import SettingsCreator

# ---------------------------------------------------------------------------------------------
# Thresholds and confidences (documented in ward/identity/README.md).
# ---------------------------------------------------------------------------------------------

#: A scored pair at or above this probability links two records (subject to the clustering's
#: constraints). Chosen from the benchmark and the synthetic ward (bench/results/linkage.json):
#: cluster F1 on Febrl3/4 moves by < 0.002 between 0.5 and 0.95; 0.8 leaves a margin against
#: false merges, which are worse here than a missed link (a missed link leaves a person listed
#: twice, and the pair is in review_pairs; a false merge silently hides a resident).
LINK_THRESHOLD = 0.8
#: Two rows of one snapshot (a person keyed twice) link only from this probability up, and only when
#: their names are not evidence of two people (ward.identity.names): twins and namesakes share a
#: household or a name and score high on everything else.
SAME_SNAPSHOT_LINK_THRESHOLD = 0.9
#: A record of one snapshot that links to two ID persons of it joins neither unless its best link's
#: match weight beats the second's by this many bits (2^5 = 32 times the odds): two brothers of one
#: name in one household, the copy carrying one's birth date, is no guess (seen on a 60k ward).
AMBIGUITY_MARGIN_BITS = 5.0
#: Pairs between this and LINK_THRESHOLD are not linked but listed in identity.review_pairs.
REVIEW_THRESHOLD = 0.3
#: ... unless the record without ID in the pair is already linked at least this surely (and more
#: surely than the pair): no review of a row linked to its own ID at 0.9999 against its brother.
REVIEW_UNLESS_LINKED_AT = 0.99
#: Pairs are predicted down to this probability (below, nothing is kept).
PREDICT_FLOOR = REVIEW_THRESHOLD

#: match_confidence of a row by how it was resolved.
CONFIDENCE_CITIZEN_ID = 1.0  # the row carries the valid 12-digit ID itself
CONFIDENCE_LEGACY_ID = 0.99  # the row's 9-digit CMND is carried beside one 12-digit ID elsewhere
CONFIDENCE_EXACT = 0.9  # fallback (too little data to train): exact name, dob, sex, household
CONFIDENCE_EXACT_SWAPPED = 0.85  # the same with the birth date's day and month swapped
CONFIDENCE_UNMATCHED = 0.5  # no usable ID and nothing matched: the person is this row alone
# A probabilistic link's confidence is the link's own match probability (>= LINK_THRESHOLD).

#: Below this many unsettled records (no usable 12-digit ID) the model is not trained: records
#: link only on exact folded name + date of birth (or day/month swapped) + sex + household (the
#: report says so). From 20 up, the model's priors carry it where training data is thin
#: (linkage._shrink_to_priors): a small ward's copies keyed with a typo still link (43 unsettled
#: records of a 1,500-person ward: exact matching missed 1 copy in 24, splink none).
MIN_UNSETTLED_TO_TRAIN = 20

# ---------------------------------------------------------------------------------------------
# Training.
# ---------------------------------------------------------------------------------------------

SEED = 20260101
#: u-estimation: random pairs sampled (with SEED) from all records.
U_MAX_PAIRS = 1e6
#: EM: at most this many blocked pairs per session (splink samples by a hash: deterministic).
EM_MAX_PAIRS = 1e6
#: EM blockings: the first learns the names' m (dates agree), the second the date's and the rest.
#: Only pairs with an unsettled side, as in prediction: pairs of two profiles of one ID differ by
#: construction (that is why they are two profiles) and would teach EM that the same person's
#: date of birth or household often differs.
EM_BLOCKING_RULES = (
    "l.dob_text = r.dob_text and (not l.settled or not r.settled)",
    "l.surname = r.surname and l.given_name = r.given_name and (not l.settled or not r.settled)",
)
#: Weight of the prior m probabilities against the trained ones, in matches (see linkage.py).
PRIOR_PSEUDO_MATCHES = 50
#: Prior: expected true partners of an unsettled record among all records (see linkage.py).
EXPECTED_PARTNERS_PER_UNSETTLED = 1.0

# ---------------------------------------------------------------------------------------------
# Blocking.
# ---------------------------------------------------------------------------------------------

#: At least one side is not settled by an ID: the residual condition of every rule.
NOT_BOTH_SETTLED = "(not l.settled or not r.settled)"

BLOCKING_KEYS: tuple[str, ...] = (
    "l.household_id = r.household_id",
    "l.surname = r.surname and l.given_name = r.given_name",
    "l.given_name = r.surname",
    "l.surname = r.given_name",
    "l.dob_block = r.dob_block",
    "l.phone = r.phone",
    "l.given_name = r.given_name and l.birth_year = r.birth_year",
)


def blocking_rules(columns: set[str]) -> list[str]:
    """The prediction blocking rules whose columns the data carries (see module docstring)."""
    needs = {
        0: {"household_id"},
        1: {"surname", "given_name"},
        2: {"surname", "given_name"},
        3: {"surname", "given_name"},
        4: {"dob_text"},
        5: {"phone"},
        6: {"given_name", "dob_text"},
    }
    return [f"{key} and {NOT_BOTH_SETTLED}" for i, key in enumerate(BLOCKING_KEYS) if needs[i] <= columns]


# ---------------------------------------------------------------------------------------------
# Comparisons.
# ---------------------------------------------------------------------------------------------


def _null(column: str) -> dict[str, Any]:
    return {
        "sql_condition": f"{column}_l is null or {column}_r is null",
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _level(sql: str, label: str, m: float, u: float, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label, "m_probability": m}
    level["u_probability"] = u
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _else(m: float, u: float) -> dict[str, Any]:
    return {"sql_condition": "else", "label_for_charts": "else", "m_probability": m, "u_probability": u}


def _hamming(column: str) -> str:
    """Digits that differ, for strings of one length (hamming() raises on unequal lengths; CASE is
    the only guard DuckDB evaluates lazily). Far cheaper than damerau_levenshtein (2 s per million
    pairs on this machine, against 0.03 s)."""
    same_length = f"length({column}_l) = length({column}_r)"
    return f"(case when {same_length} then hamming({column}_l, {column}_r) else 99 end)"


def _name(column: str, other: str | None) -> dict[str, Any]:
    levels = [
        _null(column),
        _level(f"{column}_l = {column}_r", "exact", 0.88, 0.02, tf=column),
        _level(f"levenshtein({column}_l, {column}_r) <= 1", "one edit", 0.05, 0.002),
        _level(f"jaro_winkler_similarity({column}_l, {column}_r) >= 0.92", "jw 0.92", 0.03, 0.005),
    ]
    if other:  # the fields crossed: Febrl swaps given name and surname (typos on top)
        crossed = (
            f"jaro_winkler_similarity({column}_l, {other}_r) >= 0.9"
            f" or jaro_winkler_similarity({other}_l, {column}_r) >= 0.9"
        )
        levels.append(_level(crossed, "crossed with " + other, 0.01, 1e-4))
    levels += [
        _level(f"jaro_winkler_similarity({column}_l, {column}_r) >= 0.80", "jw 0.80", 0.02, 0.05),
        _else(0.01, 0.92),
    ]
    return {"output_column_name": column, "comparison_levels": levels}


def _dob() -> dict[str, Any]:
    both_day = "dob_precision_l = 'day' and dob_precision_r = 'day'"
    swapped = (
        f"{both_day} and substr(dob_text_l, 1, 4) = substr(dob_text_r, 1, 4)"
        " and substr(dob_text_l, 5, 2) = substr(dob_text_r, 7, 2)"
        " and substr(dob_text_l, 7, 2) = substr(dob_text_r, 5, 2)"
    )
    partial = (
        "((dob_precision_l = 'year' or dob_precision_r = 'year')"
        " and substr(dob_text_l, 1, 4) = substr(dob_text_r, 1, 4))"
        " or ((dob_precision_l = 'month' or dob_precision_r = 'month')"
        " and substr(dob_text_l, 1, 6) = substr(dob_text_r, 1, 6))"
    )
    return {
        "output_column_name": "dob",
        "comparison_levels": [
            _null("dob_text"),
            _level(f"{both_day} and dob_text_l = dob_text_r", "exact", 0.9, 0.0001),
            _level(swapped, "day and month swapped", 0.02, 0.00001),
            _level(partial, "partial date compatible", 0.02, 0.005),
            _level(f"{both_day} and {_hamming('dob_text')} <= 1", "one digit", 0.03, 0.001),
            _level("substr(dob_text_l, 1, 4) = substr(dob_text_r, 1, 4)", "same year", 0.01, 0.012),
            _else(0.02, 0.98),
        ],
    }


def _exact(column: str, m: float, u: float, tf: bool = False) -> dict[str, Any]:
    return {
        "output_column_name": column,
        "comparison_levels": [
            _null(column),
            _level(f"{column}_l = {column}_r", "exact", m, u, tf=column if tf else None),
            _else(1 - m, 1 - u),
        ],
    }


def _phone() -> dict[str, Any]:
    return {
        "output_column_name": "phone",
        "comparison_levels": [
            _null("phone"),
            _level("phone_l = phone_r", "exact", 0.85, 0.0001),
            _level(f"{_hamming('phone')} <= 1", "one digit", 0.07, 0.0005),
            _level(f"{_hamming('phone')} <= 2", "two digits", 0.03, 0.002),
            _else(0.05, 0.9974),
        ],
    }


def comparisons(columns: set[str]) -> list[dict[str, Any]]:
    """The comparisons for the columns the data carries (a column that is null everywhere, like sex
    in Febrl, is left out: it could be neither trained nor used)."""
    out: list[dict[str, Any]] = []
    if "surname" in columns:
        out.append(_name("surname", None))
    if "given_name" in columns:
        out.append(_name("given_name", "surname" if "surname" in columns else None))
    if "dob_text" in columns:
        out.append(_dob())
    if "sex" in columns:
        out.append(_exact("sex", 0.98, 0.5))
    if "household_id" in columns or "area" in columns:
        out.append(_address(columns))
    if "phone" in columns:
        out.append(_phone())
    return out


def _address(columns: set[str]) -> dict[str, Any]:
    has_household, has_area = "household_id" in columns, "area" in columns
    nulls = [f"({c}_l is null or {c}_r is null)" for c in ("household_id", "area") if c in columns]
    levels = [{"sql_condition": " and ".join(nulls), "label_for_charts": "null", "is_null_level": True}]
    if has_household:
        levels.append(
            _level("household_id_l = household_id_r", "same household", 0.85, 0.0001, tf="household_id")
        )
    if has_area:
        levels.append(_level("area_l = area_r", "same area", 0.1, 0.03, tf="area"))
    levels.append(_else(0.05, 0.97))
    return {"output_column_name": "address", "comparison_levels": levels}


def build_settings(columns: set[str], probability_two_random_records_match: float) -> SettingsCreator:
    """Splink settings for a dedupe of the record table (two different anchors are kept apart by
    the clustering, not by splink)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(columns),
        blocking_rules_to_generate_predictions=blocking_rules(columns),
        probability_two_random_records_match=probability_two_random_records_match,
        additional_columns_to_retain=["settled", "anchor"],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        em_convergence=0.001,
        max_iterations=25,
    )
