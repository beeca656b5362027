"""The clean ward: people, households, relations, and what changes between the two snapshots.

Everything here is the truth before any dirt: names as the name lists write them (`raw_name`) and as
a cleaner must make them (`full_name`), exact or partial birth dates, 12-digit IDs consistent with
birth year, sex and birth province (reference/README.md), one head (Chủ hộ) per household who is
always a living resident, and two snapshots one month apart:

snapshot 2 = snapshot 1 + births + people moving in (new households and single persons joining one)
             - people moving out (whole households and single persons)
             with deaths (date_of_death between the snapshots, the person still listed), a few
             people changing household and a few changing residence type.

Heads never die, move, change household or become Tạm vắng, so every household of a snapshot has
exactly one head who is a member. Vectorised with numpy/polars: no per-person Python loop (but for
the few planted pairs below).

Planted pairs of different persons that look alike (both persons listed in every snapshot, no event):
- twins (`Ward.twins`, truth/twins.csv): two children (Con) of one household with the same surname,
  birth date (day precision), sex and residence type, and given names that differ even without
  diacritics (`Hùng`/`Hưng` never); TWIN_PAIRS of the persons as pairs, at least 3 pairs;
- namesakes (`Ward.namesakes`, planted; truth/namesakes.csv lists these and every chance pair): two
  persons of one residential group with the same full name and sex, in different households, born
  on different days; NAMESAKE_PAIRS of the persons as pairs, at least 3 pairs.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from ward.generate.reference import (
    ETHNIC_WEIGHTS,
    HOME_PROVINCE_WEIGHTS,
    MOBILE_PREFIXES,
    RELIGION_WEIGHTS,
    TEMPORARY_PROVINCE_WEIGHTS,
    Reference,
    load_reference,
)
from ward.generate.rng import count_for, pick, stream, weighted_pick
from ward.generate.text import clean_name, strip_diacritics
from ward.settings import WARD_CODE
from ward.sources import HOUSEHOLD_TYPES, MARITAL_STATUSES, RELATIONS

(CHU_HO, VO, CHONG, CON, BO, ME, ONG, BA, CHAU, ANH, CHI, EM, CON_DAU, CON_RE, KHAC) = range(15)
assert RELATIONS[CON_RE] == "Con rể" and RELATIONS[KHAC] == "Khác"

THUONG_TRU, TAM_TRU, TAM_VANG = 0, 1, 2
RESIDENCE_CODES = ("thuong_tru", "tam_tru", "tam_vang")
RESIDENCE_WORDS = ("Thường trú", "Tạm trú", "Tạm vắng")

HOUSEHOLD_SIZE_P = np.array([0.13, 0.21, 0.23, 0.24, 0.11, 0.05, 0.03])  # sizes 1..7, mean ≈ 3.3
HOUSEHOLD_TYPE_P = np.array([0.90, 0.02, 0.03, 0.05])  # HOUSEHOLD_TYPES order
TEMPORARY_HOUSEHOLD_SHARE = 0.11  # whole households of Tạm trú (renters, workers)
TEMPORARY_PERSON_SHARE = 0.01  # Tạm trú people in Thường trú households
ABSENT_SHARE = 0.03  # Tạm vắng
DEAD_LISTED_SHARE = 0.005  # dead before snapshot 1, still listed
PARTIAL_DOB_ELDERLY, PARTIAL_DOB_OTHERS = 0.11, 0.003  # partial birth dates (≈1% overall)
PHONE_SHARE_ADULTS = 0.70
LEGACY_ID_SHARE_ADULTS = 0.05
# Monthly movements between the snapshots (shares of people or households).
MONTHLY_DEATHS, MONTHLY_BIRTHS = 0.0006, 0.0011
MOVING_OUT_HOUSEHOLDS, ARRIVING_HOUSEHOLDS = 0.004, 0.005
MOVING_OUT_PERSONS, JOINING_PERSONS, CHANGING_HOUSEHOLD, CHANGING_RESIDENCE = 0.002, 0.001, 0.001, 0.002
OLDEST_BIRTH = date(1925, 1, 1)
TWIN_PAIRS, NAMESAKE_PAIRS = 0.003, 0.001  # pairs per person of snapshot 1 (at least 3 of each)
# Relations whose surname no one else in the household takes (a namesake's surname may change).
OWN_SURNAME = (VO, CON_DAU, CON_RE, KHAC, ME, BA, ONG)


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def household_id(number: int) -> str:
    return f"HGD-{WARD_CODE}-{number:06d}"


@dataclass(frozen=True)
class Ward:
    snapshot_dates: tuple[date, date]
    persons: pl.DataFrame  # one row per person ever listed, state per snapshot (suffix _1, _2)
    households: pl.DataFrame  # one row per household ever listed
    groups: list[int]
    twins: np.ndarray  # (k, 2) person_seq of planted twin pairs
    namesakes: np.ndarray  # (k, 2) person_seq of planted namesake pairs


# ------------------------------------------------------------------------------------------ helpers
def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _to_date(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int64)).cast(pl.Int32).cast(pl.Date)


def _draw_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of `probs` (n × k, rows summing to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _digits(prefix, numbers: np.ndarray, width: int, present: np.ndarray) -> pl.Series:
    """prefix + zero-padded numbers as text, null where not `present`."""
    text = pl.Series(numbers).cast(pl.String).str.zfill(width)
    text = prefix + text
    return text.zip_with(
        pl.Series(present), pl.Series([None], dtype=pl.String).gather(np.zeros(len(numbers), np.int64))
    )


def _choice(rng: np.random.Generator, items, weights, size: int) -> pl.Series:
    w = np.asarray(weights, dtype=float)
    return pl.Series(list(items), dtype=pl.String).gather(rng.choice(len(w), size=size, p=w / w.sum()))


# ------------------------------------------------------------------------------------------ households
def _household_sizes(rng: np.random.Generator, people: int) -> np.ndarray:
    estimate = int(people / 3.0) + 16
    sizes = rng.choice(np.arange(1, 8), size=estimate, p=HOUSEHOLD_SIZE_P)
    cum = np.cumsum(sizes)
    n = int(np.searchsorted(cum, people)) + 1
    sizes = sizes[:n].copy()
    sizes[-1] -= int(cum[n - 1]) - people
    return sizes


@dataclass
class _Members:
    hh: np.ndarray
    relation: np.ndarray
    female: np.ndarray
    age: np.ndarray


def _members(rng: np.random.Generator, sizes: np.ndarray) -> _Members:
    """Relations, sexes and ages (whole years at snapshot 1) of every member of every household."""
    n_h = len(sizes)
    single = sizes == 1
    head_female = rng.random(n_h) < np.where(single, 0.55, 0.28)
    head_age = np.where(
        single,
        np.where(rng.random(n_h) < 0.55, rng.normal(72, 9, n_h), rng.normal(32, 7, n_h)),
        rng.normal(47, 13, n_h),
    )
    head_age = np.clip(np.rint(head_age), 20, 98).astype(np.int64)
    hh = np.repeat(np.arange(n_h), sizes)
    n = len(hh)
    slot = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    ha, hf = head_age[hh], head_female[hh]
    u = rng.random((n, 4))

    rel = np.full(n, -1, dtype=np.int64)
    female = rng.random(n) < 0.49
    age = np.zeros(n, dtype=np.int64)
    rel[slot == 0], female[slot == 0], age[slot == 0] = CHU_HO, hf[slot == 0], ha[slot == 0]
    spouse = (slot == 1) & (u[:, 0] < 0.78)
    rel[spouse] = np.where(hf[spouse], CHONG, VO)
    female[spouse] = ~hf[spouse]
    age[spouse] = np.maximum(
        18, np.rint(ha[spouse] + rng.normal(0, 4, spouse.sum()) + np.where(hf[spouse], 3, -3))
    )

    # Other members by category: 0 child, 1 grandchild, 2 parent, 3 in-law, 4 sibling, 5 other.
    cat = np.where(
        slot == 1,
        rng.choice(6, size=n, p=[0.55, 0.05, 0.20, 0.0, 0.12, 0.08]),
        rng.choice(6, size=n, p=[0.72, 0.08, 0.07, 0.05, 0.04, 0.04]),
    )
    other = rel < 0
    cat[other & (cat == 1) & (ha < 45)] = 0
    cat[other & (cat == 2) & (ha > 75)] = 0
    inlaw_age = np.rint(ha - 20 - u[:, 1] * 15)
    cat[other & (cat == 3) & (inlaw_age < 18)] = 0

    m = other & (cat == 0)
    age[m] = np.rint(ha[m] - (18 + u[m, 1] * (np.minimum(44, ha[m]) - 18)))
    rel[m] = CON
    m = other & (cat == 1)
    age[m] = np.maximum(0, np.rint(ha[m] - 40 - u[m, 1] * (np.minimum(75, ha[m]) - 40)))
    rel[m] = CHAU
    m = other & (cat == 2)
    grand = m & (ha < 30) & (u[:, 2] < 0.3)
    parent = m & ~grand
    female[m] = u[m, 3] < 0.6
    age[parent] = np.minimum(100, np.rint(ha[parent] + 20 + u[parent, 1] * 15))
    age[grand] = np.minimum(100, np.rint(ha[grand] + 45 + u[grand, 1] * 15))
    rel[parent] = np.where(female[parent], ME, BO)
    rel[grand] = np.where(female[grand], BA, ONG)
    m = other & (cat == 3)
    female[m] = u[m, 3] < 0.75
    age[m] = inlaw_age[m]
    rel[m] = np.where(female[m], CON_DAU, CON_RE)
    m = other & (cat == 4)
    age[m] = np.clip(ha[m] + np.rint((u[m, 1] - 0.5) * 24), 1, 100)
    rel[m] = np.where(age[m] > ha[m], np.where(female[m], CHI, ANH), EM)
    m = other & (cat == 5)
    age[m] = np.rint(5 + u[m, 1] * 75)
    rel[m] = KHAC
    return _Members(hh=hh, relation=rel, female=female, age=age.astype(np.int64))


def _marital(
    rng: np.random.Generator, rel: np.ndarray, age: np.ndarray, has_spouse: np.ndarray
) -> np.ndarray:
    """Index into MARITAL_STATUSES (Chưa kết hôn, Đã kết hôn, Ly hôn, Góa)."""
    n = len(rel)
    p = np.tile([0.15, 0.65, 0.12, 0.08], (n, 1))
    young, mid = age < 25, (age >= 25) & (age <= 40)
    p[young] = [0.9, 0.1, 0.0, 0.0]
    p[mid] = [0.45, 0.45, 0.1, 0.0]
    head_alone = (rel == CHU_HO) & ~has_spouse
    p[head_alone & (age > 55)] = [0.15, 0.10, 0.15, 0.60]
    p[head_alone & (age <= 55)] = [0.60, 0.15, 0.25, 0.0]
    p[np.isin(rel, [BO, ME, ONG, BA])] = [0.0, 0.55, 0.0, 0.45]
    p[np.isin(rel, [VO, CHONG, CON_DAU, CON_RE]) | ((rel == CHU_HO) & has_spouse)] = [0, 1, 0, 0]
    p[age < 18] = [1, 0, 0, 0]
    return _draw_rows(rng, p)


# ------------------------------------------------------------------------------------------ the ward
def build_ward(people: int, groups: int, seed: int, start: date) -> Ward:
    ref = load_reference()
    if not 1 <= groups <= len(ref.group_numbers):
        raise ValueError(f"groups must be between 1 and {len(ref.group_numbers)} (the ward's list)")
    if people < 100:
        raise ValueError("people must be at least 100")
    rng = stream(seed, "population")
    second = add_months(start, 1)
    d1, d2 = _days(start), _days(second)
    group_numbers = ref.group_numbers[:groups]

    # Households: the ward of snapshot 1 (exactly `people` persons) plus households arriving later.
    sizes = _household_sizes(rng, people)
    arriving_sizes = rng.choice(
        np.arange(1, 8), size=count_for(ARRIVING_HOUSEHOLDS, len(sizes)), p=HOUSEHOLD_SIZE_P
    )
    sizes = np.concatenate([sizes, arriving_sizes])
    arriving = np.concatenate(
        [np.zeros(len(sizes) - len(arriving_sizes), bool), np.ones(len(arriving_sizes), bool)]
    )
    group_weights = rng.uniform(0.5, 1.5, groups)
    group = np.asarray(group_numbers)[
        rng.choice(groups, size=len(sizes), p=group_weights / group_weights.sum())
    ]
    order = np.lexsort((group, arriving))  # numbered by group; arrivals get the newest numbers
    sizes, arriving, group = sizes[order], arriving[order], group[order]
    n_h = len(sizes)
    temporary_h = rng.random(n_h) < np.where(arriving, 0.4, TEMPORARY_HOUSEHOLD_SHARE)
    households = _household_frame(rng, ref, n_h, group, temporary_h)

    members = _members(rng, sizes)
    base_n = len(members.hh)
    hh, rel, female, age = members.hh, members.relation, members.female, members.age
    head_of = np.flatnonzero(rel == CHU_HO)  # one per household, in household order
    assert len(head_of) == n_h

    # Snapshot 2 events on households.
    moving_out_h = np.zeros(n_h, bool)
    moving_out_h[
        weighted_pick(rng, ~arriving, np.where(temporary_h, 3.0, 1.0), count_for(MOVING_OUT_HOUSEHOLDS, n_h))
    ] = True
    stable_h = ~arriving & ~moving_out_h

    # Single persons joining a household in snapshot 2.
    n_join = count_for(JOINING_PERSONS, people)
    join_hh = rng.choice(np.flatnonzero(stable_h), size=n_join)
    join_kind = rng.choice(3, size=n_join, p=[0.6, 0.3, 0.1])
    join_rel = np.array([KHAC, CON_DAU, CON_RE])[join_kind]
    join_female = np.where(join_kind == 0, rng.random(n_join) < 0.5, join_kind == 1)
    join_age = np.where(join_kind == 0, rng.integers(18, 61, n_join), rng.integers(20, 36, n_join))

    # Persons so far: members of every household, then joiners. Births come later (dates known).
    hh = np.concatenate([hh, join_hh])
    rel = np.concatenate([rel, join_rel])
    female = np.concatenate([female, join_female])
    age = np.concatenate([age, join_age])
    n = len(hh)
    joiner = np.arange(n) >= base_n
    in1 = ~arriving[hh] & ~joiner
    is_head = rel == CHU_HO

    # Birth dates (exact), then partial for some, mostly elderly.
    birthday = d1 - np.rint(age * 365.2425).astype(np.int64)
    dob = np.maximum(birthday - rng.integers(1, 365, n), _days(OLDEST_BIRTH))

    # Snapshot 1 residence types.
    rt1 = np.where(temporary_h[hh], TAM_TRU, THUONG_TRU)
    eligible = ~is_head & (rt1 == THUONG_TRU) & (age >= 18)
    rt1[pick(rng, eligible, count_for(TEMPORARY_PERSON_SHARE, n))] = TAM_TRU
    eligible = ~is_head & (rt1 == THUONG_TRU) & (age >= 16) & (age <= 60) & in1
    rt1[pick(rng, eligible, count_for(ABSENT_SHARE, int(in1.sum())))] = TAM_VANG

    # Dead before snapshot 1, still listed (never heads).
    dod = np.full(n, -1, dtype=np.int64)
    age_weight = np.exp((np.minimum(age, 100) - 70) / 8.0)
    dead1 = weighted_pick(rng, in1 & ~is_head, age_weight, count_for(DEAD_LISTED_SHARE, people))
    dod[dead1] = np.maximum(d1 - rng.integers(1, 400, len(dead1)), dob[dead1] + 1)
    dod[dead1] = np.minimum(dod[dead1], d1 - 1)

    # Snapshot 2 events on persons; each person at most one event; heads never.
    changed = is_head | (dod >= 0) | moving_out_h[hh] | ~in1
    in2 = ~moving_out_h[hh]
    hh2, rel2, rt2 = hh.copy(), rel.copy(), rt1.copy()
    change_day = np.full(n, -1, dtype=np.int64)

    def event(mask: np.ndarray, count: int, weights: np.ndarray | None = None) -> np.ndarray:
        chosen = (
            pick(rng, mask & ~changed, count)
            if weights is None
            else weighted_pick(rng, mask & ~changed, weights, count)
        )
        changed[chosen] = True
        change_day[chosen] = rng.integers(d1 + 1, d2 + 1, len(chosen))
        return chosen

    died = event(np.ones(n, bool), count_for(MONTHLY_DEATHS, people, 2), age_weight)
    dod[died] = change_day[died]
    left = event((age >= 18) & (age <= 45), count_for(MOVING_OUT_PERSONS, people))
    in2[left] = False
    movers = event(age >= 18, count_for(CHANGING_HOUSEHOLD, people))
    stable_idx = np.flatnonzero(stable_h)
    if len(stable_idx) > 1:
        dest = stable_idx[rng.integers(0, len(stable_idx), len(movers))]
        same = dest == hh[movers]
        dest[same] = stable_idx[(np.searchsorted(stable_idx, dest[same]) + 1) % len(stable_idx)]
        hh2[movers], rel2[movers] = dest, KHAC
        rt2[movers] = np.where(temporary_h[dest], TAM_TRU, THUONG_TRU)
    n_rt = count_for(CHANGING_RESIDENCE, people, 3)
    to_absent = event((rt1 == THUONG_TRU) & (age >= 16) & (age <= 60) & ~temporary_h[hh], (n_rt + 1) // 2)
    rt2[to_absent] = TAM_VANG
    back = event(rt1 == TAM_VANG, max(1, n_rt // 4))
    rt2[back] = THUONG_TRU
    settled = event(rt1 == TAM_TRU, max(1, n_rt // 4))
    rt2[settled] = THUONG_TRU
    change_day[joiner] = rng.integers(d1 + 1, d2 + 1, n_join)
    rt2[joiner] = np.where(
        temporary_h[join_hh], TAM_TRU, np.where(rng.random(n_join) < 0.5, TAM_TRU, THUONG_TRU)
    )
    arrivals = arriving[hh]
    change_day[arrivals] = rng.integers(d1 + 1, d2 + 1, int(arrivals.sum()))

    # Births between the snapshots, to a mother who is a living resident of a stable household.
    mothers = (
        female
        & np.isin(rel, [CHU_HO, VO, CON_DAU])
        & (age >= 20)
        & (age <= 42)
        & in1
        & in2
        & (dod < 0)
        & (rt1 != TAM_VANG)
        & (rt2 != TAM_VANG)
        & (hh2 == hh)
        & stable_h[hh]
    )
    mother = pick(rng, mothers, count_for(MONTHLY_BIRTHS, people, 2))
    n_b = len(mother)
    b_day = rng.integers(d1 + 1, d2 + 1, n_b)

    # Names: a household's children carry the father's surname.
    surname = rng.choice(len(ref.surnames), size=n, p=ref.surname_p)
    paternal = surname[head_of].copy()
    husbands = np.flatnonzero(rel[:base_n] == CHONG)
    paternal[hh[husbands]] = surname[husbands]
    takes_paternal = np.isin(rel, [CON, CHAU])
    surname[takes_paternal] = paternal[hh[takes_paternal]]
    takes_head = np.isin(rel, [BO, ANH, CHI, EM])
    surname[takes_head] = surname[head_of[hh[takes_head]]]

    # Append births.
    b_female = rng.random(n_b) < 0.48
    hh = np.concatenate([hh, hh[mother]])
    b_rel = np.where(rel[mother] == CON_DAU, CHAU, CON)
    rel = np.concatenate([rel, b_rel])
    hh2 = np.concatenate([hh2, hh[-n_b:] if n_b else np.empty(0, np.int64)])
    rel2 = np.concatenate([rel2, b_rel])
    female = np.concatenate([female, b_female])
    age = np.concatenate([age, np.zeros(n_b, np.int64)])
    dob = np.concatenate([dob, b_day])
    rt1 = np.concatenate([rt1, rt2[mother]])
    rt2 = np.concatenate([rt2, rt2[mother]])
    dod = np.concatenate([dod, np.full(n_b, -1)])
    in1 = np.concatenate([in1, np.zeros(n_b, bool)])
    in2 = np.concatenate([in2, np.ones(n_b, bool)])
    change_day = np.concatenate([change_day, b_day])
    surname = np.concatenate([surname, paternal[hh[mother]]])
    born = np.concatenate([np.zeros(n, bool), np.ones(n_b, bool)])
    joiner = np.concatenate([joiner, np.zeros(n_b, bool)])
    n = len(hh)

    # Twins: a second child (Con) of a household made the twin of a first one (both listed in both
    # snapshots with no event). The draws come from their own stream: the rest of the ward is as before.
    n0 = len(changed)  # persons before the births
    stable = np.zeros(n, bool)
    stable[:n0] = ~changed & in1[:n0] & in2[:n0] & (hh2[:n0] == hh[:n0]) & (dod[:n0] < 0)
    twins = _twin_pairs(stream(seed, "twins"), stable & (rel == CON), hh, count_for(TWIN_PAIRS, people, 3))
    a, b = twins[:, 0], twins[:, 1]
    dob[b], age[b], female[b], surname[b] = dob[a], age[a], female[a], surname[a]
    rt1[b], rt2[b] = rt1[a], rt2[a]
    twin = np.zeros(n, bool)
    twin[twins.ravel()] = True

    # Partial birth dates: the clean date is the first day of the period.
    precision = np.zeros(n, dtype=np.int64)  # 0 day, 1 month, 2 year
    partial = (rng.random(n) < np.where(age >= 70, PARTIAL_DOB_ELDERLY, PARTIAL_DOB_OTHERS)) & ~born
    partial &= ~twin
    year_only = partial & (rng.random(n) < 0.6)
    month_only = partial & ~year_only
    dob_dt = dob.astype("datetime64[D]")
    dob_year_start = dob_dt.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    dob_month_start = dob_dt.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    dob = np.where(year_only, dob_year_start, np.where(month_only, dob_month_start, dob))
    precision[year_only], precision[month_only] = 2, 1
    birth_year = dob.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970

    # IDs: PPP G YY NNNNNN, unique.
    p_home = ref.province_p(HOME_PROVINCE_WEIGHTS)
    p_temp = ref.province_p(TEMPORARY_PROVINCE_WEIGHTS, rest=10.0)
    temp_person = (rt1 == TAM_TRU) | temporary_h[hh]
    province = np.where(
        temp_person,
        rng.choice(len(ref.province_codes), size=n, p=p_temp),
        rng.choice(len(ref.province_codes), size=n, p=p_home),
    )  # index into ref.province_codes
    province[born] = ref.province_codes.index("031")
    province[twins[:, 1]] = province[twins[:, 0]]  # twins were registered at one birth place
    province_code = np.asarray(ref.province_codes, dtype=np.int64)[province]
    citizen_id = _unique_ids(rng, province_code, birth_year, female)

    # Optional identifiers and phones, built as polars columns (no Python object per person).
    adult = age >= 18
    has_legacy = (age >= 25) & (rng.random(n) < LEGACY_ID_SHARE_ADULTS)
    legacy = _digits("03", rng.integers(0, 10**7, n), 7, has_legacy)
    has_phone = adult & (rng.random(n) < PHONE_SHARE_ADULTS)
    prefix = pl.Series(MOBILE_PREFIXES).gather(rng.integers(0, len(MOBILE_PREFIXES), n))
    phone = _digits(prefix, rng.integers(0, 10**7, n), 7, has_phone)

    given_m = rng.integers(0, len(ref.given_male), n)
    given_f = rng.integers(0, len(ref.given_female), n)
    _distinct_twin_names(stream(seed, "twin-names"), twins, female, given_m, given_f, ref)
    given = (
        pl.Series(ref.given_female)
        .gather(given_f)
        .zip_with(pl.Series(female), pl.Series(ref.given_male).gather(given_m))
    )
    raw_name = pl.Series(ref.surnames).gather(surname) + " " + given
    group_of = households["residential_group_no"].to_numpy()[hh]
    namesakes = _namesake_pairs(
        stream(seed, "namesakes"),
        stable & ~twin,
        np.isin(rel, OWN_SURNAME),
        hh,
        group_of,
        female,
        dob,
        count_for(NAMESAKE_PAIRS, people, 3),
    )
    if len(namesakes):
        raw_name = raw_name.scatter(namesakes[:, 1], raw_name.gather(namesakes[:, 0]))
    has_spouse = np.zeros(n_h, bool)
    has_spouse[hh[np.isin(rel, [VO, CHONG])]] = True
    marital = _marital(rng, rel, age, has_spouse[hh])

    in_hai_phong = np.isin(province_code, [31, 30])
    hometown = (
        pl.Series(ref.hai_phong_wards)
        .gather(rng.integers(0, len(ref.hai_phong_wards), n))
        .zip_with(
            pl.Series(in_hai_phong),
            pl.Series([ref.province_names[c] for c in ref.province_codes]).gather(province),
        )
    )
    elsewhere = pl.Series(ref.elsewhere).gather(rng.integers(0, len(ref.elsewhere), n))

    # Updated dates: the last change of the record as of each snapshot.
    upd1 = np.clip(d1 - rng.integers(0, 1500, n), dob, d1)
    upd1 = np.where(dod >= 0, np.minimum(dod + rng.integers(0, 10, n), d1), upd1)
    upd2 = np.where(change_day >= 0, np.minimum(change_day + rng.integers(0, 4, n), d2), upd1)
    dod_dates = np.where(dod >= 0, dod, 0)

    persons = pl.DataFrame(
        {
            "person_seq": np.arange(n),
            "citizen_id": citizen_id,
            "legacy_id": legacy,
            "raw_name": raw_name,
            "date_of_birth": _to_date(dob),
            "date_of_birth_precision": pl.Series(["day", "month", "year"]).gather(precision),
            "sex": pl.Series(["M", "F"]).gather(female.astype(np.int64)),
            "ethnicity": households["ethnicity"].gather(hh),
            "religion": households["religion"].gather(hh),
            "nationality": pl.Series(["Việt Nam"]).gather(np.zeros(n, np.int64)),
            "hometown": hometown,
            "elsewhere_address": elsewhere,
            "phone": phone,
            "marital_status": pl.Series(MARITAL_STATUSES).gather(marital),
            "date_of_death": _to_date(dod_dates),
            "has_died": dod >= 0,
            "hh_1": hh,
            "hh_2": hh2,
            "relation_1": rel,
            "relation_2": rel2,
            "residence_1": rt1,
            "residence_2": rt2,
            "in_1": in1,
            "in_2": in2,
            "updated_1": _to_date(upd1),
            "updated_2": _to_date(upd2),
        }
    ).with_columns(date_of_death=pl.when(pl.col("has_died")).then(pl.col("date_of_death")))
    persons = persons.with_columns(full_name=_mapped(persons["raw_name"], clean_name))
    households = households.with_columns(
        head_seq=pl.Series(head_of, dtype=pl.Int64),
        in_1=pl.Series(~arriving),
        in_2=pl.Series(~moving_out_h),
    )
    return Ward(
        snapshot_dates=(start, second),
        persons=persons,
        households=households,
        groups=group_numbers,
        twins=twins,
        namesakes=namesakes,
    )


def _twin_pairs(rng: np.random.Generator, eligible: np.ndarray, hh: np.ndarray, count: int) -> np.ndarray:
    """`count` pairs (first, second) of eligible persons of one household, one pair per household."""
    idx = np.flatnonzero(eligible)
    _, first, sizes = np.unique(hh[idx], return_index=True, return_counts=True)
    candidates = np.flatnonzero(sizes >= 2)
    chosen = pick(rng, candidates, count)
    pairs = []
    for c in chosen.tolist():
        members = idx[first[c] : first[c] + sizes[c]]
        pair = np.sort(rng.choice(members, size=2, replace=False))
        pairs.append(pair)
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _folded_given(name: str) -> str:
    return strip_diacritics(name.split(" ")[-1]).lower()


def _distinct_twin_names(
    rng: np.random.Generator,
    twins: np.ndarray,
    female: np.ndarray,
    given_m: np.ndarray,
    given_f: np.ndarray,
    ref: Reference,
) -> None:
    """Redraw the second twin's given name until it differs from the first's, diacritics aside."""
    for a, b in twins.tolist():
        names, index = (ref.given_female, given_f) if female[a] else (ref.given_male, given_m)
        while _folded_given(names[index[b]]) == _folded_given(names[index[a]]):
            index[b] = rng.integers(len(names))


def _namesake_pairs(
    rng: np.random.Generator,
    stable: np.ndarray,
    own_surname: np.ndarray,
    hh: np.ndarray,
    group: np.ndarray,
    female: np.ndarray,
    dob: np.ndarray,
    count: int,
) -> np.ndarray:
    """`count` pairs (a, b): b (whose surname nobody inherits) will take a's full name; same group and
    sex, another household, another birth date; every person in at most one pair."""
    used = np.zeros(len(hh), bool)
    pairs = []
    for b in rng.permutation(np.flatnonzero(stable & own_surname)).tolist():
        if len(pairs) == count:
            break
        if used[b]:
            continue
        match = stable & ~used & (group == group[b]) & (female == female[b]) & (hh != hh[b]) & (dob != dob[b])
        if not match.any():
            continue
        a = int(rng.choice(np.flatnonzero(match)))
        used[[a, b]] = True
        pairs.append((a, b))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _mapped(series: pl.Series, fn) -> pl.Series:
    """Apply a str -> str function through the series' distinct values (names repeat a lot)."""
    uniques = series.unique().drop_nulls()
    mapping = pl.DataFrame({"k": uniques, "v": [fn(v) for v in uniques.to_list()]})
    return series.to_frame("k").join(mapping, on="k", how="left", maintain_order="left")["v"]


