"""Every delivered file as a partition of `steward/delivery`, with its fate, in Dagster's own terms.

One dynamic partition per delivery (a file as received: its path and the first 12 hex digits of its
sha256, so a path delivered again with other bytes is a second partition). The steward view
(assets/steward.py) reports each delivery once its figures are published:

- a loaded file as a materialization of its partition (its rows are in the warehouse);
- a file not taken (rejected, duplicate, held, superseded, withdrawn) as an observation: its
  partition stays unmaterialized in the partitions bar, and the event says why.

Both carry status, reason (VI and EN), rows in, kept and quarantined. A delivery is reported when
its partition is new, or when its line differs from the one the previous steward view published
(Dagster's last materialization of `steward/deliveries`): a daily run reports its one new file, not
the whole ledger again. The asset is external: nothing materializes it but the steward view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from orchestration.steward import bilingual, status_of

DELIVERY = dg.AssetKey(["steward", "delivery"])
DELIVERY_PARTITIONS = dg.DynamicPartitionsDefinition(name="deliveries")
SHA_DIGITS = 12
# Dagster refuses these in a partition key (dagster.DynamicPartitionsDefinition); a file name may
# hold any of them in theory (a tab, a newline), never in practice.
_NOT_IN_KEYS = ("...", "\a", "\b", "\f", "\n", "\r", "\t", "\v", "\0")

delivery_spec = dg.AssetSpec(
    DELIVERY,
    partitions_def=DELIVERY_PARTITIONS,
    deps=[dg.AssetKey(["landing", "deliveries"]), dg.AssetKey(["marts", "deliveries"])],
    group_name="steward",
    description=bilingual(
        "Mỗi tệp đã nhận là một phân vùng `<tệp>@<12 ký tự đầu của sha256>`. Thẻ Partitions: xanh là tệp "
        "đã nạp, xám là tệp không được nhận (bị từ chối, trùng, tạm giữ, đã được thay, đã rút). Thẻ "
        "Events: trạng thái, lý do, số dòng nhận, giữ và cách ly của từng tệp; tệp có vấn đề ở trên cùng.",
        "Every delivered file is a partition `<file>@<first 12 hex of its sha256>`. Partitions tab: green "
        "is a loaded file, grey a file not taken (rejected, duplicate, held, superseded, withdrawn). Events "
        "tab: each file's status, reason, rows in, kept and quarantined; files with problems on top.",
    ),
)


def partition_key(source_file: str, sha256: str | None) -> str:
    key = f"{source_file}@{sha256[:SHA_DIGITS]}" if sha256 else source_file
    for bad in _NOT_IN_KEYS:
        key = key.replace(bad, "_")
    return key


def delivery_events(
    records: Sequence[Mapping[str, Any]],
    previous: Iterable[Mapping[str, Any]],
    known: set[str],
) -> list[dg.AssetMaterialization | dg.AssetObservation]:
    """The events to report: deliveries whose partition is not `known`, or whose line (one of
    `records`, as in the steward's deliveries table) is not among the `previous` lines."""
    before = {partition_key(r["file"], r.get("sha256")): dict(r) for r in previous}
    events: list[dg.AssetMaterialization | dg.AssetObservation] = []
    for record in records:
        key = partition_key(record["file"], record.get("sha256"))
        if key in known and before.get(key, record) == dict(record):
            continue  # reported as it is now (or beyond the previous table's length: left as it was)
        loaded = status_of(record["status"]) == "loaded"
        event = dg.AssetMaterialization if loaded else dg.AssetObservation
        events.append(event(asset_key=DELIVERY, partition=key, metadata=_metadata(record)))
    return events


def _metadata(record: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "status": record["status"],
        "reason_vi": record["reason_vi"] or "—",
        "reason_en": record["reason_en"] or "—",
        "extract_date": record["extract_date"] or "—",
    }
    for rows in ("rows_in", "rows_kept", "rows_quarantined"):
        if record[rows] is not None:
            metadata[rows] = int(record[rows])
    return metadata


def report_deliveries(
    context: dg.AssetExecutionContext, records: Sequence[Mapping[str, Any]], previous
) -> int:
    """Add the new deliveries' partitions and log their events; returns how many were reported."""
    known = set(context.instance.get_dynamic_partitions(DELIVERY_PARTITIONS.name))
    events = delivery_events(records, previous, known)
    new = sorted({e.partition for e in events} - known)
    if new:
        context.instance.add_dynamic_partitions(DELIVERY_PARTITIONS.name, new)
    for event in reversed(events):  # the Events tab lists the newest first: problems on top
        context.log_event(event)
    return len(events)
