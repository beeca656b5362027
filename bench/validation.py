"""`python -m bench.validation DATA_DIR`: the ward's rules in plain SQL against the same rules in GX.

DATA_DIR is a data root a pipeline run left behind (e.g. `python -m bench.run --sizes 1000000 --keep`),
whose build database holds the staged tables. Both evaluations read the same tables in the same
process run; the figures go to bench/results/validation-<rows>.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from ward.quality.evaluate import evaluate_rules
from ward.quality.gx_validation import run_gx
from ward.quality.rules import load_rules
from ward.settings import REPO_ROOT, Settings


def main() -> None:
    settings = Settings(data_dir=Path(sys.argv[1]).resolve())
    rules = load_rules()
    with duckdb.connect(str(settings.build_db_path)) as con:
        citizens = con.execute("select count(*) from staging.stg_landing__citizens").fetchall()[0][0]
        started = time.perf_counter()
        results = evaluate_rules(con, settings.raw_dir, rules)
        sql_seconds = time.perf_counter() - started
    predicate_rules = tuple(r.rule for r in results if r.rule.kind == "predicate" and not r.error)
    started = time.perf_counter()
    outcomes, _ = run_gx(settings.build_db_path, settings.quality_dir / "bench", predicate_rules)
    gx_seconds = time.perf_counter() - started
    agree = all(
        outcomes[r.rule.code].unexpected_count == r.rows_failed for r in results if r.rule in predicate_rules
    )
    figures = {
        "citizen_rows": citizens,
        "rules_sql": len(results),
        "rules_gx": len(predicate_rules),
        "sql_seconds_all_rules_with_row_routing": round(sql_seconds, 2),
        "gx_seconds_predicate_rules_incl_subprocess_and_import": round(gx_seconds, 2),
        "counts_agree": agree,
    }
    out = REPO_ROOT / "bench" / "results" / f"validation-{citizens}.json"
    out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
