"""What the ingest does with a run's new deliveries once they are read (ward.ingest.load).

1. A new dossier extract with more than 1% of its rows dated ahead (`hold.dossiers_ahead`) is held.
2. A citizens snapshot is the files of one extract date. For each date a new citizens file came
   with, the date's snapshot as it would be (its loaded files, the files held for that date, the new
   ones; a path delivered again counts with its newest bytes only) is compared with its baseline:
   the date's snapshot as published when it has loaded files (a file delivered again, a file added),
   else the loaded snapshot of the latest date before it. Losing more than `hold_loss_share` of the
   persons, in the ward or in a group of 20 or more, holds every new and held file of that date;
   otherwise they are all used (held files of the date are released: the snapshot came whole).
   The first snapshot has nothing to lose. Dates are taken oldest first, so replaying all files in one
   run decides as receiving them one by one.
3. A path delivered again with new bytes supersedes its earlier delivery once the new one is used
   (an earlier held delivery as soon as the new one is read): the earlier one is `superseded`, its
   Parquet moved aside, and, when its rows were built, the next dbt phases rebuild whole.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from ward.deliveries import hold, lake
from ward.ingest import rejections
from ward.ingest.ledger import LedgerRow, ledger_key, ledger_rows, read_ledger
from ward.settings import Settings

log = logging.getLogger(__name__)

VIA = "ward run (ingest)"


@dataclass
class Settled:
    rows: list[LedgerRow]  # the run's new rows, as they are to be recorded
    changed: list[LedgerRow] = field(default_factory=list)  # earlier rows whose status moved
    held: list[LedgerRow] = field(default_factory=list)  # rows held by this run (new or again)


def _day(moment: date | datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


class _State:
    """The ledger as it will be: earlier rows (some changed) and the run's new rows."""

    def __init__(self, settings: Settings, earlier: list[LedgerRow], new: list[LedgerRow], now: datetime):
        self.settings, self.now = settings, now
        self.rows: dict[tuple[str, str, str], LedgerRow] = {ledger_key(r): r for r in earlier}
        self.new_keys = [ledger_key(r) for r in new]
        self.rows.update({ledger_key(r): r for r in new})
        self.earlier_keys = {ledger_key(r) for r in earlier}
        self.changed: set[tuple[str, str, str]] = set()
        self.held: set[tuple[str, str, str]] = set()

    def set(self, row: LedgerRow, status: str, reason: rejections.Reason | None, action: str) -> LedgerRow:
        key = ledger_key(row)
        moved = lake.move_to(self.settings, row, status, reason and reason.vi, reason and reason.en)
        self.rows[key] = moved
        if key in self.earlier_keys:
            self.changed.add(key)
        if status == "held":
            self.held.add(key)
        if row.status != status or action == "held":
            lake.audit(self.settings, action, moved, VIA, self.now, previous_status=row.status)
        return moved

    def of(self, source: str, status: str) -> list[LedgerRow]:
        return [r for r in self.rows.values() if r.source == source and r.status == status]

    def path(self, row: LedgerRow) -> str:
        return str(self.settings.data_dir / row.raw_path)

    def supersede_earlier(self, row: LedgerRow, statuses: tuple[str, ...]) -> None:
        """The earlier deliveries of `row`'s path in `statuses` are superseded by it."""
        for other in list(self.rows.values()):
            if (
                other.source == row.source and other.source_file == row.source_file
                and other.sha256 != row.sha256 and other.status in statuses
            ):  # fmt: skip
                reason = rejections.superseded(other.source_file, row.sha256, _day(row.loaded_at))
                self.set(other, "superseded", reason, "superseded")
                if other.status == "loaded":
                    lake.request_rebuild(
                        self.settings,
                        f"{other.source_file} ({other.sha256[:12]}) superseded on {_day(self.now)}",
                    )


