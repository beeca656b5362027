"""A small factory: every rule of expectations/rules.yml becomes a Dagster asset check.

The check sits on the staged model the rule reads, reports how many rows broke it with sample row
positions (file:row, never the personal values), and warns: row rules route rows to quarantine or
findings, they do not stop the run. Conservation (rows in = kept + quarantined) is the blocking
check, run by dbt on marts.deliveries.

A check runs in every run that builds its staged model (orchestration/selection.py) and reports the
rule on all the model's rows as they stand after the quality step: its latest result in the UI is
always that of the data as last built.
"""

import dagster as dg

from assets.dbt import staging_key
from assets.quality import ROW_ISSUES
from orchestration.resources import WardResource
from orchestration.steward import result_description, rule_description, rule_results
from ward.quality.rules import STAGED_MODELS, Rule, load_rules


def _spec(rule: Rule) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=rule.check_name,
        asset=staging_key(STAGED_MODELS[rule.source].split(".")[1]),
        additional_deps=[ROW_ISSUES],
        description=rule_description(rule),  # VI then EN, columns named (orchestration/steward.py)
        metadata={"rule": rule.code, "outcome": rule.outcome, "dimension": rule.dimension},
    )


def build_rule_checks(rules: tuple[Rule, ...] | None = None) -> dg.AssetChecksDefinition:
    rules = load_rules() if rules is None else rules
    by_name = {r.check_name: r for r in rules}

    @dg.multi_asset_check(specs=[_spec(r) for r in rules], name="ward_rule_checks", can_subset=True)
    def ward_rule_checks(context: dg.AssetCheckExecutionContext, ward: WardResource):
        results = rule_results(ward.settings)
        for check_key in context.selected_asset_check_keys:
            rule = by_name[check_key.name]
            checked, failed, sample, error, _ = results.get(rule.code, (None, None, [], "not run", True))
            yield dg.AssetCheckResult(
                asset_key=check_key.asset_key,
                check_name=check_key.name,
                passed=error is None and failed == 0,
                description=result_description(rule.outcome, failed, error),
                severity=dg.AssetCheckSeverity.ERROR if error else dg.AssetCheckSeverity.WARN,
                metadata={
                    "rule": rule.code,
                    "outcome": rule.outcome,
                    "rows_checked": checked if checked is not None else -1,
                    "rows_failed": failed if failed is not None else -1,
                    "sample_rows": ", ".join(sample or []),
                    "error": error or "",
                },
            )

    return ward_rule_checks
