"""Ingest the landing folder: every new file into the raw lake, every file once into the ledger.

`ingest_landing(settings)` walks `landing/<source>/` for each source. A file whose bytes the ledger
already knows for that source is not read again (a new path with known bytes gets one `duplicate`
row). A new file is read (CSV or xlsx), checked against the raw contract and written to
`raw/<source>/<sha256>.parquet`; a file that cannot be taken is `rejected` with a reason in Vietnamese
and English, and a copy is set aside in `rejected/<source>/` with `<name>.reason.txt` beside it.
Nothing in landing/ is ever modified. Logs and the report name files and headers, never cell values.
Entries are looked at with lstat only (ward.ingest.entries): a link, a FIFO, a sub-folder, a hidden
file or a name that cannot be shown is recorded `rejected` without being followed or opened. A file
named with an extract date after today (the ward's date of `now`) is rejected, and so is a file whose
reader raised: recorded, so it is not retried blindly, and the run goes on. Once the files are read,
ward.deliveries.settle holds a citizens snapshot that loses persons or a dossier extract dated ahead
(moved to `raw/held/`), and lets a path delivered again with new bytes supersede its earlier delivery.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from ward.ingest import rejections
from ward.ingest.contracts import contract_failures, empty_raw_frame, raw_columns
from ward.ingest.csv_reader import read_csv
from ward.ingest.entries import NotARegularFile, kind_of, read_regular, safe_name
from ward.ingest.extract_date import extract_date, ward_today
from ward.ingest.grid import HEADER_SEARCH_ROWS, HeaderNotFound
from ward.ingest.headers import HeaderMapping, belongs_elsewhere, map_headers
from ward.ingest.ledger import LedgerRow, read_ledger, update_ledger, write_parquet_atomically
from ward.ingest.permissions import make_private, private_dir
from ward.ingest.raw_frame import Lineage, data_rows, to_raw_frame
from ward.ingest.rejections import Reason, Rejection
from ward.ingest.xlsx_reader import OLE_MAGIC, ZIP_MAGIC, read_xlsx
from ward.settings import Settings
from ward.sources import SOURCES

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
EMPTY_RAW_NAME = "_empty.parquet"
CORRECTIONS_FOLDER = "corrections"  # landing/corrections/: see ward.corrections
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}  # the ledger's `separator`

# Report statuses: the ledger's three, plus files seen but not recorded.
KNOWN = "known"  # bytes already in the ledger at this path: nothing to do
SKIPPED = "skipped"  # outside the known source folders: reported, not read
ERROR = "error"  # a fault of ours (not of the file): not recorded, retried on the next run


@dataclass(frozen=True)
class FileOutcome:
    source: str | None
    source_file: str  # path under landing/
    status: str  # loaded / rejected / duplicate / held / known / skipped / error
    rows_in: int | None = None
    reason_en: str | None = None
    reason_vi: str | None = None
    kind: str | None = None  # rejection kind (empty_file, wrong_source, ...)
    sha256: str | None = None
    unknown_columns: tuple[str, ...] = ()
    raw_path: str | None = None  # relative to the data root


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    # Earlier deliveries whose status this run moved (held again, released, superseded).
    changed: list[LedgerRow] = field(default_factory=list)

    def by_status(self, status: str) -> list[FileOutcome]:
        return [f for f in self.files if f.status == status]

    @property
    def totals(self) -> dict[str, int]:
        counts = {s: 0 for s in ("loaded", "rejected", "duplicate", "held", KNOWN, SKIPPED, ERROR)}
        for outcome in self.files:
            counts[outcome.status] += 1
        counts["rows_in"] = sum(f.rows_in or 0 for f in self.files if f.status == "loaded")
        return counts


# Walking the landing folder ------------------------------------------------------------------------


def _ignored(name: str) -> bool:
    """Excel's lock file of an open workbook (`~$x.xlsx`, gone when Excel closes) and our own notes."""
    return name.startswith("~$") or name.lower().endswith(".reason.txt")


