"""Take each new corrections file of landing/corrections/ into raw/corrections/<sha256>.parquet.

One row per filled line, every line kept: `accepted` when it names a cell the warehouse holds, else
`rejected` with a reason in Vietnamese and English (nothing is dropped silently). A file that cannot
be read at all gives one rejected row with corrections_row null. The same bytes twice are one file
(the raw name is the checksum). `corrected_at` is the file's extract date (from its name, else its
modification time, as for extracts), so replaying landing/ gives the same corrections.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ward.corrections.reader import UnreadableCorrections, read_corrections
from ward.ingest.extract_date import extract_date
from ward.ingest.headers import map_header
from ward.ingest.ledger import read_ledger, write_parquet_atomically
from ward.ingest.load import CORRECTIONS_FOLDER, EMPTY_RAW_NAME
from ward.quality.rules import load_rules
from ward.settings import Settings
from ward.sources import SOURCES

log = logging.getLogger(__name__)

RAW_SCHEMA = {
    "corrections_file": pl.String,
    "corrections_sha256": pl.String,
    "corrections_row": pl.Int64,
    "corrected_at": pl.Date,
    "source": pl.String,
    "source_file": pl.String,
    "row_number": pl.Int64,
    "column": pl.String,
    "rule": pl.String,
    "outcome": pl.String,  # the rule's outcome (quarantine | flag), from expectations/rules.yml
    "old_value": pl.String,
    "new_value": pl.String,
    "note": pl.String,
    "issue_reason_vi": pl.String,  # the reason the worklist gave for the problem
    "first_seen": pl.String,  # when the problem was first seen (the worklist's date)
    "target_sha256": pl.String,  # the delivery of source_file the line corrects (its latest load)
    "status": pl.String,  # accepted | rejected
    "reason_vi": pl.String,
    "reason_en": pl.String,
    "loaded_at": pl.Datetime("us"),
}


@dataclass
class CorrectionsReport:
    files: list[tuple[str, int, int]] = field(default_factory=list)  # (file, accepted, rejected)


def ingest_corrections(settings: Settings, now: datetime | None = None) -> CorrectionsReport:
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    raw = ensure_empty_corrections(settings.raw_dir)
    report = CorrectionsReport()
    folder = settings.landing_dir / CORRECTIONS_FOLDER
    if not folder.is_dir():
        return report
    targets = _latest_deliveries(settings)
    rules = {r.code: r for r in load_rules()}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if (raw / f"{sha}.parquet").exists():
            continue  # these bytes were taken already
        frame = _audit_rows(path, sha, targets, rules, now)
        write_parquet_atomically(frame, raw / f"{sha}.parquet")
        accepted = frame.filter(pl.col("status") == "accepted").height
        report.files.append((f"{CORRECTIONS_FOLDER}/{path.name}", accepted, frame.height - accepted))
        log.info("%s/%s: %d correction(s) taken, %d rejected", CORRECTIONS_FOLDER, path.name,
                 accepted, frame.height - accepted)  # fmt: skip
    return report


def ensure_empty_corrections(raw_dir: Path) -> Path:
    """`raw/corrections/_empty.parquet`, so dbt's glob never comes up empty; returns the folder."""
    raw = raw_dir / CORRECTIONS_FOLDER
    raw.mkdir(parents=True, exist_ok=True)
    if not (raw / EMPTY_RAW_NAME).exists():
        write_parquet_atomically(pl.DataFrame(schema=RAW_SCHEMA), raw / EMPTY_RAW_NAME)
    return raw


def _latest_deliveries(settings: Settings) -> dict[str, tuple[str, int]]:
    """source_file → (sha256, rows_in) of its latest loaded delivery."""
    ledger = read_ledger(settings).filter(pl.col("status") == "loaded").sort("extract_date", "loaded_at")
    return {r["source_file"]: (r["sha256"], r["rows_in"]) for r in ledger.iter_rows(named=True)}


def _audit_rows(path: Path, sha: str, targets: dict, rules: dict, now: datetime) -> pl.DataFrame:
    when, _ = extract_date(path)
    base = {"corrections_file": f"{CORRECTIONS_FOLDER}/{path.name}", "corrections_sha256": sha,
            "corrected_at": when, "loaded_at": now}  # fmt: skip
    try:
        lines = read_corrections(path)
    except UnreadableCorrections as exc:
        vi = f"Tệp sửa lỗi {path.name} không đọc được: hãy dùng bảng do `ward quarantine` xuất ra."
        row = {**base, "status": "rejected", "reason_vi": vi, "reason_en": f"File {path.name} {exc}."}
        return pl.DataFrame([row], schema=RAW_SCHEMA)
    rows = [_check_line(line, targets, rules) | base for line in lines.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=RAW_SCHEMA) if rows else pl.DataFrame(schema=RAW_SCHEMA)


def _check_line(line: dict, targets: dict, rules: dict) -> dict:
    """The line with its target delivery and column resolved, or rejected with the reason."""
    source_file = (line["source_file"] or "").strip()
    source = source_file.split("/", 1)[0]
    row = {**line, "source_file": source_file, "source": source if source in SOURCES else None}
    number = (line["row_number"] or "").strip().removesuffix(".0")
    row["row_number"] = int(number) if number.isdigit() else None
    column = map_header(line["column"], source) if source in SOURCES else None
    row["column"] = column or line["column"]
    target = targets.get(source_file)

    def rejected(vi: str, en: str) -> dict:
        return {**row, "status": "rejected", "reason_vi": vi, "reason_en": en}

    vi, en = f"dòng sửa {line['corrections_row']}", f"line {line['corrections_row']}"
    if target is None:
        return rejected(
            f"{vi}: không có tệp {source_file!r} đã nạp; kiểm tra cột Tệp.",
            f"{en}: no loaded file {source_file!r}; check the file column.",
        )
    if row["row_number"] is None or not 1 <= row["row_number"] <= (target[1] or 0):
        return rejected(
            f"{vi}: tệp {source_file} không có dòng {line['row_number']}.",
            f"{en}: {source_file} has no row {line['row_number']}.",
        )
    if column is None:
        return rejected(
            f"{vi}: cột {line['column']!r} không sửa được bằng một giá trị (dòng trùng: hãy gửi lại tệp).",
            f"{en}: column {line['column']!r} cannot be corrected by a value (a duplicate row: resend "
            "the file instead).",
        )
    if line["rule"] not in rules:
        return rejected(
            f"{vi}: thiếu hoặc sai mã quy tắc {line['rule']!r}; giữ nguyên cột Mã quy tắc.",
            f"{en}: missing or unknown rule {line['rule']!r}; keep the rule column as written.",
        )
    return {**row, "target_sha256": target[0], "outcome": rules[line["rule"]].outcome, "status": "accepted",
            "reason_vi": None, "reason_en": None}  # fmt: skip
