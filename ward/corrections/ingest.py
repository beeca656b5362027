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
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from ward.corrections.reader import UnreadableCorrections, read_corrections
from ward.ingest.entries import NotARegularFile, kind_of, read_regular, safe_name
from ward.ingest.extract_date import extract_date, ward_today
from ward.ingest.headers import map_header
from ward.ingest.ledger import read_ledger, write_parquet_atomically
from ward.ingest.load import CORRECTIONS_FOLDER, EMPTY_RAW_NAME
from ward.ingest.permissions import private_dir
from ward.ingest.rejections import TITLE_EN, TITLE_VI
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


def _sheets(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("~$"))


def _identify(path: Path, name: str) -> tuple[str | None, str]:
    """(kind, sha256): kind None for a sheet to read, its bytes' sha256; else why it is not opened,
    and a sha256 of the kind and name (the same entry is taken once)."""
    try:
        kind = kind_of(path)
        if kind is None:
            return None, hashlib.sha256(read_regular(path)).hexdigest()
    except NotARegularFile as swapped:
        kind = swapped.kind
    return kind, hashlib.sha256(f"not read: {kind}: {name}".encode()).hexdigest()


def has_new_sheets(settings: Settings) -> bool:
    """landing/corrections/ holds an entry `ingest_corrections` would take (its rule, read-only)."""
    folder = settings.landing_dir / CORRECTIONS_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return False
    for path in _sheets(folder):
        try:
            _kind, sha = _identify(path, f"{CORRECTIONS_FOLDER}/{safe_name(path.name)}")
        except OSError:
            return True  # the ingest retries it
        if not (settings.raw_dir / CORRECTIONS_FOLDER / f"{sha}.parquet").exists():
            return True
    return False


def ingest_corrections(settings: Settings, now: datetime | None = None) -> CorrectionsReport:
    """Every new sheet of landing/corrections/ into raw/corrections/<sha256>.parquet.

    Nothing in a sheet stops the run: a line that cannot be taken is rejected with its reason, a
    sheet that cannot be read is one rejected row. An entry that is not a regular file (a link, a
    FIFO, a folder), a hidden file or a file with an unprintable name is not opened: one rejected
    row says why. `now` (naive: UTC) gives "today": a sheet dated after it is rejected whole.
    """
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    today = ward_today(now)
    group = settings.readers_group
    raw = ensure_empty_corrections(settings.raw_dir, group)
    report = CorrectionsReport()
    folder = settings.landing_dir / CORRECTIONS_FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return report
    targets = _latest_deliveries(settings)
    rules = {r.code: r for r in load_rules()}
    for path in _sheets(folder):
        name = f"{CORRECTIONS_FOLDER}/{safe_name(path.name)}"
        try:
            kind, sha = _identify(path, name)
        except OSError as exc:  # the disk: tried again on the next run
            log.error("%s: not read (%s); will retry on the next run", name, type(exc).__name__)
            continue
        if (raw / f"{sha}.parquet").exists():
            continue  # these bytes (this entry) were taken already
        try:
            frame = _audit_rows(path, name, sha, kind, targets, rules, now, today)
        except Exception as exc:  # a fault of ours: the sheet is rejected whole, the run goes on
            log.error("%s: could not be checked (%s); rejected", name, type(exc).__name__)
            base = _base(path, name, sha, now)
            base.pop("_dated_by")
            frame = _sheet_rejected(
                base,
                f"Tệp sửa lỗi {name} gây lỗi khi kiểm tra ({type(exc).__name__}): báo cho nhóm dữ liệu.",
                f"File {name} failed while being checked ({type(exc).__name__}): report it to the data team.",
            )
        write_parquet_atomically(frame, raw / f"{sha}.parquet", group)
        accepted = frame.filter(pl.col("status") == "accepted").height
        report.files.append((name, accepted, frame.height - accepted))
        log.info("%s: %d correction(s) taken, %d rejected", name, accepted, frame.height - accepted)
    return report


