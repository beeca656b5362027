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
  sharing "luu" strong), then typo levels (Damerau-Levenshtein 1, Jaro-Winkler 0.92 / 0.80).
  given_name also has a "fields swapped" level (Febrl swaps given name and surname).
- dob: exact day; day and month swapped (dd/mm vs mm/dd written by Excel); compatible partial dates
  (a `yyyy` or `mm/yyyy` birth date agrees with a full date of that year / month); one-character typo;
  same year. A partial date is stored as the first day of its period, so `dob_text` alone would
  call 1985 (= 19850101) and 01/01/1985 equal: the precision decides the level.
- sex: exact or not. A mismatch is strong evidence against (the ID even encodes it).
- household_id: exact, term-frequency adjusted (a household code shared by 12 people is weaker
  than one shared by 2). No fuzzy level: codes that differ by a digit are different households.
- phone: exact, then one or two keyed-in digit errors (also the Febrl soc_sec_id).
- area: the residential group (Febrl: postcode), exact, term-frequency adjusted; weak evidence.
Each level carries prior m/u probabilities (domain guesses) so that a model that could not be
trained still scores sensibly; training replaces them: u by random sampling (fixed seed), m by
expectation-maximisation on two blockings that each leave the other fields free to be learnt.

Why these blocking rules
Only records whose identity is not settled by a 12-digit ID need linking (about 1 % of a
snapshot), so every rule also requires at least one side to be unsettled: pairs of two ID
records are never formed. Each rule is an equi-join, so DuckDB hash-joins it; the candidate pairs
are then the union of:
- same household (a person re-listed without ID stays in their household),
- same full name (moved household, phone changed),
- names swapped between the two fields (Febrl),
- same birth date with day and month in either order (name typos; only exact dates: a partial date
  would put everyone born "1985" in one block),
- same phone,
- same given name (middle + given) and birth year (surname typo, new household).
"""

from __future__ import annotations

from typing import Any

from splink import SettingsCreator, block_on

# ---------------------------------------------------------------------------------------------
# Thresholds and confidences (documented in ward/identity/README.md).
# ---------------------------------------------------------------------------------------------

#: A scored pair at or above this probability links two records (subject to the rule that a
#: person holds at most one 12-digit ID and at most one CMND). Chosen from the benchmark and the
#: synthetic ward (bench/results/linkage.json): F1 is flat between 0.5 and 0.95; 0.8 leaves a
#: margin against false merges, which are worse here than a missed link (a missed link leaves a
#: person counted twice in a review list; a false merge hides a resident).
LINK_THRESHOLD = 0.8
#: Pairs between this and LINK_THRESHOLD are not linked but listed in identity.review_pairs.
REVIEW_THRESHOLD = 0.3
#: Pairs are predicted down to this probability (below, nothing is kept).
PREDICT_FLOOR = REVIEW_THRESHOLD

#: match_confidence of a row by how it was resolved.
CONFIDENCE_CITIZEN_ID = 1.0  # the row carries the valid 12-digit ID itself
CONFIDENCE_LEGACY_ID = 0.99  # the row's 9-digit CMND is carried beside one 12-digit ID elsewhere
CONFIDENCE_EXACT = 0.9  # fallback (too little data to train): exact name, dob, sex, household
CONFIDENCE_UNMATCHED = 0.5  # no usable ID and nothing matched: the person is this row alone
# A probabilistic link's confidence is the link's own match probability (>= LINK_THRESHOLD).

#: Below this many unsettled records (no usable 12-digit ID) the model is not trained: records
#: link only on exact folded name + date of birth + sex + household (the report says so).
MIN_UNSETTLED_TO_TRAIN = 50

# ---------------------------------------------------------------------------------------------
# Training.
# ---------------------------------------------------------------------------------------------

SEED = 20260101
#: u-estimation: random pairs sampled (with SEED) from all records.
U_MAX_PAIRS = 1e6
#: EM: at most this many blocked pairs per session (splink samples by a hash: deterministic).
EM_MAX_PAIRS = 1e6
#: EM blockings: the first learns the names' m (dates agree), the second the date's and the rest.
EM_BLOCKING_RULES = (
    block_on("dob_text"),
    block_on("surname", "given_name"),
)
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
    "l.given_name = r.surname and l.surname = r.given_name",
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
        3: {"dob_text"},
        4: {"phone"},
        5: {"given_name", "dob_text"},
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
    return f"(case when length({column}_l) = length({column}_r) then hamming({column}_l, {column}_r) else 99 end)"


def _name(column: str, other: str | None) -> dict[str, Any]:
    levels = [
        _null(column),
        _level(f"{column}_l = {column}_r", "exact", 0.88, 0.02, tf=column),
        _level(f"levenshtein({column}_l, {column}_r) <= 1", "one edit", 0.05, 0.002),
        _level(f"jaro_winkler_similarity({column}_l, {column}_r) >= 0.92", "jw 0.92", 0.03, 0.005),
    ]
    if other:
        levels.append(
            _level(f"{column}_l = {other}_r and {other}_l = {column}_r", "swapped with " + other, 0.01, 1e-5)
        )
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
    if "household_id" in columns:
        out.append(_exact("household_id", 0.85, 0.001, tf=True))
    if "phone" in columns:
        out.append(_phone())
    if "area" in columns:
        out.append(_exact("area", 0.9, 0.05, tf=True))
    return out


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
