"""Which published columns are personal data, and what the shared tier does with each.

Law on Personal Data Protection 2025 / Decree 13/2023: apps on the shared tier must not hold names,
birth dates, addresses, phones or identity numbers. The rule is by column name, so a column added to
a mart later is covered without anyone remembering this file, and a test fails if a personal-looking
column slips through. Where the name alone decides wrongly, a (table, column) exception says so
(`TABLE_COLUMN_ACTIONS`): precise, never a substring.

Dropping and hashing is not enough for a table with one row per person: birth year, sex, ethnicity,
relation and group single most people out. Those tables (`PERSON_LEVEL_TABLES`) are generalised
until every combination of their quasi-identifiers holds at least k people (ward/publish/anonymity.py).
"""

from __future__ import annotations

import re

# fct_residence_event: a birth's event_date is the child's date of birth (and a death's the date of
# death) beside a person_key that joins to dim_citizen; apps get the counts (mart_population_change).
NOT_SHARED_TABLES = frozenset({"quarantine", "fct_residence_event", "corrections"})

# Shared marts with one row per person: their quasi-identifiers are generalised to k-anonymity
# (anonymity.py), and they carry no household identifier, not even hashed (a household hash beside
# each person groups people into households: a quasi-identifier of the household's size, and the
# key to the relatives). Of the marts, dim_citizen is the only one: fct_residence_event (per event)
# is not shared, findings is per problem found, fct_service_record per dossier, the rest aggregates.
PERSON_LEVEL_TABLES = frozenset({"dim_citizen"})

# Identifiers replaced by a keyed hash (joins between shared marts keep working).
PSEUDONYMISED = frozenset(
    {"citizen_id", "legacy_id", "person_key", "head_person_key", "applicant_person_key",
     "head_citizen_id", "applicant_id"}
)  # fmt: skip
# Every column naming a household (household_id, previous_household_id, head_household_id, …):
# hashed like the persons' identifiers, with the same key; dropped from person-level tables.
_HOUSEHOLD = re.compile(r"(^|_)household_id$")

# Dropped: names, birth dates, addresses, phones, raw delivered values and texts quoting them.
_DROPPED = re.compile(
    r"(^|_)(name|full_name|head_name|applicant_name|date_of_birth|address|hometown|phone)($|_)"
    r"|_raw$|^value$|^reason_(vi|en)$"
)
# Not personal although the pattern would match: names of things, not of people.
_KEPT = frozenset({"procedure_name", "file_name", "column_name"})

# Exceptions by (table, column), where the column's name alone decides wrongly. Each says why.
TABLE_COLUMN_ACTIONS: dict[tuple[str, str], str] = {
    # The scorecard's figure (a share, count or age in days of a whole source or group), not a
    # delivered cell as `value` is in findings and the quarantine.
    ("mart_data_quality", "value"): "keep",
    # Why a file was rejected or which file it duplicates (ward/ingest/rejections.py): they name
    # files, sheets, columns and dates, never a cell, unlike findings' reasons that quote values.
    ("deliveries", "reason_vi"): "keep",
    ("deliveries", "reason_en"): "keep",
    # The head's person_key would join each household to one person of dim_citizen: that person's
    # relation (head), household size, type (poor household, …) and group, past the generalisation.
    ("dim_household", "head_person_key"): "drop",
}


def shared_action(column: str, table: str | None = None) -> str:
    """'hash', 'drop' or 'keep' for a column of a shared mart (`table`: its name, when known)."""
    if table is not None and (table, column) in TABLE_COLUMN_ACTIONS:
        return TABLE_COLUMN_ACTIONS[(table, column)]
    if _HOUSEHOLD.search(column):
        return "drop" if table in PERSON_LEVEL_TABLES else "hash"
    if column in PSEUDONYMISED:
        return "hash"
    if column not in _KEPT and _DROPPED.search(column):
        return "drop"
    return "keep"
