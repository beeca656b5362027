"""Splink comparison settings shared by the ward identity resolver and the Febrl benchmark.

Every record handed to splink carries string columns: ``unique_id``, a folded ``name``, ``dob`` as
``YYYYMMDD`` text, and whatever exact / fuzzy columns the caller names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import duckdb
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink import comparison_library as cl

SEED = 42

logging.getLogger("splink").setLevel(logging.ERROR)


def dob_comparison(col: str = "dob") -> cl.CustomComparison:
    """Date of birth as YYYYMMDD text: exact, day/month swapped, one typo, same year, else."""
    swapped = (
        f"substr({col}_l, 1, 4) = substr({col}_r, 1, 4) and substr({col}_l, 5, 2) = substr({col}_r, 7, 2) "
        f"and substr({col}_l, 7, 2) = substr({col}_r, 5, 2)"
    )
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col),
            cll.CustomLevel(swapped, label_for_charts="day/month swapped"),
            cll.LevenshteinLevel(col, 1),
            cll.CustomLevel(f"substr({col}_l, 1, 4) = substr({col}_r, 1, 4)", label_for_charts="same year"),
            cll.ElseLevel(),
        ],
    )


def build_settings(
    link_type: str,
    *,
    exact_cols: Sequence[str] = (),
    fuzzy_cols: Sequence[str] = (),
    blocking: Sequence[Any] = (),
) -> SettingsCreator:
    comparisons: list[Any] = [cl.NameComparison("name"), dob_comparison("dob")]
    comparisons += [cl.JaroWinklerAtThresholds(c, [0.92, 0.8]) for c in fuzzy_cols]
    comparisons += [cl.ExactMatch(c) for c in exact_cols]
    rules = list(blocking) or [block_on("name"), block_on("dob")]
    return SettingsCreator(
        link_type=link_type,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def train_and_predict(
    tables: Sequence[Any],
    settings: SettingsCreator,
    *,
    threshold: float,
    em_blocking: Sequence[Any] = (),
    u_max_pairs: float = 1e6,
) -> Any:
    """Train (random-sample u with a fixed seed, EM for m) and predict; returns pairs above threshold.

    Runs in its own in-memory DuckDB so splink's working tables never land in the warehouse.
    """
    spcon = duckdb.connect()
    api = DuckDBAPI(connection=spcon)
    frames = [api.register(t) for t in tables]
    linker = Linker(frames if len(frames) > 1 else frames[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        list(em_blocking) or [block_on("name", "dob")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=SEED)
    for rule in em_blocking or [block_on("name"), block_on("dob")]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    return predictions.as_pyarrow_table()