def _delivery_order(path: Path) -> tuple[int, str]:
    try:
        return path.lstat().st_mtime_ns, path.name
    except OSError:
        return 0, path.name


def _landing_entries(landing: Path) -> Iterator[tuple[str | None, Path, str | None]]:
    """(source, entry, kind) for every entry of a source folder: kind None for a file to read, else
    why it is not read (ward.ingest.entries: symlink, fifo, folder, hidden, ...); (None, entry, kind)
    for an entry outside the known folders (reported, not recorded). Nothing is followed or descended
    into: an entry is looked at with lstat only.
    """
    if not landing.is_dir():
        return
    for entry in sorted(landing.iterdir()):
        if _ignored(entry.name):
            continue
        kind = kind_of(entry)
        if kind == "folder" and entry.name == CORRECTIONS_FOLDER:
            continue  # the stewards' corrections: ward.corrections reads them
        if kind == "folder" and entry.name in SOURCES:
            # Oldest first, so of two identical files the one delivered first is the original.
            for child in sorted(entry.iterdir(), key=_delivery_order):
                if not _ignored(child.name):
                    yield entry.name, child, kind_of(child)
        else:
            yield None, entry, kind


# Reading one file -------------------------------------------------------------------------------------


def _file_format(name: str, data: bytes, f: str) -> str:
    suffix = Path(name).suffix.lower()
    if not data:
        raise Rejection(rejections.empty_file(f))
    known = (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".xls")
    if suffix not in known:
        raise Rejection(rejections.unsupported_format(f, f"'{suffix}'" if suffix else "no file extension"))
    if data.startswith(ZIP_MAGIC):
        return "xlsx"  # also an .xlsx saved under a .csv or .xls name
    if data.startswith(OLE_MAGIC):
        raise Rejection(rejections.legacy_excel(f))
    if suffix in XLSX_SUFFIXES:
        raise Rejection(rejections.damaged_excel(f))
    head = data[:2048].lower()
    if suffix == ".xls" and (b"<html" in head or b"<table" in head or b"<?xml" in head):
        raise Rejection(rejections.unsupported_format(f, "a web page or XML saved with an .xls name"))
    return "csv"  # .csv, .txt, .tsv, and text saved with an .xls name


@dataclass
class _Read:
    """What is known about a file so far; filled in as reading goes, kept when it is rejected."""

    file_format: str | None = None
    encoding: str | None = None
    separator: str | None = None
    header_row: int | None = None
    unknown: tuple[str, ...] | None = None  # None until the header row is read


def _read_file(source: str, data: bytes, f: str, read: _Read) -> tuple[pl.DataFrame, HeaderMapping]:
    """The data rows of a delivered file and its header mapping, or `Rejection` saying why not."""
    read.file_format = _file_format(f, data, f)
    try:
        grid = read_csv(data, f) if read.file_format == "csv" else read_xlsx(data, f)
    except HeaderNotFound as missing:
        if missing.sheet is not None:
            reason = rejections.no_header_on_first_sheet(
                f, source, HEADER_SEARCH_ROWS, missing.sheet, missing.found_on
            )
        else:
            reason = rejections.no_header(f, source, HEADER_SEARCH_ROWS)
        raise Rejection(reason) from None
    read.encoding, read.separator, read.header_row = grid.encoding, grid.separator, grid.header_row
    mapping = map_headers(grid.headers, source)
    read.unknown = mapping.unknown
    rows = data_rows(grid)
    actual = belongs_elsewhere(grid.headers, source)
    if actual is not None:
        raise Rejection(rejections.wrong_source(f, source, actual), rows.height)
    if mapping.missing_required:
        raise Rejection(rejections.missing_columns(f, source, mapping.missing_required), rows.height)
    if grid.rows.height == 0:
        raise Rejection(rejections.header_only(f), 0)
    if rows.height == 0:
        raise Rejection(rejections.no_data_rows(f), 0)
    return rows, mapping


