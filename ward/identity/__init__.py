"""One identity per person: every kept citizens row -> a stable person_key (see README.md here).

    from ward.identity import resolve_identities
    report = resolve_identities(con)  # writes identity.row_persons, review_pairs, persons,
                                      # applicant_persons

The splink model (comparisons, blocking rules, thresholds, confidences) is ward.identity.settings.
"""

from ward.identity.linkage import LinkageResult, score_pairs
from ward.identity.report import IdentityReport
from ward.identity.resolve import match_new_applicants, resolve_identities

__all__ = ["IdentityReport", "LinkageResult", "match_new_applicants", "resolve_identities", "score_pairs"]
