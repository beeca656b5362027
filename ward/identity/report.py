"""What a resolution did, in figures (returned by resolve_identities, logged by the asset)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ward.identity.linkage import LinkageResult


@dataclass
class IdentityReport:
    rows_kept: int = 0
    rows_excluded: int = 0  # quarantined rows, not resolved
    persons: int = 0
    persons_with_citizen_id: int = 0
    rows_by_method: dict[str, int] = field(default_factory=dict)
    linkage_method: str = "none"  # 'splink', 'exact' (too few rows to train) or 'none'
    linkage_records: int = 0  # profiles compared (distinct identity + attributes)
    linkage_unsettled: int = 0  # of which without a 12-digit ID
    scored_pairs: int = 0  # pairs scored at or above the review threshold
    links_accepted: int = 0
    links_refused: int = 0  # would have joined two different IDs (listed for review)
    same_snapshot_links: int = 0  # accepted links between rows of one snapshot (CIT_DUPLICATE_PERSON)
    review_pairs: int = 0
    probability_two_random_records_match: float | None = None
    applicant_rows: int = 0
    applicants_by_method: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    model: dict[str, Any] | None = None

    def absorb_linkage(self, linkage: LinkageResult) -> None:
        self.linkage_method = linkage.method
        self.linkage_records = linkage.records
        self.linkage_unsettled = linkage.unsettled
        self.scored_pairs = linkage.candidate_pairs
        self.probability_two_random_records_match = linkage.probability_two_random_records_match
        self.notes.extend(linkage.notes)
        self.model = linkage.model
        self.seconds.update({f"linkage_{k}": v for k, v in linkage.seconds.items()})

    def as_dict(self, with_model: bool = False) -> dict[str, Any]:
        out = asdict(self)
        if not with_model:
            out.pop("model")
        return out