def ensure_empty_corrections(raw_dir: Path, group: str | None = None) -> Path:
    """`raw/corrections/_empty.parquet`, so dbt's glob never comes up empty; returns the folder."""
    private_dir(raw_dir, group)
    raw = private_dir(raw_dir / CORRECTIONS_FOLDER, group)
    if not (raw / EMPTY_RAW_NAME).exists():
        write_parquet_atomically(pl.DataFrame(schema=RAW_SCHEMA), raw / EMPTY_RAW_NAME, group)
    return raw


def _latest_deliveries(settings: Settings) -> dict[str, tuple[str, int]]:
    """source_file → (sha256, rows_in) of its latest loaded delivery."""
    ledger = read_ledger(settings).filter(pl.col("status") == "loaded").sort("extract_date", "loaded_at")
    return {r["source_file"]: (r["sha256"], r["rows_in"]) for r in ledger.iter_rows(named=True)}


def _base(path: Path, name: str, sha: str, now: datetime) -> dict:
    try:
        mtime = path.lstat().st_mtime
    except OSError:
        mtime = now.replace(tzinfo=UTC).timestamp()
    when, how = extract_date(Path(safe_name(path.name)), mtime)
    return {"corrections_file": name, "corrections_sha256": sha, "corrected_at": when, "loaded_at": now,
            "_dated_by": how}  # fmt: skip


def _sheet_rejected(base: dict, vi: str, en: str) -> pl.DataFrame:
    return pl.DataFrame([{**base, "status": "rejected", "reason_vi": vi, "reason_en": en}], schema=RAW_SCHEMA)


NOT_READ_VI = {
    "symlink": "là một liên kết (symbolic link): không đi theo; hãy chép chính tệp vào thư mục",
    "fifo": "là một đường ống (FIFO): không mở; hãy đặt một tệp thật vào thư mục",
    "special": "không phải tệp thông thường: không mở; hãy đặt một tệp thật vào thư mục",
    "folder": "là một thư mục con: không đọc; hãy chuyển các tệp lên thẳng thư mục corrections/",
    "hidden": "là tệp ẩn (tên bắt đầu bằng dấu chấm): không đọc; hãy đổi tên",
    "bad_name": "có tên chứa ký tự không hiển thị được: không đọc; hãy đổi tên tệp",
}
NOT_READ_EN = {
    "symlink": "is a symbolic link: not followed; copy the file itself into the folder",
    "fifo": "is a pipe (FIFO): not opened; put a real file into the folder",
    "special": "is not a regular file: not opened; put a real file into the folder",
    "folder": "is a sub-folder: not read; move its files up into corrections/",
    "hidden": "is a hidden file (its name starts with a dot): not read; rename it",
    "bad_name": "has a name with characters that cannot be shown: not read; rename the file",
}


def _audit_rows(
    path: Path, name: str, sha: str, kind: str | None, targets: dict, rules: dict, now: datetime, today: date
) -> pl.DataFrame:
    base = _base(path, name, sha, now)
    dated_by = base.pop("_dated_by")
    if kind is not None:
        return _sheet_rejected(base, f"{name} {NOT_READ_VI[kind]}.", f"{name} {NOT_READ_EN[kind]}.")
    if dated_by == "name" and base["corrected_at"] > today:
        # The latest sheet wins each cell: a sheet dated in the future would win them all, for ever.
        # (A date from the modification time only: a clock's drift, as for extracts, not rejected.)
        when = base["corrected_at"].isoformat()
        return _sheet_rejected(
            base,
            f"Tệp sửa lỗi {name} mang ngày {when}, sau ngày hôm nay ({today.isoformat()}): hãy sửa ngày "
            "trong tên tệp rồi đặt lại.",
            f"File {name} is dated {when}, after today ({today.isoformat()}): correct the date in its "
            "name and drop it again.",
        )
    try:
        lines = read_corrections(path)
    except UnreadableCorrections as exc:
        vi = f"Tệp sửa lỗi {name} không đọc được: hãy dùng bảng do `ward quarantine` xuất ra."
        return _sheet_rejected(base, vi, f"File {name} {exc}.")
    rows = [_checked_line(line, targets, rules) | base for line in lines.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=RAW_SCHEMA) if rows else pl.DataFrame(schema=RAW_SCHEMA)


