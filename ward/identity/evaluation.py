"""Pairwise precision / recall / F1 of a clustering against the truth (tests and benchmark)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def pairwise_scores(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    predicted: str,
    truth: str,
    exclude_pairs_where: str | None = None,
) -> PairScores:
    """Scores over all pairs of rows of `relation`: a pair is predicted when both rows have the same
    `predicted` value, true when the same `truth` value.

    `exclude_pairs_where`: a boolean column; pairs of two rows where it is true are left out (e.g.
    two rows with the same valid ID: right by construction, they would swamp the linkage's work).
    """
    flag = exclude_pairs_where or "false"

    def pairs(group: str) -> str:
        return f"""
            select coalesce(sum(n * (n - 1) / 2 - k * (k - 1) / 2), 0) from (
                select count(*) as n, count(*) filter (where {flag}) as k from {relation} group by {group}
            )"""

    true_pairs, predicted_pairs, tp = (
        int(con.execute(pairs(g)).fetchall()[0][0]) for g in (truth, predicted, f"{truth}, {predicted}")
    )
    return PairScores(true_pairs, predicted_pairs, tp)
