"""Load the ward's row-level rules from expectations/rules.yml (their one home) and check them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ward.settings import EXPECTATIONS_DIR
from ward.sources import SOURCES

RULES_PATH = EXPECTATIONS_DIR / "rules.yml"
OUTCOMES = ("quarantine", "flag")
DIMENSIONS = ("dung", "du", "sach", "song", "thong_nhat", "dung_chung")
KINDS = ("predicate", "duplicate_row")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

# The staged dbt model each source's rules run against (schema.table in the build database).
STAGED_MODELS = {
    "citizens": "staging.stg_landing__citizens",
    "households": "staging.stg_landing__households",
    "service_records": "staging.stg_landing__service_records",
}


@dataclass(frozen=True)
class Rule:
    code: str
    source: str
    column: str
    outcome: str
    dimension: str
    reason_vi: str
    reason_en: str
    kind: str = "predicate"
    unexpected_when: str | None = None
    value: str | None = None  # staged column quoting the delivered value

    @property
    def check_name(self) -> str:
        """Dagster asset-check names are snake_case."""
        return self.code.lower()

    @property
    def is_blocking(self) -> bool:
        return False  # row rules route rows; they never stop the run (conservation does)

    def value_column(self, staged_columns: set[str]) -> str | None:
        if self.value:
            return self.value
        for candidate in (f"{self.column}_raw", self.column):
            if candidate in staged_columns:
                return candidate
        return None


class RuleFileError(ValueError):
    """rules.yml is malformed; the message names the rule and the field."""


def _parse(entry: dict, position: int) -> Rule:
    where = f"{RULES_PATH.name}, rule #{position} ({entry.get('code', '?')})"
    known = set(Rule.__dataclass_fields__)
    unknown = set(entry) - known
    if unknown:
        raise RuleFileError(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        rule = Rule(**entry)
    except TypeError as exc:
        raise RuleFileError(f"{where}: {exc}") from exc
    if rule.source not in SOURCES:
        raise RuleFileError(f"{where}: source must be one of {sorted(SOURCES)}")
    if rule.outcome not in OUTCOMES:
        raise RuleFileError(f"{where}: outcome must be one of {OUTCOMES}")
    if rule.dimension not in DIMENSIONS:
        raise RuleFileError(f"{where}: dimension must be one of {DIMENSIONS}")
    if rule.kind not in KINDS:
        raise RuleFileError(f"{where}: kind must be one of {KINDS}")
    if rule.kind == "predicate" and not rule.unexpected_when:
        raise RuleFileError(f"{where}: a predicate rule needs unexpected_when")
    return rule


@cache
def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    rules = tuple(_parse(entry, i) for i, entry in enumerate(entries, start=1))
    codes = [r.code for r in rules]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise RuleFileError(f"{path.name}: rule codes used twice: {duplicated}")
    return rules


def rules_for(source: str) -> list[Rule]:
    return [r for r in load_rules() if r.source == source]
