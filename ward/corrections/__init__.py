"""Stewards' corrections: the worklist of `ward quarantine`, filled in and dropped in landing/corrections/.

    from ward.corrections import ingest_corrections
    report = ingest_corrections(settings)  # raw/corrections/<sha256>.parquet, one row per filled line

Each filled line names a delivered cell (file, row, column) and its corrected value. dbt applies the
corrections over the raw rows before cleaning (macros/corrections/apply_corrections.sql), the rules
run again on the corrected rows, and marts.corrections is the audit trail.
"""

from ward.corrections.ingest import CorrectionsReport, ingest_corrections
from ward.corrections.reader import read_corrections

__all__ = ["CorrectionsReport", "ingest_corrections", "read_corrections"]