def _unique_ids(
    rng: np.random.Generator, province: np.ndarray, year: np.ndarray, female: np.ndarray
) -> pl.Series:
    century = (year // 100 - 19) * 2 + female.astype(np.int64)
    stem = province * 10**9 + century * 10**8 + (year % 100) * 10**6
    ids = stem + rng.integers(0, 10**6, len(stem))
    while True:
        _, first = np.unique(ids, return_index=True)
        dup = np.ones(len(ids), bool)
        dup[first] = False
        if not dup.any():
            break
        ids[dup] = stem[dup] + rng.integers(0, 10**6, int(dup.sum()))
    return pl.Series(ids).cast(pl.String).str.zfill(12)


def _household_frame(
    rng: np.random.Generator, ref: Reference, n_h: int, group: np.ndarray, temporary: np.ndarray
):
    number = rng.integers(1, 251, n_h)
    lane = np.where(rng.random(n_h) < 0.5, rng.integers(1, 121, n_h), 0)
    address = [
        f"Số {num}, ngõ {ln}, Tổ dân phố số {g}, phường Phù Liễn, Hải Phòng"
        if ln
        else f"Số {num}, Tổ dân phố số {g}, phường Phù Liễn, Hải Phòng"
        for num, ln, g in zip(number.tolist(), lane.tolist(), group.tolist(), strict=True)
    ]
    return pl.DataFrame(
        {
            "hh": np.arange(n_h),
            "household_id": [household_id(i + 1) for i in range(n_h)],
            "residential_group_no": group.astype(np.int64),
            "address": address,
            "household_type": _choice(rng, HOUSEHOLD_TYPES, HOUSEHOLD_TYPE_P, n_h),
            "temporary": temporary,
            "ethnicity": _choice(rng, list(ETHNIC_WEIGHTS), list(ETHNIC_WEIGHTS.values()), n_h),
            "religion": _choice(rng, list(RELIGION_WEIGHTS), list(RELIGION_WEIGHTS.values()), n_h),
        }
    )


# ------------------------------------------------------------------------------------------ snapshots
def citizens_snapshot(ward: Ward, k: int) -> pl.DataFrame:
    """The clean rows of citizens snapshot k (1 or 2): one per listed person."""
    day = ward.snapshot_dates[k - 1]
    hh = ward.households.select("hh", "household_id", "residential_group_no", "address")
    frame = (
        ward.persons.filter(pl.col(f"in_{k}"))
        .with_columns(
            hh=pl.col(f"hh_{k}"),
            relation_to_head=pl.col(f"relation_{k}").replace_strict(
                list(range(len(RELATIONS))), list(RELATIONS), return_dtype=pl.String
            ),
            residence_type=pl.col(f"residence_{k}").replace_strict(
                [0, 1, 2], list(RESIDENCE_CODES), return_dtype=pl.String
            ),
            updated_at=pl.col(f"updated_{k}"),
            date_of_death=pl.when(pl.col("date_of_death") <= day).then(pl.col("date_of_death")),
        )
        .join(hh, on="hh", how="left", maintain_order="left")
    )
    alive = pl.col("date_of_death").is_null() | (pl.col("date_of_death") > day)
    return frame.select(
        pl.lit(day).alias("snapshot_date"),
        "person_seq",
        "citizen_id",
        "legacy_id",
        "full_name",
        "raw_name",
        "date_of_birth",
        "date_of_birth_precision",
        "sex",
        "ethnicity",
        "religion",
        "nationality",
        "hometown",
        permanent_address=pl.when(pl.col("residence_type") == "tam_tru")
        .then(pl.col("elsewhere_address"))
        .otherwise(pl.col("address")),
        current_address=pl.when(pl.col("residence_type") == "tam_vang")
        .then(pl.col("elsewhere_address"))
        .otherwise(pl.col("address")),
        residence_type="residence_type",
        household_id="household_id",
        relation_to_head="relation_to_head",
        residential_group_no="residential_group_no",
        phone="phone",
        marital_status="marital_status",
        date_of_death="date_of_death",
        updated_at="updated_at",
        is_alive=alive,
        is_resident=alive & pl.col("residence_type").is_in(["thuong_tru", "tam_tru"]),
    )


def households_snapshot(ward: Ward, k: int, citizens: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The clean rows of households snapshot k: one per household, with its head and its members.

    `members_listed` is what extract-spec calls member_count: the distinct persons the citizens
    snapshot of the same date lists under the household_id, whatever their residence type (Tạm vắng
    members included), the dead still listed included; a person listed under a household_id that is
    not in this list (dirt kind household_unknown) counts under that id, not under their former one.
    `member_count` is delivered equal to it but on the 2% `member_count_wrong` rows.
    `members` is what dim_household calls members: the residents (Thường trú or Tạm trú, alive on the
    date) whose household_id points to it."""
    day = ward.snapshot_dates[k - 1]
    rng = stream(seed, f"households-{k}")
    members = citizens.group_by("household_id").agg(
        members=pl.col("person_seq").filter(pl.col("is_resident")).n_unique(),
        members_listed=pl.col("person_seq").n_unique(),
    )
    heads = citizens.filter(pl.col("relation_to_head") == "Chủ hộ").select(
        "household_id", head_citizen_id="citizen_id", head_name="full_name", head_raw_name="raw_name"
    )
    frame = (
        ward.households.filter(pl.col(f"in_{k}"))
        .join(heads, on="household_id", how="left", maintain_order="left")
        .join(members, on="household_id", how="left", maintain_order="left")
        .with_columns(pl.col("members", "members_listed").fill_null(0).cast(pl.Int64))
    )
    n = frame.height
    wrong = pick(rng, np.ones(n, bool), count_for(0.02, n))
    listed = frame["members_listed"].to_numpy()
    reported = listed.copy()
    reported[wrong] = np.maximum(1, reported[wrong] + rng.choice([-2, -1, 1, 2], len(wrong)))
    same = reported[wrong] == listed[wrong]
    reported[wrong[same]] += 1
    updated = _days(day) - rng.integers(0, 700, n)
    return frame.select(
        pl.lit(day).alias("snapshot_date"),
        "household_id",
        "head_citizen_id",
        "head_name",
        "head_raw_name",
        "address",
        "residential_group_no",
        member_count=pl.Series(reported, dtype=pl.Int64),
        members="members",
        members_listed="members_listed",
        member_count_wrong=pl.Series(reported != listed),
        household_type="household_type",
        updated_at=_to_date(updated),
    )
