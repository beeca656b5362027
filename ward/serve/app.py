"""`ward serve`: the decision-support API and the leaders' page, read-only on the published warehouse.

Every request needs a key (header X-Ward-Key, `?key=` once in a browser, then a cookie). Roles are
enforced here, on the server: ward/serve/auth.py for keys, ward/serve/data.py for which role reads
which mart, ward/serve/semantic.py for the metrics. Every request, allowed or refused, is one line
of the audit trail (ward/serve/audit.py). Charts are drawn on the server (ward/serve/charts.py):
the page loads nothing from anywhere else.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ward.serve.audit import MAX_PURPOSE, AuditLog
from ward.serve.auth import ROLES, KeyStore, Principal
from ward.serve.data import (
    SharedTier,
    Unavailable,
    Warehouse,
    mart_access,
    read_page,
    read_shared_page,
    row_groups,
)
from ward.serve.page import render_page
from ward.serve.semantic import MetricError, MetricLayer, ScopeError, default_layer
from ward.settings import Settings

COOKIE = "ward_key"
KEY_HEADER = "X-Ward-Key"
PURPOSE_HEADER = "X-Purpose"
METRIC_ROLES = {"leader", "group_leader", "steward", "app"}
PAGE_ROLES = {"leader", "group_leader"}
MAX_PAGE_SIZE = 1000
SECURITY_HEADERS = {
    # Nothing but this page's own inline styles and SVG: no script, no outside address.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

DESCRIPTION = """\
**Phục vụ hệ hỗ trợ ra quyết định của phường Phù Liễn.** Chỉ đọc kho dữ liệu đã công bố. Mỗi yêu cầu cần
khoá truy cập (tiêu đề `X-Ward-Key`); quyền theo vai trò được kiểm tra trên máy chủ: `leader` (mọi tổ,
chỉ số tổng hợp, ô dưới ngưỡng bị ẩn), `group_leader` (tổ của mình: tổng hợp và danh sách người cần xử
lý), `steward` (cách ly và phát hiện), `app` (tầng chia sẻ không có dữ liệu cá nhân), `admin` (nhật ký).
Mọi yêu cầu được ghi vào nhật ký truy cập; nêu mục đích ở tiêu đề `X-Purpose`.