class ContractViolation(Exception):
    """The raw frame built from a file breaks the raw contract: a fault of ours, not of the file."""


# The run ---------------------------------------------------------------------------------------------


@dataclass
class _Known:
    """The ledger as lookups: paths already recorded, and the first file seen with given bytes."""

    recorded: set[tuple[str, str, str]]  # (source, source_file, sha256)
    first: dict[tuple[str, str], tuple[str, str, datetime]]  # (source, sha) → (file, status, when)
    # source_file → (size, mtime_ns, sha256) when last hashed: an unchanged file is not read again
    checksums: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, ledger: pl.DataFrame) -> _Known:
        known = cls(set(), {})
        for row in ledger.iter_rows(named=True):
            known.add(row)
        return known

    def recorded_unchanged(self, source: str, f: str, stat: os.stat_result) -> str | None:
        """The sha256 of `f` when it has the path, size and mtime of a file already recorded."""
        cached = self.checksums.get(f)
        unchanged = cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns)
        return cached[2] if unchanged and (source, f, cached[2]) in self.recorded else None

    def add(self, row: dict) -> None:
        self.recorded.add((row["source"], row["source_file"], row["sha256"]))
        if row["status"] != "duplicate":
            key = (row["source"], row["sha256"])
            self.first.setdefault(key, (row["source_file"], row["status"], row["loaded_at"]))


