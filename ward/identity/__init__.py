"""Who is who: one person_key per citizen row, and applicants linked to persons."""

from ward.identity.applicants import link_applicants
from ward.identity.resolve import IdentityReport, resolve_identities

__all__ = ["IdentityReport", "link_applicants", "resolve_identities"]
