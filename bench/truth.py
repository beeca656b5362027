"""`python -m bench.truth --people 60000 --seeds 1 2 3`: is the warehouse true on wards it never saw?

For each seed: generate a ward (`ward generate`), run the whole pipeline, and hold the published
warehouse against the generator's truth (computed from the clean ward, independently of the
pipeline): cells of mart_population_by_group and mart_service_kpis that differ, persons of
dim_citizen against the truth's, pairwise precision and recall of "same person" among the rows of
one snapshot, twin pairs merged, and each planted problem found as its finding (true and false).
`--data-dir DIR` measures a data root already built instead. Figures go to
bench/results/truth-<people>.json. Run by hand; the e2e test asserts the same on a small ward.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from ward.settings import REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "results"
KEY = "bench-key-0123456789abcdef"

# planted dirt kind -> the finding rule that must name that row
PLANTED_FINDINGS = {
    "death_after_extract": "CIT_DEATH_AFTER_EXTRACT",
    "second_head": "CIT_SECOND_HEAD",
    "household_unknown": "CIT_HOUSEHOLD_UNKNOWN",
}


def _pairs(frame: pl.DataFrame, keys: list[str]) -> int:
    sizes = frame.group_by(keys).len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def _cells_differing(mart: pl.DataFrame, truth: pl.DataFrame, keys: list[str]) -> tuple[int, int]:
    """(cells that differ, cells compared) over the truth's columns, rows matched on keys."""
    columns = [c for c in truth.columns if c not in keys]
    text = [pl.col(c).cast(pl.String).fill_null("") for c in truth.columns]
    left = truth.select(text)
    right = mart.select([c for c in truth.columns]).select(text)
    joined = left.join(right, on=keys, how="full", suffix="_mart", coalesce=True)
    differing = 0
    for c in columns:
        a, b = joined[c].fill_null("<missing>"), joined[f"{c}_mart"].fill_null("<missing>")
        a_num, b_num = a.cast(pl.Float64, strict=False), b.cast(pl.Float64, strict=False)
        same_number = (a_num - b_num).abs().fill_null(1.0) < 1e-9
        differing += int((~((a == b) | same_number)).sum())
    return differing, joined.height * len(columns)


def measure(data_dir: Path) -> dict:
    settings = Settings(data_dir=data_dir)
    truth_dir = settings.truth_dir
    out: dict = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:

        def mart(name: str) -> pl.DataFrame:
            return con.sql(f"select * from marts.{name}").pl()

        for name, keys in (
            ("mart_population_by_group", ["snapshot_date", "residential_group_no"]),
            ("mart_service_kpis", ["month", "procedure_code"]),
        ):
            truth = pl.read_csv(truth_dir / f"{name}.csv", infer_schema_length=0)
            differing, cells = _cells_differing(mart(name), truth, keys)
            out[name] = {"cells": cells, "cells_differing": differing}
        rows = con.sql(
            "select source_file, row_number, person_key, extract_date from identity.row_persons"
        ).pl()
        findings = mart("findings").select("source_file", "row_number", "rule")
        dim_persons = con.execute("select count(*) from marts.dim_citizen").fetchall()[0][0]

    clean = pl.read_parquet(truth_dir / "citizens_clean.parquet")
    out["dim_citizen"] = {
        "persons": dim_persons,
        "truth": clean.filter(pl.col("snapshot_date") == clean["snapshot_date"].max()).height,
    }
    truth_rows = clean.select("source_file", "row_number", "person_seq")
    duplicates_path = truth_dir / "duplicate_rows.csv"
    if duplicates_path.exists():
        duplicates = pl.read_csv(duplicates_path).select("source_file", "row_number", "person_seq")
        truth_rows = pl.concat([truth_rows, duplicates.cast(truth_rows.schema)])
    joined = rows.join(truth_rows, on=["source_file", "row_number"], how="inner")
    true_positive = _pairs(joined, ["extract_date", "person_key", "person_seq"])
    predicted = _pairs(joined, ["extract_date", "person_key"])
    actual = _pairs(joined, ["extract_date", "person_seq"])
    out["within_snapshot"] = {
        "rows": joined.height,
        "rows_in_truth": truth_rows.height,
        "true_pairs": actual,
        "predicted_pairs": predicted,
        "precision": true_positive / predicted if predicted else 1.0,
        "recall": true_positive / actual if actual else 1.0,
    }
    twins_path = truth_dir / "twins.csv"
    if twins_path.exists():
        twins = pl.read_csv(twins_path)
        keys_of = joined.select("person_seq", "person_key").unique()
        merged = (
            twins.join(keys_of, left_on="person_seq_a", right_on="person_seq")
            .join(keys_of, left_on="person_seq_b", right_on="person_seq", suffix="_b")
            .filter(pl.col("person_key") == pl.col("person_key_b"))
            .select("person_seq_a", "person_seq_b")
            .unique()
        )
        out["twins"] = {"pairs": twins.height, "merged": merged.height}

    dirt = pl.read_csv(truth_dir / "dirt.csv", infer_schema_length=0)
    for kind, rule in PLANTED_FINDINGS.items():
        planted = dirt.filter(pl.col("kind") == kind).select(
            "source_file", pl.col("row_number").cast(pl.Int32)
        )
        found = findings.filter(pl.col("rule") == rule).select(
            "source_file", pl.col("row_number").cast(pl.Int32)
        )
        hit = planted.join(found, on=["source_file", "row_number"], how="semi").height
        out[rule] = {"planted": planted.height, "found": found.height, "planted_found": hit}
    households = pl.read_parquet(truth_dir / "households_clean.parquet")
    wrong = households.filter(pl.col("member_count_wrong")).select(
        "source_file", pl.col("row_number").cast(pl.Int32)
    )
    found = findings.filter(pl.col("rule") == "HH_MEMBER_COUNT_MISMATCH").select(
        "source_file", pl.col("row_number").cast(pl.Int32)
    )
    out["HH_MEMBER_COUNT_MISMATCH"] = {
        "planted": wrong.height,
        "found": found.height,
        "false_findings": found.join(wrong, on=["source_file", "row_number"], how="anti").height,
        "missed": wrong.join(found, on=["source_file", "row_number"], how="anti").height,
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--groups", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--data-dir", type=Path, help="measure this built data root instead")
    args = parser.parse_args()
    if args.data_dir:
        print(json.dumps(measure(args.data_dir), indent=2, default=str))
        return
    from tests.fixtures.pipeline import run_ward
    from ward.generate import generate_ward

    results = {}
    for seed in args.seeds:
        root = Path(tempfile.mkdtemp(prefix=f"ward-truth-{seed}-"))
        try:
            generate_ward(root, people=args.people, groups=args.groups, seed=seed)
            code = run_ward(Settings(data_dir=root, shared_export_key=KEY), io.StringIO())
            results[seed] = {"exit_code": code, **measure(root)}
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print(json.dumps({seed: results[seed]}, indent=2, default=str), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"truth-{args.people}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"figures in {path}")


if __name__ == "__main__":
    main()