**Serving the Phù Liễn ward's decision support.** Reads the published warehouse only. Every request
needs a key (header `X-Ward-Key`); roles are enforced on the server: `leader` (all groups, aggregates,
small cells hidden), `group_leader` (own group: aggregates and the named persons of its worklist),
`steward` (quarantine and findings), `app` (the shared tier without personal data), `admin` (the audit
trail). Every request is logged; state its purpose in the `X-Purpose` header.
"""


def audit_path(settings: Settings) -> Path:
    return settings.data_dir / "audit" / "serve.jsonl"


# Who is asking ------------------------------------------------------------------------------------
def principal(request: Request) -> Principal:
    """The key holder of a request (header, then `?key=`, then the cookie), or 401."""
    keys: KeyStore = request.app.state.keys
    rec = request.scope["ward_audit"]
    key = request.headers.get(KEY_HEADER) or request.query_params.get("key") or request.cookies.get(COOKIE)
    found = keys.authenticate(key)
    if found is None:
        rec["reason"] = "no key" if not key else "unknown key"
        detail = {
            "vi": "Cần khoá truy cập hợp lệ (tiêu đề X-Ward-Key).",
            "en": "A valid key is needed (header X-Ward-Key).",
        }
        if keys.check():
            detail["server"] = "no key can be accepted: the keys file is missing or unusable"
        raise HTTPException(401, detail=detail, headers={"WWW-Authenticate": f'ApiKey header="{KEY_HEADER}"'})
    rec.update(who=found.name, role=found.role, group=found.group, key_id=found.key_id)
    return found


Caller = Annotated[Principal, Depends(principal)]


def create_app(settings: Settings, layer: MetricLayer | None = None) -> FastAPI:
    layer = layer or default_layer()
    keys = KeyStore(settings.serve_keys_file)
    audit = AuditLog(audit_path(settings))
    warehouse = Warehouse(settings)
    shared = SharedTier(settings)
    min_cell = settings.serve_min_cell if settings.serve_min_cell and settings.serve_min_cell > 1 else None

    app = FastAPI(
        title="Phường Phù Liễn — API dữ liệu / Phù Liễn ward data API",
        description=DESCRIPTION,
        version="1",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.settings, app.state.layer, app.state.audit, app.state.keys = settings, layer, audit, keys

    # Audit: one line per request, written after the answer is known ---------------------------
    class Audit:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            started = time.perf_counter()
            query = urllib.parse.parse_qsl(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
            params: dict[str, Any] = {}
            for k, v in query:
                if k == "key":
                    continue  # the key itself never reaches the log
                params.setdefault(k, []).append(v[:200])
            headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
            # ASCII, or UTF-8 percent-encoded (X-Purpose: ki%E1%BB%83m%20tra): headers are Latin-1 on the wire
            raw_purpose = headers.get(PURPOSE_HEADER.lower(), b"").decode("utf-8", "replace")
            purpose = urllib.parse.unquote(raw_purpose)[:MAX_PURPOSE]
            rec: dict[str, Any] = {
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "who": None,
                "role": None,
                "group": None,
                "key_id": None,
                "method": scope.get("method"),
                "endpoint": scope.get("path"),
                "path": scope.get("path"),
                "parameters": {k: v[0] if len(v) == 1 else v for k, v in params.items()},
                "purpose": purpose or None,
                "client": (scope.get("client") or ("?", 0))[0],
            }
            scope["ward_audit"] = rec
            status = {"code": 500}

            async def send_status(message: dict) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = list(message["headers"]) + [
                        (k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                    ]
                await send(message)

            try:
                await self.inner(scope, receive, send_status)
            finally:
                rec["status"] = status["code"]
                rec["outcome"] = (
                    "allowed"
                    if status["code"] < 400
                    else "refused"
                    if status["code"] in (401, 403)
                    else "error"
                )
                rec.setdefault("rows", 0)
                rec.setdefault("groups", [])
                rec["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
                audit.append(rec)

    app.add_middleware(Audit)  # type: ignore[arg-type]

    def refuse(request: Request, reason: str, vi: str, en: str) -> HTTPException:
        request.scope["ward_audit"]["reason"] = reason
        return HTTPException(403, detail={"vi": vi, "en": en})

    def require(request: Request, who: Principal, roles: set[str]) -> None:
        if who.role not in roles:
            raise refuse(
                request,
                f"role {who.role} not allowed here",
                f"Vai trò {who.role} không được dùng chức năng này.",
                f"The role {who.role} may not use this endpoint.",
            )

    def endpoint(request: Request, route: str, **path_params: Any) -> dict[str, Any]:
        rec = request.scope["ward_audit"]
        rec["endpoint"] = route
        if path_params:
            rec["parameters"].update(path_params)
        return rec

    def unavailable(exc: Unavailable) -> HTTPException:
        return HTTPException(503, detail={"vi": "Chưa có dữ liệu đã công bố.", "en": str(exc)})

    # /api/metrics ---------------------------------------------------------------------------
    @app.get(
        "/api/metrics",
        summary="Chỉ số của phường / The ward's metrics",
        description=(
            "Một hoặc nhiều chỉ số (cùng một bảng) theo các chiều, có lọc. Danh sách chỉ số và chiều: "
            "/api/tool.json. Ô đếm dưới ngưỡng (WARD_SERVE_MIN_CELL) được ẩn: giá trị null và cờ "
            "`<chỉ số>_suppressed`.\n\nOne or more metrics (of one mart) by dimensions, filtered. Metrics "
            "and dimensions: /api/tool.json. Counts below the threshold (WARD_SERVE_MIN_CELL) are "
            "suppressed: null value and a `<metric>_suppressed` flag."
        ),
        responses={
            200: {"content": {"application/json": {}, "text/csv": {}, "application/vnd.apache.parquet": {}}}
        },
    )
    def metrics(
        request: Request,
        who: Caller,
        metric: Annotated[
            list[str],
            Query(
                description="Tên chỉ số (lặp lại hoặc cách nhau bởi dấu phẩy) / "
                "metric names (repeat or comma-separated)"
            ),
        ],
        by: Annotated[list[str], Query(description="Chiều để nhóm / dimensions to group by")] = [],  # noqa: B006
        where: Annotated[
            list[str],
            Query(
                description="Điều kiện `chiều=giá_trị`, `chiều=a|b`, `chiều>=giá_trị` … / "
                "conditions `dimension=value`, `dimension=a|b`, `dimension>=value` …"
            ),
        ] = [],  # noqa: B006
        format: Annotated[
            Literal["json", "csv", "parquet"], Query(description="Định dạng / format")
        ] = "json",
    ) -> Response:
        rec = endpoint(request, "/api/metrics")
        require(request, who, METRIC_ROLES)
        names = [n.strip() for m in metric for n in m.split(",") if n.strip()]
        dims = [d.strip() for b in by for d in b.split(",") if d.strip()]
        try:
            picked = [layer.metrics[n] for n in names if n in layer.metrics]
            if who.role == "app" and any(layer.sources[m.source].personal for m in picked):
                raise refuse(
                    request,
                    "app: personal source",
                    "Ứng dụng chỉ đọc tầng chia sẻ; chỉ số này tính từ dữ liệu cá nhân.",
                    "Apps read the shared tier only; this metric is counted from personal rows.",
                )
            con = shared.cursor() if who.role == "app" else warehouse.cursor()
            result = layer.query(
                con,
                names,
                dims,
                where,
                group_scope=who.personal_group,
                min_cell=min_cell,
                sees_scope_in_full=who.role == "group_leader",
            )
        except ScopeError as exc:
            raise refuse(
                request,
                f"group outside scope: {exc}",
                f"Tổ dân phố ngoài phạm vi của bạn (tổ {who.group}).",
                f"A residential group outside yours (group {who.group}).",
            ) from None
        except MetricError as exc:
            rec["reason"] = str(exc)[:300]
            raise HTTPException(400, detail={"vi": "Yêu cầu chỉ số không hợp lệ.", "en": str(exc)}) from None
        except Unavailable as exc:
            raise unavailable(exc) from None
        rec.update(rows=len(result.rows), groups=result.groups, suppressed_cells=result.suppressed_cells)
        payload = {
            "metrics": [{k: v for k, v in m.public().items() if k != "dimensions"} for m in result.metrics],
            "by": list(result.by),
            "min_cell": min_cell,
            "suppressed_cells": result.suppressed_cells,
            "tier": "shared" if who.role == "app" else "warehouse",
            "rows": result.rows,
        }
        return render(payload, result.columns, result.rows, format, "metrics")

    # /api/marts/{name} ----------------------------------------------------------------------
    @app.get(
        "/api/marts/{name}",
        summary="Dòng của một bảng, từng trang / A mart's rows, page by page",
        description=(
            "Dòng của một bảng theo vai trò: lãnh đạo đọc các bảng tổng hợp (ô nhỏ bị ẩn); tổ trưởng đọc "
            "bảng tổng hợp, dim_citizen, dim_household của tổ mình và các dòng cách ly/phát hiện còn mở "
            "của tổ; cán bộ dữ liệu đọc quarantine, findings, deliveries, mart_data_quality; ứng dụng đọc "
            "tầng chia sẻ. Hỏi tổ khác: 403.\n\nA mart's rows by role: leaders read the aggregate marts "
            "(small cells hidden); group leaders read the aggregates, dim_citizen and dim_household of "
            "their group and its open quarantine/findings rows; stewards read quarantine, findings, "
            "deliveries, mart_data_quality; apps read the shared tier. Another group: 403."
        ),
    )
    def marts(
        request: Request,
        who: Caller,
        name: Annotated[
            str, PathParam(description="Tên bảng / mart name", pattern=r"^[a-z][a-z0-9_]{0,62}$")
        ],
        page: Annotated[int, Query(ge=1, description="Trang, từ 1 / page, from 1")] = 1,
        page_size: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description="Số dòng mỗi trang / rows per page")
        ] = 100,
        group: Annotated[int | None, Query(description="Chỉ một tổ / one residential group only")] = None,
        format: Annotated[
            Literal["json", "csv", "parquet"], Query(description="Định dạng / format")
        ] = "json",
    ) -> Response:
        rec = endpoint(request, "/api/marts/{name}", name=name)
        require(request, who, {"leader", "group_leader", "steward", "app"})
        if who.role == "group_leader" and group is not None and group != who.group:
            raise refuse(
                request,
                f"group {group} outside scope",
                f"Tổ {group} ngoài phạm vi của bạn (tổ {who.group}).",
                f"Group {group} is outside yours (group {who.group}).",
            )
        try:
            if who.role == "app":
                if name not in shared.names():
                    raise HTTPException(
                        404,
                        detail={"vi": "Không có bảng này ở tầng chia sẻ.", "en": f"no shared table {name}"},
                    )
                columns, rows, total, hidden = read_shared_page(
                    shared.cursor(), name, page, page_size, min_cell, group
                )
            else:
                access = mart_access(who.role, who.group, name)
                if access is None:
                    if name not in KNOWN_MARTS:
                        raise HTTPException(404, detail={"vi": "Không có bảng này.", "en": f"no mart {name}"})
                    raise refuse(
                        request,
                        f"role {who.role} may not read {name}",
                        f"Vai trò {who.role} không được đọc bảng {name}.",
                        f"The role {who.role} may not read {name}.",
                    )
                columns, rows, total, hidden = read_page(
                    warehouse.cursor(), access, page, page_size, group, min_cell
                )
        except Unavailable as exc:
            raise unavailable(exc) from None
        rec.update(rows=len(rows), groups=row_groups(rows), suppressed_cells=hidden)
        payload = {
            "mart": name,
            "page": page,
            "page_size": page_size,
            "total_rows": total,
            "suppressed_cells": hidden,
            "rows": rows,
        }
        if rows and "suppressed_columns" in rows[0]:
            columns = [*columns, "suppressed_columns"]
        return render(payload, columns, rows, format, name)

    # /api/tool.json ---------------------------------------------------------------------------
    @app.get(
        "/api/tool.json",
        summary="Mô tả công cụ cho trợ lý AI / Tool description for an AI assistant",
        description="Mô tả /api/metrics dạng JSON Schema. / /api/metrics described as a JSON-schema tool.",
    )
    def tool(request: Request) -> JSONResponse:
        endpoint(request, "/api/tool.json")
        return JSONResponse(tool_description(layer))

    # /api/audit -------------------------------------------------------------------------------
    @app.get(
        "/api/audit",
        summary="Nhật ký truy cập (quản trị) / The audit trail (admin)",
        description="Các dòng nhật ký khớp mọi bộ lọc, cũ trước. / "
        "Audit lines matching every filter, oldest first.",
    )
    def audit_lines(
        request: Request,
        who: Caller,
        by_who: Annotated[
            str | None, Query(alias="who", description="Tên người giữ khoá / key holder's name")
        ] = None,
        role: Annotated[str | None, Query(description="Vai trò / role")] = None,
        endpoint_name: Annotated[
            str | None, Query(alias="endpoint", description="Đường dẫn / endpoint")
        ] = None,
        status: Annotated[int | None, Query(description="Mã trạng thái HTTP / HTTP status")] = None,
        group: Annotated[
            int | None, Query(description="Tổ trong các dòng trả về / group of the rows returned")
        ] = None,
        since: Annotated[dt.datetime | None, Query(description="Từ (ISO) / from (ISO)")] = None,
        until: Annotated[dt.datetime | None, Query(description="Đến (ISO) / until (ISO)")] = None,
        limit: Annotated[int, Query(ge=1, le=5000, description="Tối đa / at most")] = 200,
    ) -> JSONResponse:
        rec = endpoint(request, "/api/audit")
        require(request, who, {"admin"})
        lines = audit.query(by_who, role, endpoint_name, status, group, since, until, limit)
        rec["rows"] = len(lines)
        return JSONResponse({"lines": lines})

    # The leaders' page --------------------------------------------------------------------------
    @app.get(
        "/", response_class=HTMLResponse, summary="Trang lãnh đạo / The leaders' page", include_in_schema=True
    )
    def home(request: Request) -> Response:
        rec = endpoint(request, "/")
        if request.query_params.get("key"):
            # Log in from a link: keep the key in a cookie, take it out of the address bar.
            found = keys.authenticate(request.query_params["key"])
            if found is None:
                rec["reason"] = "unknown key"
                return HTMLResponse(login_page(failed=True), status_code=401)
            rec.update(who=found.name, role=found.role, group=found.group, key_id=found.key_id)
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(
                COOKIE, request.query_params["key"], httponly=True, samesite="strict", path="/"
            )
            return response
        try:
            who = principal(request)
        except HTTPException:
            return HTMLResponse(
                login_page(failed=bool(request.cookies.get(COOKIE) or request.headers.get(KEY_HEADER))),
                status_code=401,
            )
        require(request, who, PAGE_ROLES)
        try:
            html, figures = render_page(layer, warehouse.cursor(), who, min_cell)
        except Unavailable as exc:
            raise unavailable(exc) from None
        rec.update(groups=figures.groups, rows=len(figures.groups), suppressed_cells=figures.suppressed)
        return HTMLResponse(html)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        endpoint(request, "/login")
        form = urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace"))
        key = (form.get("key") or [""])[0]
        found = keys.authenticate(key)
        if found is None:
            request.scope["ward_audit"]["reason"] = "no key" if not key else "unknown key"
            return HTMLResponse(login_page(failed=True), status_code=401)
        request.scope["ward_audit"].update(
            who=found.name, role=found.role, group=found.group, key_id=found.key_id
        )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict", path="/")
        return response

    @app.get("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        endpoint(request, "/logout")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return app


KNOWN_MARTS = {
    "dim_citizen",
    "dim_household",
    "mart_population_by_group",
    "fct_service_record",
    "mart_service_kpis",
    "mart_data_quality",
    "deliveries",
    "findings",
    "quarantine",
    "fct_residence_event",
    "mart_population_change",
    "corrections",
}


def render(
    payload: dict[str, Any], columns: list[str], rows: list[dict[str, Any]], fmt: str, stem: str
) -> Response:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        for r in rows:
            writer.writerow(["" if r.get(c) is None else _csv_value(r.get(c)) for c in columns])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    if fmt == "parquet":
        table = (
            pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.null()) for c in columns})
        )
        buf = io.BytesIO()
        pq.write_table(table, buf)
        return Response(
            buf.getvalue(),
            media_type="application/vnd.apache.parquet",
            headers={"Content-Disposition": f'attachment; filename="{stem}.parquet"'},
        )
    return JSONResponse(jsonable_encoder(payload))


def _csv_value(v: Any) -> Any:
    return ";".join(map(str, v)) if isinstance(v, list) else v


def tool_description(layer: MetricLayer) -> dict[str, Any]:
    """/api/metrics as a tool for an AI assistant: name, descriptions, a JSON schema of parameters."""
    metrics = layer.catalogue()
    dims = layer.dimension_names
    return {
        "name": "ward_metrics",
        "description": (
            "Truy vấn chỉ số của phường Phù Liễn (dân số, biến động, thủ tục hành chính, chất lượng dữ liệu) "
            "theo tổ dân phố, tháng, thủ tục, kênh, nguồn. / Query the Phù Liễn ward's metrics (population, "
            "change, administrative procedures, data quality) by residential group, month, procedure, "
            "channel, source."
        ),
        "description_vi": "Truy vấn chỉ số tổng hợp của phường. Mỗi lần hỏi các chỉ số của cùng một bảng. "
        "Ô đếm nhỏ có thể bị ẩn (null, cờ *_suppressed).",
        "description_en": "Query the ward's aggregate metrics. Ask for metrics of one mart per call. Small "
        "counts may be suppressed (null, *_suppressed flag).",
        "endpoint": {
            "method": "GET",
            "path": "/api/metrics",
            "auth_header": KEY_HEADER,
            "purpose_header": PURPOSE_HEADER,
        },
        "parameters": {
            "type": "object",
            "properties": {
                "metric": {
                    "type": "array",
                    "items": {"type": "string", "enum": [m["name"] for m in metrics]},
                    "minItems": 1,
                    "description": "Chỉ số (cùng một bảng) / metrics (of one mart)",
                },
                "by": {
                    "type": "array",
                    "items": {"type": "string", "enum": dims},
                    "description": "Chiều để nhóm (phải thuộc các chiều của chỉ số) / dimensions to group by "
                    "(among the metric's dimensions)",
                },
                "where": {
                    "type": "array",
                    "items": {"type": "string", "pattern": r"^[a-z_]+(=|!=|>=|<=|>|<).+$"},
                    "description": "Điều kiện, ví dụ `residential_group_no=3`, `month>=2026-01-01`, "
                    "`channel=truc_tuyen|buu_chinh` / conditions, e.g. …",
                },
                "format": {"type": "string", "enum": ["json", "csv", "parquet"], "default": "json"},
            },
            "required": ["metric"],
            "additionalProperties": False,
        },
        "metrics": metrics,
        "dimensions": {
            name: sorted(s.name for s in layer.sources.values() if name in s.dimensions) for name in dims
        },
        "roles": ROLES,
    }


def login_page(failed: bool = False) -> str:
    message = "<p class='err'>Khoá không hợp lệ. / The key is not valid.</p>" if failed else ""
    return (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Đăng nhập / Log in</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:520px;margin:60px auto}"
        ".en{color:#666}.err{color:#c62828}input{width:100%;padding:6px;margin:8px 0}</style></head><body>"
        "<h1>Phường Phù Liễn — Bảng điều hành<br>"
        "<span class='en'>Phù Liễn ward — leaders' dashboard</span></h1>"
        f"{message}<form method='post' action='/login'><label>Khoá truy cập / Access key"
        "<input type='password' name='key' autocomplete='off'></label>"
        "<button type='submit'>Đăng nhập / Log in</button></form></body></html>"
    )