def _utc_naive(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


@contextlib.contextmanager
def run_lock(settings: Settings):
    """One ingest at a time (a sensor run and a manual run must not both append to the ledger), nor
    a `ward release` / `ward withdraw` while files are read."""
    private_dir(settings.raw_dir, settings.readers_group)
    lock = settings.raw_dir / ".ingest.lock"
    with open(lock, "w") as handle:
        make_private(lock, settings.readers_group)
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # not on POSIX: no lock
            pass
        yield


def ensure_empty_raw(settings: Settings) -> None:
    """`raw/<source>/_empty.parquet` with the full column set, so dbt's glob never comes up empty."""
    for source in SOURCES:
        path = settings.raw_source_dir(source) / EMPTY_RAW_NAME
        with contextlib.suppress(Exception):
            if dict(pl.read_parquet_schema(path)) == raw_columns(source):
                continue
        write_parquet_atomically(empty_raw_frame(source), path, settings.readers_group)


def _relative(settings: Settings, path: Path) -> str:
    return path.relative_to(settings.data_dir).as_posix()


def _set_aside(settings: Settings, source: str, name: str, data: bytes, sha: str, reason: Reason) -> Path:
    group = settings.readers_group
    private_dir(settings.rejected_dir, group)
    folder = private_dir(settings.rejected_dir / source, group)
    target = folder / name
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() != sha:
        target = folder / f"{Path(name).stem}.{sha[:12]}{Path(name).suffix}"
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    make_private(tmp, group)
    os.replace(tmp, target)
    note = target.with_name(f"{target.name}.reason.txt")
    tmp_note = folder / f".{note.name}.{os.getpid()}.tmp"
    tmp_note.write_text(f"{reason.vi}\n\n{reason.en}\n\nsha256: {sha}\n", encoding="utf-8")
    make_private(tmp_note, group)
    os.replace(tmp_note, note)
    return target


def _rejected(
    settings: Settings,
    source: str,
    f: str,
    data: bytes,
    base: dict,
    rejection: Rejection,
    read: _Read,
    now: datetime,
) -> tuple[FileOutcome, LedgerRow]:
    reason = rejection.reason
    _set_aside(settings, source, Path(f).name, data, base["sha256"], reason)
    row = LedgerRow(
        **base,
        status="rejected",
        reason_vi=reason.vi,
        reason_en=reason.en,
        rows_in=rejection.rows_in,
        loaded_at=now,
        **_grid_details(read),
    )
    unknown = read.unknown or ()
    outcome = FileOutcome(
        source, f, "rejected", rejection.rows_in, reason.en, reason.vi, reason.kind, base["sha256"], unknown
    )
    return outcome, row


def _not_read_sha256(kind: str, f: str) -> str:
    return hashlib.sha256(f"not read: {kind}: {f}".encode()).hexdigest()


def _not_read(
    settings: Settings, source: str, path: Path, f: str, kind: str, known: _Known, now: datetime
) -> tuple[FileOutcome, LedgerRow | None]:
    """A ledger row for an entry that is not opened (link, FIFO, sub-folder, hidden, unprintable name).

    It has no bytes to hash: its sha256 is that of the kind and the path, so the same entry is
    recorded once (a later run finds it `known`), and it never matches a delivered file's bytes.
    """
    sha = _not_read_sha256(kind, f)
    if (source, f, sha) in known.recorded:
        return FileOutcome(
            source, f, KNOWN, reason_en="Already in the ledger: not read again.", sha256=sha
        ), None
    try:
        mtime = path.lstat().st_mtime
    except OSError:
        mtime = now.replace(tzinfo=UTC).timestamp()
    when, _ = extract_date(Path(safe_name(path.name)), mtime)
    reason = rejections.not_read(f, kind)
    row = LedgerRow(
        source=source, file_name=Path(f).name, source_file=f, sha256=sha, extract_date=when,
        status="rejected", reason_vi=reason.vi, reason_en=reason.en, rows_in=None, loaded_at=now,
    )  # fmt: skip
    return FileOutcome(source, f, "rejected", None, reason.en, reason.vi, reason.kind, sha), row


def _ingest_file(
    settings: Settings, source: str, path: Path, known: _Known, now: datetime, today: date | None = None
) -> tuple[FileOutcome, LedgerRow | None]:
    f = f"{source}/{path.name}"
    today = today or ward_today(now)
    stat = path.lstat()
    mtime = stat.st_mtime
    cached = known.recorded_unchanged(source, f, stat)
    if cached:
        # Same path, size and modification time as a file already recorded: the 1 GB of a big
        # ward's landing folder is not hashed again on every run (a replaced file changes mtime).
        return FileOutcome(
            source, f, KNOWN, reason_en="Already in the ledger: not read again.", sha256=cached
        ), None
    data = read_regular(path)
    sha = hashlib.sha256(data).hexdigest()
    known.checksums[f] = (stat.st_size, stat.st_mtime_ns, sha)
    if (source, f, sha) in known.recorded:
        return FileOutcome(
            source, f, KNOWN, reason_en="Already in the ledger: not read again.", sha256=sha
        ), None
    when, how = extract_date(path, mtime)
    base = {"source": source, "file_name": path.name, "source_file": f, "sha256": sha, "extract_date": when}
    if (source, sha) in known.first:
        original, status, received = known.first[(source, sha)]
        reason = rejections.duplicate(f, original, status, _day(received))
        row = LedgerRow(
            **base, status="duplicate", reason_vi=reason.vi, reason_en=reason.en, rows_in=None, loaded_at=now
        )
        return FileOutcome(source, f, "duplicate", None, reason.en, reason.vi, reason.kind, sha), row

    read = _Read()
    if how == "name" and when > today:
        # Only a date written in the name: a modification time a little ahead is a clock's drift
        # (a file server's), which the steward can neither see nor fix.
        rejection = Rejection(rejections.future_date(f, _day(when), _day(today)))
        return _rejected(settings, source, f, data, base, rejection, read, now)
    try:
        rows, mapping = _read_file(source, data, f, read)
    except Rejection as rejection:
        return _rejected(settings, source, f, data, base, rejection, read, now)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # a reader crashed (also a Rust panic): recorded, not retried blindly
        # The exception's message may quote cell values: its type only.
        log.error("%s: the reader failed (%s); rejected", f, type(exc).__name__)
        rejection = Rejection(rejections.reader_failed(f, type(exc).__name__))
        return _rejected(settings, source, f, data, base, rejection, read, now)
    del data  # a big file's bytes are not needed any more (peak memory)
    frame = to_raw_frame(rows, mapping, Lineage(source, f, sha, when, now))
    del rows
    failures = contract_failures(source, frame)
    if failures:  # not recorded, not set aside: the file is tried again once the fault is fixed
        raise ContractViolation("; ".join(failures))
    raw_path = settings.raw_source_dir(source) / f"{sha}.parquet"
    write_parquet_atomically(frame, raw_path, settings.readers_group)
    relative = _relative(settings, raw_path)
    row = LedgerRow(
        **base,
        status="loaded",
        reason_vi=None,
        reason_en=None,
        rows_in=frame.height,
        loaded_at=now,
        raw_path=relative,
        **_grid_details(read),
    )
    return FileOutcome(
        source, f, "loaded", frame.height, sha256=sha, unknown_columns=read.unknown or (), raw_path=relative
    ), row


def _day(moment: datetime | date | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


def _grid_details(read: _Read) -> dict:
    unknown = None if read.unknown is None else json.dumps(list(read.unknown), ensure_ascii=False)
    return {
        "file_format": read.file_format,
        "encoding": read.encoding,
        "separator": SEPARATOR_NAMES.get(read.separator or ""),
        "header_row": read.header_row,
        "unknown_columns": unknown,
    }


def ingest_landing(settings: Settings, now: datetime | None = None) -> IngestReport:
    """Read every new landing file into the raw lake and record every file in the ledger.

    `now` (default: the current time) is the run's `loaded_at`; naive means UTC. Its date in the
    ward's time zone is "today": a file named with a later extract date is rejected. The ledger is
    written once, at the end of the run (also when the run fails half-way): a run killed before that
    leaves raw files the ledger does not know, which the next run simply writes again (same names).
    """
    now = _utc_naive(now)
    report = IngestReport()
    # dbt creates the build database next (build/ward.duckdb): its folder is owner-only first.
    private_dir(settings.build_db_path.parent, settings.readers_group)
    with run_lock(settings):
        ensure_empty_raw(settings)
        known = _Known.of(read_ledger(settings))
        known.checksums = _read_checksums(settings)
        new_rows: list[LedgerRow] = []
        try:
            for source, path, kind in _landing_entries(settings.landing_dir):
                outcome, row = _ingest_entry(settings, source, path, kind, known, now)
                if row is not None:
                    new_rows.append(row)
                    known.add(asdict(row))
                report.files.append(outcome)
        finally:
            # Also when the loop failed half-way: no loaded file is recorded without its checks.
            new_rows, changed = _settle(settings, new_rows, now, report)
            update_ledger(settings, new_rows, changed)
            _write_checksums(settings, known.checksums)
    return report


def sources_with_new_files(settings: Settings) -> set[str]:
    """The sources whose landing folder holds an entry the next ingest would record: the ingest's own
    rule, read-only (same entries and names, same ledger and checksums; only bytes whose size or
    modification time changed are hashed). What a run must build is planned from it
    (orchestration/selection.py). An entry the ingest could not take counts as new: it retries it."""
    known = _Known.of(read_ledger(settings))
    known.checksums = _read_checksums(settings)
    new: set[str] = set()
    for source, path, kind in _landing_entries(settings.landing_dir):
        if source is None or source in new:
            continue  # outside the known folders: reported, never recorded
        relative = safe_name(path.relative_to(settings.landing_dir).as_posix())
        if kind is not None:
            if (source, relative, _not_read_sha256(kind, relative)) not in known.recorded:
                new.add(source)
            continue
        f = f"{source}/{path.name}"
        try:
            if known.recorded_unchanged(source, f, path.lstat()):
                continue
            sha = hashlib.sha256(read_regular(path)).hexdigest()
        except (OSError, NotARegularFile):
            new.add(source)
            continue
        if (source, f, sha) not in known.recorded:
            new.add(source)
    return new


def _settle(
    settings: Settings, new_rows: list[LedgerRow], now: datetime, report: IngestReport
) -> tuple[list[LedgerRow], list[LedgerRow]]:
    """ward.deliveries.settle: hold, release, supersede; the report's outcomes follow the rows."""
    from ward.deliveries.settle import settle, unchecked

    try:
        settled = settle(settings, new_rows, now, ward_today(now))
        rows, changed = settled.rows, settled.changed
    except Exception as exc:  # a fault of ours: hold what could not be checked, never build from it
        log.error(
            "the delivery checks failed (%s): this run's citizens and dossier files are held",
            type(exc).__name__,
        )
        rows, changed = unchecked(settings, new_rows, now, type(exc).__name__), []
    by_key = {(r.source, r.source_file, r.sha256): r for r in [*rows, *changed]}
    for i, outcome in enumerate(report.files):
        row = by_key.get((outcome.source, outcome.source_file, outcome.sha256))
        if row is not None and row.status != outcome.status and outcome.status in ("loaded", "held"):
            report.files[i] = replace(
                outcome,
                status=row.status,
                reason_en=row.reason_en,
                reason_vi=row.reason_vi,
                raw_path=row.raw_path,
            )
    report.changed.extend(changed)
    return rows, changed


def _checksums_path(settings: Settings) -> Path:
    return settings.raw_dir / ".landing_checksums.json"


def _read_checksums(settings: Settings) -> dict[str, tuple[int, int, str]]:
    try:
        return {f: tuple(v) for f, v in json.loads(_checksums_path(settings).read_text()).items()}
    except (OSError, ValueError):
        return {}


def _write_checksums(settings: Settings, checksums: dict[str, tuple[int, int, str]]) -> None:
    path = _checksums_path(settings)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(checksums))
    make_private(tmp, settings.readers_group)
    os.replace(tmp, path)


def _ingest_entry(
    settings: Settings, source: str | None, path: Path, kind: str | None, known: _Known, now: datetime
) -> tuple[FileOutcome, LedgerRow | None]:
    relative = safe_name(path.relative_to(settings.landing_dir).as_posix())
    if source is None:
        if kind in (None, "folder"):
            folder = relative.rsplit("/", 1)[0] + "/" if "/" in relative else "landing/"
            reason = rejections.unknown_folder(relative, folder)
        else:  # a link, a FIFO, a hidden file... at the top of landing/: not followed, not opened
            reason = rejections.not_read(relative, kind)
        log.warning("%s: skipped, outside the known folders", relative)
        return FileOutcome(None, relative, SKIPPED, None, reason.en, reason.vi, reason.kind), None
    try:
        if kind is not None:
            outcome, row = _not_read(settings, source, path, relative, kind, known, now)
        else:
            try:
                outcome, row = _ingest_file(settings, source, path, known, now)
            except NotARegularFile as swapped:  # replaced by a link or a FIFO since it was listed
                outcome, row = _not_read(settings, source, path, relative, swapped.kind, known, now)
    except Exception as exc:  # a fault of ours or of the disk, not of the file: retry next run
        # The exception's message may quote cell values: log its type only.
        log.error("%s: not ingested (%s); will retry on the next run", relative, type(exc).__name__)
        detail = f" ({exc})" if isinstance(exc, ContractViolation) else ""  # column: check names only
        reason_en = (
            f"Unexpected {type(exc).__name__}{detail} while ingesting: the file stays in landing/ and is "
            "tried again on the next run; report this to the data team if it persists."
        )
        return FileOutcome(source, relative, ERROR, reason_en=reason_en), None
    rows = f" ({outcome.rows_in} rows)" if outcome.rows_in is not None else ""
    log.info("%s: %s%s", outcome.source_file, outcome.status, rows)
    return outcome, row
