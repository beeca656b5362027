"""The same rules, validated by Great Expectations 1.x: Data Docs for stewards and a second opinion.

Each predicate rule of expectations/rules.yml becomes an `UnexpectedRowsExpectation` in one suite per
source, run on the staged rows this run evaluates (quality.pending_files: new deliveries; every row
on a full build) in the build database. The suites are generated at run time from
rules.yml (the rules' only home) into a file context under data/quality/gx; each validation adds
its pages to the Data Docs and refreshes their index.

Why both this and evaluate.py: evaluate.py routes every row (GX returns counts, not all rows); GX
gives the steward-facing Data Docs. The two must agree on every rule's count — a disagreement, or a
GX exception, is reported as an error, never as a pass (see ../shared/stack-notes.md: GX on DuckDB
can fail silently).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ward.private_apis import keep_gx_duckdb_connections_open
from ward.quality.rules import STAGED_MODELS, Rule


@dataclass(frozen=True)
class GxOutcome:
    success: bool | None
    unexpected_count: int | None
    error: str | None


def _import_gx():
    # GX prints progress bars and costs ≈ 3 s to import: only when validating.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    # GX would read DuckDB results after closing the connection (a private setting of GX's).
    keep_gx_duckdb_connections_open()
    return gx


def _error_of(result) -> str | None:
    info = result.exception_info or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    for item in infos:
        if isinstance(item, dict) and item.get("raised_exception"):
            return str(item.get("exception_message") or "GX raised an exception").splitlines()[0]
    return None


def data_docs_index(context_dir: Path) -> Path:
    return context_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


class GxWorker:
    """Great Expectations in a child process, started early: it imports GX (≈ 2–3 s) while the SQL
    rules run, and validates when `validate` hands it the rules (and the build file is free).

    A child process, because GX keeps its DuckDB connections alive past our control (the
    persisted-connection setting), and the build file must be free for the next writer. The child
    answers once it has validated and closed its connection; it renders the Data Docs pages after,
    while the run goes on, and `close` waits for them.
    """

    # Rendering a validation's Data Docs pages takes ≈ 0.2 s; a worker still at it after this long
    # is stopped, and its pages are rendered again by the next validation.
    DOCS_TIMEOUT = 120

    def __init__(self, build_db: Path, context_dir: Path) -> None:
        self.serves = (build_db, context_dir)
        self._context_dir = context_dir
        self._tmp = tempfile.TemporaryDirectory()
        self._stderr = Path(self._tmp.name) / "stderr.txt"
        with self._stderr.open("w") as stderr:  # a file, not a pipe: nobody reads it while it runs
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ward.quality.gx_validation", str(build_db), str(context_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self._answered = False

    def validate(self, rules: tuple[Rule, ...]) -> tuple[dict[str, GxOutcome], str]:
        """Validate every predicate rule; returns outcomes by rule code and the Data Docs path."""
        if not rules:  # nothing new to validate: the Data Docs of the last validation stand
            return {}, str(data_docs_index(self._context_dir))
        spec = Path(self._tmp.name) / "rules.json"
        spec.write_text(json.dumps([asdict(r) for r in rules]))
        try:
            self._process.stdin.write(f"{spec}\n")
            self._process.stdin.close()
            answered = self._process.stdout.readline().strip() == ANSWERED
        except OSError:  # the child is gone
            answered = False
        if not answered:
            self._process.wait()
            tail = (self._stderr.read_text().strip().splitlines() or ["no output"])[-1]
            error = f"Great Expectations did not run: {tail}"
            return {r.code: GxOutcome(None, None, error) for r in rules}, ""
        self._answered = True
        answer = json.loads(spec.with_name(spec.name + ".out").read_text())
        return {code: GxOutcome(**o) for code, o in answer["outcomes"].items()}, answer["docs"]

    def __enter__(self) -> GxWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Let the child finish its Data Docs pages, or stop it if it is still waiting (nothing to
        validate); then remove its files."""
        if self._process.poll() is None:
            if self._answered:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(self.DOCS_TIMEOUT)
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        self._tmp.cleanup()


ANSWERED = "answered"  # the child's line once its answer is written and the build file is free


_started_with_the_process: GxWorker | None = None


@contextlib.contextmanager
def gx_worker_for_this_run(build_db: Path, context_dir: Path) -> Iterator[None]:
    """A worker started with a one-run process (`ward run`, ward.warm_workers), before it imports
    Dagster: the quality step takes it (take_worker) instead of starting one at the run's start."""
    global _started_with_the_process
    worker = GxWorker(build_db, context_dir)
    _started_with_the_process = worker
    try:
        yield
    finally:
        _started_with_the_process = None
        worker.close()


def take_worker(build_db: Path, context_dir: Path) -> GxWorker:
    """The worker this process started for its run, if it serves these paths; else a new one."""
    global _started_with_the_process
    worker, _started_with_the_process = _started_with_the_process, None
    if worker is not None and worker.serves == (build_db, context_dir):
        return worker
    if worker is not None:
        worker.close()
    return GxWorker(build_db, context_dir)


def run_gx(build_db: Path, context_dir: Path, rules: tuple[Rule, ...]) -> tuple[dict[str, GxOutcome], str]:
    """Validate every predicate rule with GX (see GxWorker)."""
    with GxWorker(build_db, context_dir) as worker:
        return worker.validate(rules)


