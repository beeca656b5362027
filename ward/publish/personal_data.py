"""Which published columns are personal data, and what the shared tier does with each.

Law on Personal Data Protection 2025 / Decree 13/2023: apps on the shared tier must not hold names,
birth dates, addresses, phones or identity numbers. The rule is by column name, so a column added to
a mart later is covered without anyone remembering this file, and a test fails if a personal-looking
column slips through.
"""

from __future__ import annotations

import re

# fct_residence_event: a birth's event_date is the child's date of birth (and a death's the date of
# death) beside a person_key that joins to dim_citizen; apps get the counts (mart_population_change).
NOT_SHARED_TABLES = frozenset({"quarantine", "fct_residence_event", "corrections"})

# Identifiers replaced by a keyed hash (joins between shared marts keep working).
PSEUDONYMISED = frozenset(
    {"citizen_id", "legacy_id", "person_key", "head_person_key", "applicant_person_key",
     "head_citizen_id", "applicant_id"}
)  # fmt: skip

# Dropped: names, birth dates, addresses, phones, raw delivered values and texts quoting them.
_DROPPED = re.compile(
    r"(^|_)(name|full_name|head_name|applicant_name|date_of_birth|address|hometown|phone)($|_)"
    r"|_raw$|^value$|^reason_(vi|en)$"
)
# Not personal although the pattern would match: names of things, not of people.
_KEPT = frozenset({"procedure_name", "file_name", "column_name"})


def shared_action(column: str) -> str:
    """'hash', 'drop' or 'keep' for a column of a shared mart."""
    if column in PSEUDONYMISED:
        return "hash"
    if column not in _KEPT and _DROPPED.search(column):
        return "drop"
    return "keep"