# The largest row number a delivered file can have (the raw lake's _row_number is a 32-bit INTEGER).
MAX_ROW_NUMBER = 2**31 - 1
_ROW_NUMBER = re.compile(r"[0-9]{1,10}(?:\.0*)?")  # ASCII digits; `12.0` as a spreadsheet writes 12
MAX_SHOWN = 40  # characters of a steward's cell quoted in a reason


def _shown(value: object, quote: bool = True) -> str:
    """A steward's cell as a reason quotes it: printable, and cut when long."""
    text = safe_name("" if value is None else str(value))
    text = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
    return repr(text) if quote else text


def _checked_line(line: dict, targets: dict, rules: dict) -> dict:
    """`_check_line`, and a line it cannot check is rejected with a reason: never an exception."""
    try:
        return _check_line(line, targets, rules)
    except Exception as exc:
        log.warning("corrections line %s: not checked (%s)", line.get("corrections_row"), type(exc).__name__)
        row = {k: v if not isinstance(v, str) else safe_name(v) for k, v in line.items()}
        row["row_number"] = None
        n = line.get("corrections_row")
        return {
            **row, "status": "rejected",
            "reason_vi": f"dòng sửa {n}: không kiểm tra được ({type(exc).__name__}); hãy viết lại dòng.",
            "reason_en": f"line {n}: could not be checked ({type(exc).__name__}); write it again.",
        }  # fmt: skip


def _row_number(text: str | None) -> int | None:
    """The delivered row a line names: ASCII digits only, 1 ≤ n ≤ MAX_ROW_NUMBER; else None."""
    text = (text or "").strip()
    if not _ROW_NUMBER.fullmatch(text):
        return None
    number = int(text.split(".", 1)[0])
    return number if 1 <= number <= MAX_ROW_NUMBER else None


def _check_line(line: dict, targets: dict, rules: dict) -> dict:
    """The line with its target delivery and column resolved, or rejected with the reason."""
    source_file = (line["source_file"] or "").strip()
    source = source_file.split("/", 1)[0]
    row = {**line, "source_file": source_file, "source": source if source in SOURCES else None}
    row["row_number"] = _row_number(line["row_number"])
    column = map_header(line["column"], source) if source in SOURCES and line["column"] else None
    row["column"] = column or line["column"]
    target = targets.get(source_file)

    def rejected(vi: str, en: str) -> dict:
        return {**row, "status": "rejected", "reason_vi": vi, "reason_en": en}

    vi, en = f"dòng sửa {line['corrections_row']}", f"line {line['corrections_row']}"
    if target is None:
        return rejected(
            f"{vi}: không có tệp {_shown(source_file)} đã nạp; kiểm tra cột Tệp.",
            f"{en}: no loaded file {_shown(source_file)}; check the file column.",
        )
    if row["row_number"] is None or not 1 <= row["row_number"] <= (target[1] or 0):
        return rejected(
            f"{vi}: tệp {source_file} không có dòng {_shown(line['row_number'], False)}.",
            f"{en}: {source_file} has no row {_shown(line['row_number'], False)}.",
        )
    if column is None and (line["column"] or "").strip() not in ("*", ""):
        return rejected(
            f"{vi}: {TITLE_VI[source]} không có cột {_shown(line['column'])}; giữ nguyên cột Cột "
            "như bảng ghi.",
            f"{en}: the {TITLE_EN[source]} has no column {_shown(line['column'])}; keep the column as the "
            "sheet wrote it.",
        )
    if column is None:
        return rejected(
            f"{vi}: cột {_shown(line['column'])} không sửa được bằng một giá trị (dòng trùng: hãy gửi "
            "lại tệp).",
            f"{en}: column {_shown(line['column'])} cannot be corrected by a value (a duplicate row: resend "
            "the file instead).",
        )
    if line["rule"] not in rules:
        return rejected(
            f"{vi}: thiếu hoặc sai mã quy tắc {_shown(line['rule'])}; giữ nguyên cột Mã quy tắc.",
            f"{en}: missing or unknown rule {_shown(line['rule'])}; keep the rule column as written.",
        )
    return {**row, "target_sha256": target[0], "outcome": rules[line["rule"]].outcome, "status": "accepted",
            "reason_vi": None, "reason_en": None}  # fmt: skip