def settle(settings: Settings, new_rows: list[LedgerRow], now: datetime, today: date) -> Settled:
    """Hold, release and supersede (module docstring); moves the Parquet, writes the audit lines and
    the rebuild request. The returned rows are for the ledger, which the caller writes."""
    state = _State(settings, ledger_rows(read_ledger(settings)), new_rows, now)
    new_loaded = [state.rows[k] for k in state.new_keys if state.rows[k].status == "loaded"]

    for row in new_loaded:
        if row.source == "service_records":
            ahead, rows = hold.dossiers_ahead(settings.data_dir / row.raw_path, row.extract_date, today)
            if hold.dossiers_held(ahead, rows):
                reason = rejections.held_dossiers_ahead(
                    row.source_file, _day(row.extract_date), _day(today), ahead, rows, hold.AHEAD_SHARE
                )
                state.set(row, "held", reason, "held")

    for when in sorted({r.extract_date for r in new_loaded if r.source == "citizens"}):
        _settle_citizens_date(state, when, settings.hold_loss_share)

    # The newest bytes of a path win: a used delivery supersedes the earlier ones, a held one the
    # earlier held ones (the loaded one stays in use until the new one is released).
    for key in state.new_keys:
        row = state.rows[key]
        if row.status == "loaded":
            state.supersede_earlier(row, ("loaded", "held"))
        elif row.status == "held":
            state.supersede_earlier(row, ("held",))

    return Settled(
        rows=[state.rows[k] for k in state.new_keys],
        changed=[state.rows[k] for k in state.changed],
        held=[state.rows[k] for k in state.held],
    )


def _settle_citizens_date(state: _State, when: date, threshold: float) -> None:
    new = {
        k for k in state.new_keys if state.rows[k].status == "loaded" and state.rows[k].source == "citizens"
    }
    new_paths = {state.rows[k].source_file for k in new if state.rows[k].extract_date == when}
    candidates = [
        r for k, r in state.rows.items()
        if r.source == "citizens" and r.extract_date == when
        and ((k in new) or (r.status == "held" and r.source_file not in new_paths))
    ]  # fmt: skip
    candidate_paths = {r.source_file for r in candidates}
    loaded_by_date: dict[date, list[LedgerRow]] = defaultdict(list)
    candidate_keys = {ledger_key(r) for r in candidates}
    for r in state.of("citizens", "loaded"):  # earlier dates' new files included: already settled
        if ledger_key(r) not in candidate_keys:
            loaded_by_date[r.extract_date].append(r)
    if loaded_by_date.get(when):
        baseline_date, baseline = when, loaded_by_date[when]
    else:
        earlier = [d for d in loaded_by_date if d < when]
        if not earlier:
            return  # the first snapshot: nothing to lose
        baseline_date = max(earlier)
        baseline = loaded_by_date[baseline_date]
    kept = [r for r in loaded_by_date.get(when, []) if r.source_file not in candidate_paths]
    before = hold.citizens_persons([state.settings.data_dir / r.raw_path for r in baseline])
    after = hold.citizens_persons([state.settings.data_dir / r.raw_path for r in [*kept, *candidates]])
    lost = hold.loss(before, after)
    if lost.exceeds(threshold):
        log.warning("citizens %s: %s, worst %s: held", when, lost.figures, lost.worst)
        for row in candidates:
            reason = rejections.held_snapshot(
                row.source_file, _day(when), len(kept) + len(candidates), _day(baseline_date),
                lost.figures, lost.worst, threshold,
            )  # fmt: skip
            state.set(row, "held", reason, "held")
        return
    for row in candidates:
        if row.status == "held":  # the snapshot came whole: its held files are used
            state.set(row, "loaded", None, "released")
            state.supersede_earlier(state.rows[ledger_key(row)], ("loaded", "held"))


def unchecked(settings: Settings, new_rows: list[LedgerRow], now: datetime, error: str) -> list[LedgerRow]:
    """The checks failed (a fault of ours): the run's new citizens and dossier files are held, so no
    unchecked snapshot is built from; a steward can release them."""
    rows = []
    for row in new_rows:
        if row.status == "loaded" and row.source in ("citizens", "service_records"):
            reason = rejections.Reason(
                "held_unchecked",
                f"Tạm giữ: không kiểm tra được tệp {row.source_file} ({error}); báo cho nhóm dữ liệu, "
                f"hoặc chạy `ward release {row.source_file}` nếu tệp đúng.",
                f"Held: {row.source_file} could not be checked ({error}); report it to the data team, or run "
                f"`ward release {row.source_file}` if the file is right.",
            )
            row = lake.move_to(settings, row, "held", reason.vi, reason.en)
            lake.audit(settings, "held", row, VIA, now, previous_status="loaded")
        rows.append(row)
    return rows
