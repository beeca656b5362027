"""Score candidate pairs of records with splink on DuckDB (or, with too little data, exactly).

The input is a table of *records* in one layout (RECORD_COLUMNS), whatever they come from: the
ward's citizens (ward.identity.resolve, one record per distinct person profile) or the Febrl
benchmark files (bench/linkage.py). `settled` records are those whose identity an ID already
settles: pairs of two settled records are never formed. `anchor` is that identity (or a softer one,
a CMND): the clustering (ward.identity.clustering) keeps different anchors apart.

Splink runs on its own in-memory DuckDB connection: its many intermediate tables never touch the
warehouse file, and the records travel in and the scored pairs out as Arrow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ward.identity import settings as S

log = logging.getLogger(__name__)

RECORD_COLUMNS = {
    "unique_id": "bigint",
    "anchor": "varchar",
    "settled": "boolean",
    "surname": "varchar",
    "given_name": "varchar",
    "dob_text": "varchar",
    "dob_precision": "varchar",
    "sex": "varchar",
    "household_id": "varchar",
    "phone": "varchar",
    "area": "varchar",
}
#: Columns the comparisons read; one that is null on every record is left out of the model.
MODEL_COLUMNS = ("surname", "given_name", "dob_text", "sex", "household_id", "phone", "area")

PAIRS_SCHEMA = pa.schema(
    [("unique_id_l", pa.int64()), ("unique_id_r", pa.int64()), ("match_probability", pa.float64())]
)


@dataclass
class LinkageResult:
    """Scored pairs (match_probability >= settings.PREDICT_FLOOR) and how they were made."""

    pairs: pa.Table
    method: str  # 'splink', 'exact' (fallback) or 'none' (nothing to link)
    records: int = 0
    unsettled: int = 0
    candidate_pairs: int = 0
    probability_two_random_records_match: float | None = None
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    model: dict | None = None  # the trained splink settings (m/u per level), for the report


def _prepare(con: duckdb.DuckDBPyConnection, records: pa.Table | duckdb.DuckDBPyRelation) -> None:
    """The record table with the derived blocking columns (dob_block, birth_year)."""
    con.register("records_in", records)
    present = set(con.sql("select * from records_in limit 0").columns)
    casts = ", ".join(
        f"cast({c if c in present else 'null'} as {t}) as {c}" for c, t in RECORD_COLUMNS.items()
    )
    con.execute(
        f"""
        create or replace table records as
        select *,
            case when dob_precision = 'day' and length(dob_text) = 8 then
                substr(dob_text, 1, 4) || least(substr(dob_text, 5, 2), substr(dob_text, 7, 2))
                || greatest(substr(dob_text, 5, 2), substr(dob_text, 7, 2))
            end as dob_block,
            substr(dob_text, 1, 4) as birth_year
        from (select {casts} from records_in)
        """
    )
    con.unregister("records_in")


def _present_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    counts = con.execute(
        "select " + ", ".join(f"count({c})" for c in MODEL_COLUMNS) + " from records"
    ).fetchall()[0]
    return {c for c, n in zip(MODEL_COLUMNS, counts, strict=True) if n}


def _prior(con: duckdb.DuckDBPyConnection, records: int, unsettled: int) -> float:
    """Probability that a candidate pair (at least one side unsettled) is a match.

    An unsettled record is expected to have EXPECTED_PARTNERS_PER_UNSETTLED true partners among
    all records; the pairs that splink could score number U·(N−U) + U·(U−1)/2. (Splink's own
    estimator divides by all N²/2 pairs, which here are mostly pairs of two ID records that are
    never compared, and would put the prior 100 times too low on a real snapshot.)
    """
    universe = unsettled * (records - unsettled) + unsettled * (unsettled - 1) / 2
    if universe <= 0:
        return 0.5
    return min(0.5, max(1e-9, S.EXPECTED_PARTNERS_PER_UNSETTLED * unsettled / universe))


def _shrink_to_priors(model: dict, columns: set[str], unsettled: int) -> dict:
    """m = (U·m_trained + K·m_prior) / (U + K), K = settings.PRIOR_PSEUDO_MATCHES, per level.

    EM on a few hundred unsettled records drives the m of levels it never saw to ~1e-20, which
    would make, e.g., a surname typo beyond Jaro-Winkler 0.8 impossible forever. The training data
    hold about U matches (one partner per unsettled record), so the trained values count as U
    observations and the priors of settings.py as K: with 10,000 unsettled records the priors
    weigh 0.5 %, with 100 they weigh a third. u needs no such care (sampled from all records).
    """
    priors = {
        (c["output_column_name"], level["label_for_charts"]): level.get("m_probability")
        for c in S.comparisons(columns)
        for level in c["comparison_levels"]
    }
    k = S.PRIOR_PSEUDO_MATCHES
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            prior = priors.get((comparison["output_column_name"], level.get("label_for_charts")))
            if level.get("is_null_level") or prior is None:
                continue
            trained = level.get("m_probability", prior)
            if not isinstance(trained, (int, float)):
                trained = prior
            level["m_probability"] = (unsettled * trained + k * prior) / (unsettled + k)
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        total = sum(lv.get("m_probability", 0.0) for lv in levels)
        if total > 0:  # levels EM never saw keep their prior: renormalise to a distribution
            for lv in levels:
                lv["m_probability"] = lv.get("m_probability", 0.0) / total
    return model


def _exact_pairs(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Fallback: equal folded name, sex and household, and the same date of birth (same precision)
    or, for full dates, the same with day and month swapped (the one date defect that is certain
    to be a defect)."""
    swapped = (
        "l.dob_precision = 'day' and r.dob_precision = 'day'"
        " and substr(l.dob_text, 1, 4) = substr(r.dob_text, 1, 4)"
        " and substr(l.dob_text, 5, 2) = substr(r.dob_text, 7, 2)"
        " and substr(l.dob_text, 7, 2) = substr(r.dob_text, 5, 2)"
    )
    return con.sql(
        f"""
        select l.unique_id as unique_id_l, r.unique_id as unique_id_r,
            cast(case when l.dob_text = r.dob_text then {S.CONFIDENCE_EXACT}
                      else {S.CONFIDENCE_EXACT_SWAPPED} end as double) as match_probability
        from records l join records r
          on l.surname = r.surname and l.given_name = r.given_name and l.sex = r.sex
             and l.household_id = r.household_id and l.unique_id < r.unique_id and {S.NOT_BOTH_SETTLED}
             and ((l.dob_text = r.dob_text and l.dob_precision = r.dob_precision) or ({swapped}))
        order by 1, 2
        """
    ).to_arrow_table()


