"""A deterministic synthetic Phù Liễn ward: landing extracts in every form of extract-spec, with known
dirt, and the truth the marts must equal.

Modules, one concern each:
- population.py  the clean ward: people, households, relations, the two snapshots
- dossiers.py    clean service records: dossier timelines, versions, weekly extracts
- forms.py       file forms: headers, date and group styles, rendering clean rows to cells
- dirt.py        recoverable dirt, lost identifiers, duplicate and junk rows (table of rates)
- writers.py     bytes: CSV encodings and separators, xlsx with title and footer lines, mtimes
- landing.py     writes one file at a time and keeps files.csv, dirt.csv and lineage
- extracts.py    which files land where, in which form, and the bad files
- truth.py       the marts computed from the clean ward by the spec's definitions
- generator.py   generate_ward, tying it together
"""

from ward.generate.generator import GenerateSummary, generate_ward

__all__ = ["GenerateSummary", "generate_ward"]
