"""The identity step: one person per identity, before the marts count people (ward.identity)."""

import dagster as dg

from assets.dbt import staging_key
from assets.quality import ROW_ISSUES
from orchestration.resources import WardResource
from ward.build_state import input_fingerprint, is_unchanged, store_fingerprint
from ward.duckdb_config import connect_build_db, side_settings
from ward.identity import match_new_applicants, resolve_identities
from ward.identity.sql import relation_exists

ROW_PERSONS = dg.AssetKey(["identity", "row_persons"])
APPLICANT_PERSONS = dg.AssetKey(["identity", "applicant_persons"])
REVIEW_PAIRS = dg.AssetKey(["identity", "review_pairs"])
_UPSTREAM = [ROW_ISSUES, staging_key("stg_landing__citizens"), staging_key("stg_landing__service_records")]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ROW_PERSONS,
            deps=_UPSTREAM,
            group_name="identity",
            description="Each kept citizens row's person_key: same valid ID = same person; rows "
            "without a usable ID linked with splink; two different IDs never merged.",
        ),
        dg.AssetSpec(
            APPLICANT_PERSONS,
            deps=_UPSTREAM,
            group_name="identity",
            description="Each dossier row's applicant_person_key (by ID, else name and phone).",
        ),
        dg.AssetSpec(
            REVIEW_PAIRS,
            deps=_UPSTREAM,
            group_name="identity",
            description="Candidate matches in the uncertain band, for the steward; never merged.",
        ),
    ],
    name="identity_step",
)
def identity_step(context: dg.AssetExecutionContext, ward: WardResource):
    with connect_build_db(ward.settings) as con:
        # Citizens rows and their issues as last resolved: only the new dossier rows need matching.
        citizens = input_fingerprint(con, ("citizens",))
        if is_unchanged(con, "identity", citizens) and relation_exists(con, "identity.person_lookup"):
            report = match_new_applicants(con)
            context.log.info("Citizens unchanged since the last run: matched the new dossier rows only")
        else:
            store_fingerprint(con, "identity", None)  # until this resolution has succeeded
            report = resolve_identities(con, duckdb_settings=side_settings(ward.settings, "linkage"))
            store_fingerprint(con, "identity", citizens)
        review = con.execute("select count(*) from identity.review_pairs").fetchall()[0][0]
        by_method = dict(
            con.execute("select match_method, count(*) from identity.row_persons group by 1").fetchall()
        )
    for note in report.notes:
        context.log.info(note)
    yield dg.MaterializeResult(asset_key=ROW_PERSONS, metadata={f"rows_{k}": v for k, v in by_method.items()})
    yield dg.MaterializeResult(asset_key=APPLICANT_PERSONS)
    yield dg.MaterializeResult(asset_key=REVIEW_PAIRS, metadata={"pairs_to_review": review})
