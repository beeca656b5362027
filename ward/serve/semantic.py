"""The metric layer: the ward's measures declared once (metrics.yml), compiled to SQL over the marts.

Every consumer goes through `MetricLayer.query`: the API (/api/metrics), the tool description for an
AI assistant (/api/tool.json), the leaders' page and bench/serve.py. A caller names metrics and
dimensions from the declared lists only; values of filters are bound as parameters, never pasted
into SQL. The layer knows which rows of a mart are totals (the ward row of a per-group mart, the
`ALL` row of mart_service_kpis) and never sums them with their parts, and that a level such as the
number of residents is read at the latest snapshot when no snapshot is asked for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

METRICS_FILE = Path(__file__).with_name("metrics.yml")
GROUP_DIMENSION = "residential_group_no"
_CONDITION = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(>=|<=|!=|=|>|<)\s*(.*?)\s*$")
_DATE_DIMENSIONS = {"snapshot_date", "month"}
UNITS_COUNTED = {"persons", "households", "events", "dossiers", "count"}


class MetricError(ValueError):
    """A request the metric layer refuses (unknown metric or dimension, bad filter): HTTP 400."""


class ScopeError(PermissionError):
    """A request outside the caller's residential group: HTTP 403."""


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    dimensions: dict[str, str]
    group_column: str | None = None
    totals: dict[str, Any] = field(default_factory=dict)
    time: str | None = None
    latest_only_when_ungrouped: bool = False
    filter: str | None = None
    personal: bool = False


@dataclass(frozen=True)
class Metric:
    name: str
    source: str
    label_vi: str
    label_en: str
    unit: str
    expression: str
    description_vi: str = ""
    description_en: str = ""
    suppress_count: str | None = None
    dimensions: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label_vi": self.label_vi,
            "label_en": self.label_en,
            "unit": self.unit,
            "description_vi": self.description_vi,
            "description_en": self.description_en,
            "dimensions": list(self.dimensions),
        }


@dataclass(frozen=True)
class Condition:
    dimension: str
    op: str
    values: tuple[Any, ...]

    @classmethod
    def parse(cls, text: str) -> Condition:
        """`dim=v`, `dim=v1|v2` (any of), `dim!=v`, `dim>=v`, `dim<=v`, `dim>v`, `dim<v`."""
        m = _CONDITION.match(text)
        if not m:
            raise MetricError(f"where={text!r}: expected dimension=value (or !=, >=, <=, >, <)")
        dim, op, raw = m.groups()
        values = tuple(v.strip() for v in raw.split("|")) if op in ("=", "!=") else (raw,)
        if not all(values):
            raise MetricError(f"where={text!r}: empty value")
        return cls(dim, op, tuple(_typed_value(dim, v) for v in values))


def _typed_value(dimension: str, value: str) -> Any:
    if dimension == GROUP_DIMENSION:
        try:
            return int(value)
        except ValueError:
            raise MetricError(f"{dimension} takes a whole number, not {value!r}") from None
    if dimension in _DATE_DIMENSIONS:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise MetricError(f"{dimension} takes an ISO date (YYYY-MM-DD), not {value!r}") from None
    return value


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: list[Any]
    metrics: tuple[Metric, ...]
    by: tuple[str, ...]
    source: Source


@dataclass
class Result:
    """Rows of a metric query: dimensions, metric values and, per metric, a `<name>_suppressed` flag."""

    metrics: tuple[Metric, ...]
    by: tuple[str, ...]
    rows: list[dict[str, Any]]
    suppressed_cells: int = 0
    groups: list[int | None] = field(default_factory=list)  # residential groups the rows describe

    @property
    def columns(self) -> list[str]:
        return [*self.by, *(m.name for m in self.metrics), *(f"{m.name}_suppressed" for m in self.metrics)]


