"""`ward serve`: the API and the leaders' page on 127.0.0.1, read-only on the published warehouse."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ward.settings import ENV_SERVE_KEYS_FILE, REPO_ROOT, Settings

HOST = "127.0.0.1"  # never another interface: put a reverse proxy with TLS in front to share it


def start_server(settings: Settings, console: Console, port: int | None = None) -> int:
    import uvicorn

    from ward.serve.app import audit_path, create_app
    from ward.serve.auth import KeyStore

    keys_file = settings.serve_keys_file
    if keys_file is None:
        console.print(
            f"[red]{ENV_SERVE_KEYS_FILE} is not set[/]: point it at the keys file the administrator "
            "keeps outside the repository (`ward serve --new-key ROLE --name NAME` makes an entry)."
        )
        return 2
    if keys_file.is_relative_to(REPO_ROOT):
        console.print(
            f"[yellow]The keys file {escape(str(keys_file))} is inside the repository: move it out."
        )
    problem = KeyStore(keys_file).check()
    if problem:
        console.print(f"[red]{escape(problem)}[/]: every request would be refused.")
        return 2
    if not settings.warehouse_path.exists():
        console.print(
            f"[yellow]No published warehouse at {settings.warehouse_path} yet[/]: `ward run` first."
        )
    port = port or settings.serve_port
    console.print(
        f"Serving on http://{HOST}:{port}/ (API: /api/metrics, /api/marts/NAME, /api/tool.json, "
        f"/openapi.json). Audit trail: {audit_path(settings)}. Ctrl-C stops."
    )
    # access_log off: a browser's first `/?key=` would put a key in it; the audit trail logs instead.
    uvicorn.run(create_app(settings), host=HOST, port=port, access_log=False, log_level="warning")
    return 0


def print_new_key(console: Console, role: str, name: str, group: int | None) -> int:
    from ward.serve.auth import KeyFileError, new_key_entry

    try:
        key, line = new_key_entry(role, name, group)
    except KeyFileError as exc:
        console.print(f"[red]{escape(str(exc))}")
        return 2
    console.print("Key (give it to its holder once; it is not stored anywhere):", highlight=False)
    console.print(key, highlight=False, soft_wrap=True)
    console.print("Line for the keys file, under `keys:`:", highlight=False)
    console.print(escape(line), highlight=False, soft_wrap=True)
    return 0