def _open_context(context_dir: Path):
    """GX's file context (≈ 0.1 s): it reads the project folder only, so the worker opens it before
    the build file is free; adding the data source connects to the file, so that waits."""
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=str(context_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _run_gx_here(
    build_db: Path, context_dir: Path, rules: tuple[Rule, ...], context=None, answer=None
) -> tuple[dict[str, GxOutcome], str]:
    """Validate, close the connection to the build file, `answer(outcomes, docs)` if given, then
    render this validation's Data Docs pages; returns the outcomes and the Data Docs index."""
    gx = _import_gx()
    context = context or _open_context(context_dir)
    with _connections_closed_after():  # the build file is free for the run's next writer after
        source = context.data_sources.add_or_update_sql(
            name="ward_build", connection_string=f"duckdb:///{build_db}?access_mode=read_only"
        )
        outcomes, results = _validate(gx, context, source, rules)
    docs = str(data_docs_index(context_dir))
    if answer is not None:
        answer(outcomes, docs)
    # Only this run's pages (and the index): rendering every past validation again grows with
    # each run (≈ 0.7 s after forty runs).
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    run_ids = {r.meta["run_id"].to_tuple() for r in results}
    new_results = [k for k in context.validation_results_store.list_keys() if k.run_id.to_tuple() in run_ids]
    suites = [ExpectationSuiteIdentifier(name=r.suite_name) for r in results]
    context.build_data_docs(resource_identifiers=[*new_results, *suites])
    return outcomes, docs


@contextlib.contextmanager
def _connections_closed_after() -> Iterator[None]:
    """Every database connection opened inside is closed on leaving. GX keeps its DuckDB connection
    open (the persisted-connection setting) even after its execution engine is closed, and holds
    the build file with it; SQLAlchemy's `connect` event, on every engine, names each connection."""
    import sqlalchemy as sa

    opened = []

    def record(dbapi_connection, _connection_record) -> None:
        opened.append(dbapi_connection)

    sa.event.listen(sa.engine.Engine, "connect", record)
    try:
        yield
    finally:
        sa.event.remove(sa.engine.Engine, "connect", record)
        for connection in opened:
            with contextlib.suppress(Exception):  # already closed
                connection.close()


def _validate(gx, context, source, rules: tuple[Rule, ...]) -> tuple[dict[str, GxOutcome], list]:
    """Outcomes by rule code, and GX's validation result of each source validated."""
    outcomes: dict[str, GxOutcome] = {}
    results = []
    for source_name, relation in STAGED_MODELS.items():
        source_rules = [r for r in rules if r.source == source_name and r.kind == "predicate"]
        if not source_rules:
            continue
        table = relation.split(".")[1]
        # The batch is this run's new rows (quality.pending_files, written by evaluate.py), the
        # rows whose issues the SQL just wrote: the two counts must agree.
        asset = source.add_query_asset(
            name=table,
            query=f"select s.* from {relation} as s semi join quality.pending_files as p "
            f"on p.source = '{source_name}' and p.file_sha256 is not distinct from s.file_sha256",
        )
        batch = asset.add_batch_definition_whole_table(f"{table}_new_rows")
        suite = context.suites.add_or_update(gx.ExpectationSuite(name=f"ward_{source_name}"))
        for rule in source_rules:
            query = f"select * from {{batch}} where coalesce(({rule.unexpected_when}), false)"
            suite.add_expectation(
                gx.expectations.UnexpectedRowsExpectation(
                    unexpected_rows_query=query.replace("{", "{{")
                    .replace("}", "}}")
                    .replace("{{batch}}", "{batch}"),
                    description=f"{rule.code}: {rule.reason_en}",
                    meta={"rule": rule.code},
                )
            )
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"ward_{source_name}", data=batch, suite=suite)
        )
        result = validation.run(result_format="SUMMARY")
        results.append(result)
        for item in result.results:
            code = item.expectation_config.meta["rule"]
            observed = item.result.get("observed_value")
            outcomes[code] = GxOutcome(
                success=None if _error_of(item) else bool(item.success),
                unexpected_count=int(observed) if observed is not None else None,
                error=_error_of(item),
            )
    return outcomes, results


if __name__ == "__main__":
    # Started early and needed last: the run's own process and dbt's get the processors first.
    os.nice(10)
    build_db, context_dir = (Path(a) for a in sys.argv[1:3])
    # GX imported and its context read while the parent runs the SQL rules
    context = _open_context(context_dir)
    spec = Path(sys.stdin.readline().strip())
    rules = tuple(Rule(**r) for r in json.loads(spec.read_text()))

    def answer(outcomes: dict[str, GxOutcome], docs: str) -> None:
        result = {"outcomes": {code: asdict(o) for code, o in outcomes.items()}, "docs": docs}
        spec.with_name(spec.name + ".out").write_text(json.dumps(result))
        print(ANSWERED, flush=True)  # the parent goes on; the Data Docs are rendered meanwhile

    _run_gx_here(build_db, context_dir, rules, context, answer)
    # Everything is written and the DuckDB connection closed: skip the interpreter's teardown of
    # GX (≈ 0.7 s).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