def score_pairs(
    records: pa.Table | duckdb.DuckDBPyRelation,
    *,
    threads: int | None = None,
    force_method: str | None = None,
    duckdb_settings: Mapping[str, str] | None = None,
) -> LinkageResult:
    """Score the candidate pairs of `records` (RECORD_COLUMNS); see the module docstring.

    `duckdb_settings` (ward.duckdb_config.side_settings: memory_limit, threads, temp_directory) bound
    splink's own in-memory DuckDB; without them it gets DuckDB's defaults (80% of the RAM)."""
    con = open_linkage_connection(threads, duckdb_settings)
    try:
        return _score(con, records, force_method)
    finally:
        con.close()


def open_linkage_connection(
    threads: int | None = None, duckdb_settings: Mapping[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """splink's in-memory DuckDB under the run's memory settings (threads overrides theirs)."""
    values = dict(duckdb_settings or {})
    if threads:
        values["threads"] = str(int(threads))
    if "temp_directory" in values:
        Path(values["temp_directory"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    con = duckdb.connect()
    for name, value in values.items():
        con.execute(f"set {name} = '{value}'")
    return con


def _score(con: duckdb.DuckDBPyConnection, records, force_method: str | None) -> LinkageResult:
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    _prepare(con, records)
    n, u = con.execute("select count(*), count(*) filter (where not settled) from records").fetchall()[0]
    result = LinkageResult(pairs=PAIRS_SCHEMA.empty_table(), method="none", records=n, unsettled=u)
    seconds["prepare"] = time.perf_counter() - started
    result.seconds = seconds
    if u == 0 or n < 2:
        result.notes.append("no record without a settled identity: nothing to link")
        return result

    method = force_method or ("splink" if u >= S.MIN_UNSETTLED_TO_TRAIN else "exact")
    if method == "exact":
        if not force_method:
            result.notes.append(
                f"only {u} records without a usable ID (< {S.MIN_UNSETTLED_TO_TRAIN}): too few to train "
                "the probabilistic model; linked on exact folded name + date of birth (or day and month "
                "swapped) + sex + household"
            )
        result.method = "exact"
        result.pairs = _exact_pairs(con)
        result.candidate_pairs = result.pairs.num_rows
        seconds["score"] = time.perf_counter() - started - seconds["prepare"]
        return result

    try:
        _splink(con, result)
    except Exception as error:  # a model that cannot be fitted must not stop the pipeline
        log.exception("splink linkage failed; falling back to exact matching")
        result.notes.append(f"splink failed ({type(error).__name__}: {error}); fell back to exact matching")
        result.method = "exact"
        result.pairs = _exact_pairs(con)
        result.candidate_pairs = result.pairs.num_rows
    return result


def _splink(con: duckdb.DuckDBPyConnection, result: LinkageResult) -> None:
    from splink import DuckDBAPI, Linker

    seconds = result.seconds
    columns = _present_columns(con)
    prior = _prior(con, result.records, result.unsettled)
    result.probability_two_random_records_match = prior
    db_api = DuckDBAPI(con)
    sdf = db_api.register("records", table_name="records_input")
    linker = Linker(sdf, S.build_settings(columns, prior), log_level=logging.ERROR)

    started = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=S.U_MAX_PAIRS, seed=S.SEED)
    seconds["train_u"] = time.perf_counter() - started

    started = time.perf_counter()
    for rule in S.EM_BLOCKING_RULES:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=S.EM_MAX_PAIRS
            )
        except Exception as error:  # e.g. no pairs in this blocking: keep the priors for those m
            result.notes.append(f"EM on {rule} skipped: {error}")
    seconds["train_em"] = time.perf_counter() - started

    started = time.perf_counter()
    model = _shrink_to_priors(linker.misc.save_model_to_json(), columns, result.unsettled)
    # the prior is set, never trained: EM sessions leave their blocked pairs' match share in the
    # saved model (0.8 seen on a ward), which would make a shared household alone a link
    model["probability_two_random_records_match"] = prior
    linker = Linker(db_api.register("records", table_name="records_model"), model, log_level=logging.ERROR)
    predictions = linker.inference.predict(threshold_match_probability=S.PREDICT_FLOOR, warning_mode="never")
    result.pairs = con.sql(
        f"""
        select cast(unique_id_l as bigint) as unique_id_l, cast(unique_id_r as bigint) as unique_id_r,
               round(match_probability, 6) as match_probability
        from {predictions.physical_name}
        order by 1, 2
        """
    ).to_arrow_table()
    seconds["predict"] = time.perf_counter() - started
    result.method = "splink"
    result.model = model
    result.candidate_pairs = result.pairs.num_rows
