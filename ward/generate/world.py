"""What the world sends besides cell dirt, planted on the clean citizens snapshots before the files
are written (the kinds and rates are in the table of ward/generate/dirt.py).

Each planted row is marked in two helper columns of the clean snapshot, which the dirt of the
citizens files reads (`dirt.dirty_citizens`) and the truth drops:
- `planted`: `;`-joined marks of the row: `death_after_extract`, `second_head`, `household_unknown`,
  `id_missing` (a twin without the ID in one snapshot), `twin`, `namesake` (never keyed again);
- `planted_death`: the date of death delivered on a `death_after_extract` row.

death_after_extract, second_head and household_unknown fall on the same persons in every snapshot
(the upstream record is wrong, and stays wrong from one extract to the next, so the person has no
change of state between the snapshots for the history to version): living residents (Thường trú or
Tạm trú), not heads, listed in both snapshots in the same household with the same residence type,
neither twins nor namesakes, each person at most one kind; a second head is an adult, one a household.

household_unknown changes the clean snapshot itself: the citizens list puts the person under a
household_id of nobody in the households lists (`HGD-<ward>-` + a number after every household's).
That is the truth of the listing: the person is still a resident of their residential group (the
population marts do not move), their household_id is the unknown one in citizens_clean and in every
household count (member_count, members), and the households snapshot of the same date, computed
from this listing afterwards, does not count them under their former household.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from ward.generate.population import Ward, add_months, household_id
from ward.generate.rng import count_for, pick, stream

DEATH_AFTER_EXTRACT, SECOND_HEAD, HOUSEHOLD_UNKNOWN = 0.001, 0.002, 0.001
TWIN_ID_MISSING = 0.5  # share of twin pairs with one twin's ID missing in one snapshot (at least 1)
DEATH_DAYS_AFTER = (1, 120)  # days after the latest snapshot date
ADULT_YEARS = 18  # a second head is an adult


def plant_world(ward: Ward, citizens: list[pl.DataFrame], seed: int) -> list[pl.DataFrame]:
    """The clean citizens snapshots with the helper columns, household_unknown applied."""
    rng = stream(seed, "world")
    latest = ward.snapshot_dates[-1]
    twins = set(ward.twins.ravel().tolist())
    namesakes = set(ward.namesakes.ravel().tolist())
    marks: dict[tuple[int, int], list[str]] = {}  # (snapshot index, person_seq) -> marks

    # Persons eligible for the persistent kinds, as their rows in every snapshot agree.
    state = ["household_id", "residence_type", "relation_to_head"]
    stable = citizens[0].select("person_seq", "date_of_birth", *state, ok="is_resident")
    for frame in citizens[1:]:
        stable = (
            stable.join(
                frame.select("person_seq", *state, ok_now="is_resident"),
                on=[*state, "person_seq"],
                how="inner",
            )
            .with_columns(ok=pl.col("ok") & pl.col("ok_now"))
            .drop("ok_now")
        )
    stable = stable.filter(
        pl.col("ok")
        & (pl.col("relation_to_head") != "Chủ hộ")
        & ~pl.col("person_seq").is_in(list(twins | namesakes))
    ).sort("person_seq")
    seqs = stable["person_seq"].to_numpy()
    homes = stable["household_id"].to_numpy()
    n1 = citizens[0].height
    free = np.ones(len(seqs), bool)

    def draw(count: int, eligible: np.ndarray | None = None) -> np.ndarray:
        chosen = pick(rng, free if eligible is None else free & eligible, count)
        free[chosen] = False
        return chosen

    n_households = citizens[0]["household_id"].n_unique()
    # One second head a household: an adult, the first of each household's in a random order.
    adults = np.flatnonzero((stable["date_of_birth"] <= add_months(latest, -12 * ADULT_YEARS)).to_numpy())
    order = adults[rng.permutation(len(adults))]
    _, first = np.unique(homes[order], return_index=True)
    one_a_home = np.zeros(len(seqs), bool)
    one_a_home[order[first]] = True
    second_head = draw(count_for(SECOND_HEAD, n_households), one_a_home)
    death = draw(count_for(DEATH_AFTER_EXTRACT, n1))
    unknown = draw(count_for(HOUSEHOLD_UNKNOWN, n1))

    days_after = rng.integers(DEATH_DAYS_AFTER[0], DEATH_DAYS_AFTER[1] + 1, len(death))
    death_day = {
        int(seqs[i]): latest + timedelta(days=int(d))
        for i, d in zip(death.tolist(), days_after.tolist(), strict=True)
    }
    new_home = {
        int(seqs[i]): household_id(ward.households.height + 1 + j) for j, i in enumerate(unknown.tolist())
    }
    for k in range(len(citizens)):
        for i in second_head.tolist():
            marks.setdefault((k, int(seqs[i])), []).append("second_head")
        for seq in death_day:
            marks.setdefault((k, seq), []).append("death_after_extract")
        for seq in new_home:
            marks.setdefault((k, seq), []).append("household_unknown")

    # Twins: every one marked (never keyed again); some without their ID in one snapshot.
    pairs = ward.twins.tolist()
    missing = pick(rng, np.arange(len(pairs)), max(1, round(TWIN_ID_MISSING * len(pairs))))
    for p, (a, b) in enumerate(pairs):
        for k in range(len(citizens)):
            marks.setdefault((k, a), []).append("twin")
            marks.setdefault((k, b), []).append("twin")
        if p in set(missing.tolist()):
            who = (a, b)[int(rng.integers(2))]
            marks[(int(rng.integers(len(citizens))), who)].append("id_missing")
    for k, frame in enumerate(citizens):
        listed = set(frame["person_seq"].to_list())
        for seq in sorted(namesakes & listed):
            marks.setdefault((k, seq), []).append("namesake")

    out = []
    for k, frame in enumerate(citizens):
        keyed = [(seq, ";".join(m)) for (kk, seq), m in sorted(marks.items()) if kk == k]
        planted = pl.DataFrame(
            {"person_seq": [s for s, _ in keyed], "planted": [m for _, m in keyed]},
            schema={"person_seq": frame["person_seq"].dtype, "planted": pl.String},
        ).with_columns(
            planted_death=pl.col("person_seq").replace_strict(death_day, default=None, return_dtype=pl.Date),
            moved_to=pl.col("person_seq").replace_strict(new_home, default=None, return_dtype=pl.String),
        )
        frame = (
            frame.join(planted, on="person_seq", how="left", maintain_order="left")
            .with_columns(household_id=pl.coalesce("moved_to", "household_id"))
            .drop("moved_to")
        )
        out.append(frame)
    return out
