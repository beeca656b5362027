"""Ingest: every new file of the landing folder into the raw lake, recorded in the ledger.

The asset keys match the dbt sources (source `landing`), so dbt's staging models hang below them.
A re-delivered file (same bytes) is a no-op; a file that cannot be taken is set aside with a reason
and never stops the others; a citizens snapshot losing persons or a dossier extract dated ahead is
held (ward.deliveries), and a path delivered again supersedes its earlier delivery.
"""

import dagster as dg

from orchestration.resources import WardResource
from orchestration.steward import SOURCE_VI, bilingual, landing_source_metadata, rejected_files_table
from ward.corrections import ingest_corrections
from ward.ingest.load import ingest_landing
from ward.settings import SOURCES

LANDING_KEYS = {source: dg.AssetKey(["landing", source]) for source in SOURCES}
DELIVERIES_KEY = dg.AssetKey(["landing", "deliveries"])
CORRECTIONS_KEY = dg.AssetKey(["landing", "corrections"])


def _landing_description(source: str) -> str:
    return bilingual(
        f"Các dòng {SOURCE_VI[source].lower()} thô của mọi tệp đã nạp (raw/{source}/). `files_rejected`: "
        "số tệp bị từ chối đến nay; `latest_extract_date`: ngày trích xuất mới nhất, "
        "kiểm tra độ mới (freshness) đo từ đó.",
        f"Raw {source} rows of every loaded file (raw/{source}/). `files_rejected`: files rejected so far; "
        "`latest_extract_date`: the newest extract loaded, which the freshness check measures from.",
    )


@dg.multi_asset(
    specs=[
        *(
            dg.AssetSpec(key, group_name="ingest", description=_landing_description(source))
            for source, key in LANDING_KEYS.items()
        ),
        dg.AssetSpec(
            DELIVERIES_KEY,
            group_name="ingest",
            description=bilingual(
                "Sổ giao nhận: mỗi tệp đã thấy một dòng (đã nạp, bị từ chối, trùng). Bảng `rejected_files`: "
                "các tệp bị để riêng trong rejected/ và lý do.",
                "Ledger of every file seen (loaded, rejected, duplicate). Table `rejected_files`: the files "
                "set aside in rejected/ and why.",
            ),
        ),
        dg.AssetSpec(
            CORRECTIONS_KEY,
            group_name="ingest",
            description=bilingual(
                "Các bảng sửa lỗi cán bộ gửi (landing/corrections/), mỗi dòng đã điền một dòng.",
                "Stewards' corrections (landing/corrections/), one row per filled line.",
            ),
        ),
    ],
    name="landing_extracts",
    can_subset=True,  # a run builds the sources with new files (orchestration/selection.py)
)
def landing_extracts(context: dg.AssetExecutionContext, ward: WardResource):
    report = ingest_landing(ward.settings)
    # After the extracts: a correction names a delivered file, which must be in the ledger first.
    corrections = ingest_corrections(ward.settings)
    for outcome in report.files:
        if outcome.status == "rejected":
            context.log.warning(f"{outcome.source_file}: rejected — {outcome.reason_en}")
        elif outcome.status == "duplicate":
            context.log.info(f"{outcome.source_file}: duplicate — {outcome.reason_en}")
        elif outcome.status == "held":
            context.log.warning(f"{outcome.source_file}: held — {outcome.reason_en}")
    for row in report.changed:  # earlier deliveries released, held again or superseded
        context.log.info(f"{row.source_file} ({row.sha256[:12]}): now {row.status}")
    for source, key in LANDING_KEYS.items():
        if key not in context.selected_asset_keys:
            continue  # no new file of this source was planned; one arriving since waits for the next run
        files = [f for f in report.files if f.source == source]
        yield dg.MaterializeResult(
            asset_key=key,
            metadata=landing_source_metadata(ward.settings, source, files),  # ledger totals too
        )
    yield dg.MaterializeResult(
        asset_key=DELIVERIES_KEY,
        metadata={
            "files_seen_this_run": len(report.files),
            "rejected_files": rejected_files_table(ward.settings),
        },
    )
    for name, accepted, rejected in corrections.files:
        context.log.info(f"{name}: {accepted} correction(s) taken, {rejected} rejected (marts.corrections)")
    if CORRECTIONS_KEY not in context.selected_asset_keys:
        return  # no new corrections sheet was planned (one arriving since waits for the next run)
    yield dg.MaterializeResult(
        asset_key=CORRECTIONS_KEY,
        metadata={
            "new_files": len(corrections.files),
            "corrections_taken": sum(f[1] for f in corrections.files),
            "lines_rejected": sum(f[2] for f in corrections.files),
        },
    )