class MetricLayer:
    def __init__(self, sources: dict[str, Source], metrics: dict[str, Metric]) -> None:
        self.sources = sources
        self.metrics = metrics

    @classmethod
    def load(cls, path: Path = METRICS_FILE) -> MetricLayer:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        sources = {
            name: Source(
                name=name,
                table=s["table"],
                dimensions={k: str(v).strip() for k, v in s["dimensions"].items()},
                group_column=s.get("group_column"),
                totals=dict(s.get("totals") or {}),
                time=s.get("time"),
                latest_only_when_ungrouped=bool(s.get("latest_only_when_ungrouped", False)),
                filter=s.get("filter"),
                personal=bool(s.get("personal", False)),
            )
            for name, s in spec["sources"].items()
        }
        metrics = {}
        for name, m in spec["metrics"].items():
            source = sources[m["source"]]
            dims = tuple(m.get("dimensions") or source.dimensions)
            unknown = set(dims) - set(source.dimensions)
            if unknown:
                raise ValueError(f"metric {name}: dimensions {sorted(unknown)} not in source {source.name}")
            metrics[name] = Metric(
                name=name,
                source=source.name,
                label_vi=m["label_vi"],
                label_en=m["label_en"],
                unit=m["unit"],
                expression=m["expression"],
                description_vi=m.get("description_vi", ""),
                description_en=m.get("description_en", ""),
                suppress_count=m.get("suppress_count"),
                dimensions=dims,
            )
        return cls(sources, metrics)

    # Describing -------------------------------------------------------------------------------
    @property
    def dimension_names(self) -> list[str]:
        return sorted({d for s in self.sources.values() for d in s.dimensions})

    def catalogue(self) -> list[dict[str, Any]]:
        return [m.public() for m in self.metrics.values()]

    # Compiling --------------------------------------------------------------------------------
    def compile(
        self,
        metric_names: Sequence[str],
        by: Sequence[str] = (),
        where: Sequence[Condition] = (),
        group_scope: int | None = None,
    ) -> CompiledQuery:
        """SQL for metrics grouped by dimensions, filtered by conditions; group_scope: one group only.

        Raises MetricError for names it does not know, ScopeError when a filter names another group
        than group_scope.
        """
        if not metric_names:
            raise MetricError("name at least one metric (metric=...); /api/tool.json lists them")
        unknown = [n for n in metric_names if n not in self.metrics]
        if unknown:
            raise MetricError(f"unknown metric(s) {unknown}; known: {sorted(self.metrics)}")
        metrics = tuple(dict.fromkeys(self.metrics[n] for n in metric_names))
        source_names = {m.source for m in metrics}
        if len(source_names) > 1:
            raise MetricError(
                f"metrics {[m.name for m in metrics]} come from different marts ({sorted(source_names)}): "
                "ask for them in separate requests"
            )
        source = self.sources[metrics[0].source]
        allowed = set.intersection(*(set(m.dimensions) for m in metrics))
        by = tuple(dict.fromkeys(by))
        for dim in (*by, *(c.dimension for c in where)):
            if dim not in allowed:
                raise MetricError(
                    f"dimension {dim!r} is not available for {[m.name for m in metrics]}; "
                    f"available: {sorted(allowed)}"
                )
        if group_scope is not None:
            for c in where:
                if c.dimension == GROUP_DIMENSION and any(v != group_scope for v in c.values):
                    raise ScopeError(
                        f"residential group {list(c.values)} is outside your group {group_scope}"
                    )

        conditions: list[str] = []
        params: list[Any] = []
        if source.filter:
            conditions.append(f"({source.filter})")
        named = set(by) | {c.dimension for c in where}
        for dim, total_value in source.totals.items():
            expr = source.dimensions[dim]
            scoped = dim == source.group_column and group_scope is not None
            if dim in named or scoped:
                conditions.append(f"{expr} is not null" if total_value is None else f"{expr} <> ?")
            else:
                conditions.append(f"{expr} is null" if total_value is None else f"{expr} = ?")
            if total_value is not None:
                params.append(total_value)
        if source.latest_only_when_ungrouped and source.time and source.time not in named:
            time_expr = source.dimensions[source.time]
            sub = f"(select max({time_expr}) from {source.table}"
            sub += f" where {source.filter})" if source.filter else ")"
            conditions.append(f"{time_expr} = {sub}")
        if group_scope is not None and source.group_column:
            conditions.append(f"{source.dimensions.get(source.group_column, source.group_column)} = ?")
            params.append(group_scope)
        for c in where:
            expr = source.dimensions[c.dimension]
            if c.op == "=":
                conditions.append(f"{expr} in ({', '.join('?' * len(c.values))})")
                params.extend(c.values)
            elif c.op == "!=":
                conditions.append(f"{expr} not in ({', '.join('?' * len(c.values))})")
                params.extend(c.values)
            else:
                conditions.append(f"{expr} {c.op} ?")
                params.append(c.values[0])

        select = [f'{source.dimensions[d]} as "{d}"' for d in by]
        select += [f'{m.expression} as "{m.name}"' for m in metrics]
        select += [f'{m.suppress_count or "null"} as "__n_{m.name}"' for m in metrics]
        sql = f"select {', '.join(select)}\nfrom {source.table}"
        if conditions:
            sql += "\nwhere " + "\n  and ".join(conditions)
        if by:
            positions = ", ".join(str(i + 1) for i in range(len(by)))
            sql += f"\ngroup by {positions}\norder by {positions}"
        return CompiledQuery(sql, params, metrics, by, source)

    def query(
        self,
        con: duckdb.DuckDBPyConnection,
        metric_names: Sequence[str],
        by: Sequence[str] = (),
        where: Iterable[str | Condition] = (),
        group_scope: int | None = None,
        min_cell: int | None = None,
        sees_scope_in_full: bool = False,
    ) -> Result:
        """Run a metric query; min_cell: suppress cells counting 1..min_cell-1 persons/dossiers.

        sees_scope_in_full: the caller may see named persons of group_scope (a group leader), so its
        group's cells are not suppressed; figures of sources without a group (ward-wide) still are.
        """
        conditions = [c if isinstance(c, Condition) else Condition.parse(c) for c in where]
        q = self.compile(metric_names, by, conditions, group_scope)
        if sees_scope_in_full and group_scope is not None and q.source.group_column:
            min_cell = None
        cur = con.execute(q.sql, q.params)
        names = [d[0] for d in cur.description]
        rows = []
        suppressed = 0
        for values in cur.fetchall():
            raw = dict(zip(names, values, strict=True))
            row = {d: raw[d] for d in q.by}
            for m in q.metrics:
                n = raw[f"__n_{m.name}"]
                hide = min_cell is not None and m.suppress_count is not None and is_small(n, min_cell)
                row[m.name] = None if hide else raw[m.name]
                row[f"{m.name}_suppressed"] = hide
                suppressed += hide
            rows.append(row)
        if GROUP_DIMENSION in q.by:
            groups = sorted({r[GROUP_DIMENSION] for r in rows}, key=lambda g: (g is None, g))
        elif group_scope is not None and q.source.group_column:
            groups = [group_scope]
        else:
            groups = [None]  # the whole ward
        return Result(q.metrics, q.by, rows, suppressed, groups)


def is_small(count: Any, min_cell: int) -> bool:
    """A cell counting between 1 and min_cell - 1 units: small enough to point at someone.

    Zero is shown: it says nobody has the trait and points at no one (docs/serving.md).
    """
    return count is not None and 0 < abs(float(count)) < min_cell


@cache
def default_layer() -> MetricLayer:
    return MetricLayer.load()
