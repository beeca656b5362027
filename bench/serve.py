"""`python -m bench.serve [--data-dir DIR | --people N]`: what the API costs over DuckDB itself.

1. a built ward: DIR (a data root with a published warehouse), or a ward of N people generated and
   run into a temporary root;
2. `ward serve` started in its own process (as an administrator would: keys file, loopback port);
3. C concurrent loopback clients (threads, one keep-alive http.client connection each) send R
   requests each to GET /api/metrics (a leader's key: role checks, suppression and audit included);
4. the baseline: the same query, compiled by the same metric layer, run directly in DuckDB on the
   locked reader by C threads (one cursor each), R times each.
p50/p95 latency, requests/s and the ratios (API / DuckDB) go to bench/results/serve-<people>.json
(serve-<people>-<label>.json with --label). A generated ward's root is deleted at the end unless --keep
(then it is printed: measure another --query on it with --data-dir). Generation and build seconds and
the peak RSS of this process and its children (the pipeline, then `ward serve`) are recorded.
Run by hand; never in tests. Compare ratios, not seconds: the clients share the machine's cores with
the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.memory import MemorySampler
from ward.readers import connect_reader
from ward.serve.auth import hash_key
from ward.serve.semantic import Condition, default_layer
from ward.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
KEY = "bench-leader-key-0123456789"
MiB = 1024 * 1024
DEFAULT_QUERY = "metric=dossiers_received,dossiers_finished,on_time_rate&by=month"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(latencies: list[float], wall: float) -> dict:
    return {
        "requests": len(latencies),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 3),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 3),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "wall_s": round(wall, 3),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_signals() -> None:  # some shells start children with SIGINT/SIGTERM ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start_server(settings: Settings, keys_file: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "WARD_DATA_DIR": str(settings.data_dir), "WARD_SERVE_KEYS_FILE": str(keys_file)}
    ward = Path(sys.executable).with_name("ward")
    proc = subprocess.Popen(
        [str(ward), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_reset_signals,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/tool.json")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise RuntimeError("ward serve did not answer within 60 s")


def bench_api(port: int, path: str, clients: int, per_client: int) -> dict:
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], []
        conn.request("GET", path, headers={"X-Ward-Key": KEY, "X-Purpose": "bench"})  # warm the connection
        conn.getresponse().read()
        barrier.wait()
        for _ in range(per_client):
            t = time.perf_counter()
            conn.request("GET", path, headers={"X-Ward-Key": KEY, "X-Purpose": "bench"})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            if r.status != 200:
                bad.append(r.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    out = _summary(latencies, time.perf_counter() - start)
    out["errors"] = len(errors)
    return out


def bench_duckdb(settings: Settings, query: str, clients: int, per_client: int) -> dict:
    params = urllib.parse.parse_qs(query)
    metrics = [n for v in params.get("metric", []) for n in v.split(",")]
    by = [n for v in params.get("by", []) for n in v.split(",")]
    where = [Condition.parse(w) for w in params.get("where", [])]
    compiled = default_layer().compile(metrics, by, where)
    con = connect_reader(settings)
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker() -> None:
        cur = con.cursor()
        mine = []
        barrier.wait()
        for _ in range(per_client):
            t = time.perf_counter()
            cur.execute(compiled.sql, compiled.params).fetchall()
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    out = _summary(latencies, time.perf_counter() - start)
    out["sql"] = compiled.sql
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, help="a data root with a published warehouse")
    ap.add_argument("--people", type=int, default=1500, help="generate and run a ward of this size")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20, help="requests per client")
    ap.add_argument("--query", default=DEFAULT_QUERY, help="the /api/metrics query string")
    ap.add_argument("--label", help="results go to serve-<people>-<label>.json (several queries on one ward)")
    ap.add_argument("--keep", action="store_true", help="keep the generated data root and print it")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ward-bench-serve-"))
    timings: dict[str, float] = {}
    sampler = MemorySampler(interval=0.1)
    with sampler:
        if args.data_dir:
            settings = Settings(data_dir=args.data_dir.resolve())
        else:
            from tests.fixtures.pipeline import run_ward
            from ward.generate import generate_ward

            settings = Settings(data_dir=work / "data", shared_export_key="bench-" + "k" * 26)
            sampler.label = "generate"
            t = time.perf_counter()
            generate_ward(
                settings.data_dir, people=args.people, groups=6 if args.people < 10_000 else 40, seed=7
            )
            timings["generate_s"] = round(time.perf_counter() - t, 1)
            print(f"generated in {timings['generate_s']} s", flush=True)
            sampler.label = "build"
            t = time.perf_counter()
            if run_ward(settings) != 0:
                raise SystemExit(f"the pipeline failed (data root kept: {work})")
            timings["build_s"] = round(time.perf_counter() - t, 1)
            print(f"built in {timings['build_s']} s", flush=True)
        sampler.label = "serve"
        with connect_reader(settings) as con:
            people = con.execute("select count(*) from marts.dim_citizen").fetchall()[0][0]
        keys_file = work / "keys.yml"
        keys_file.write_text(
            json.dumps({"keys": {f"sha256:{hash_key(KEY)}": {"name": "bench", "role": "leader"}}})
        )
        port = _free_port()
        load_before = os.getloadavg()[0]  # other work on the machine skews every figure
        server = start_server(settings, keys_file, port)
        try:
            path = f"/api/metrics?{args.query}"
            api = bench_api(port, path, args.clients, args.requests)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(10)
        sampler.label = "duckdb"
        direct = bench_duckdb(settings, args.query, args.clients, args.requests)
    result = {
        "what": "GET /api/metrics under concurrent loopback clients vs the same SQL directly in DuckDB",
        "people": people,
        "query": args.query,
        "clients": args.clients,
        "requests_per_client": args.requests,
        "api": api,
        "duckdb": direct,
        "ratio_p50": round(api["p50_ms"] / direct["p50_ms"], 2),
        "ratio_p95": round(api["p95_ms"] / direct["p95_ms"], 2),
        "ratio_throughput": round(direct["requests_per_s"] / api["requests_per_s"], 2),
        **timings,
        "peak_rss_mib": {k: round(v / MiB) for k, v in sampler.peaks.items() if k != "setup"},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_1m_before": round(load_before, 2),
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / (f"serve-{people}-{args.label}.json" if args.label else f"serve-{people}.json")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k not in ("duckdb",)}
            | {"duckdb": {k: v for k, v in direct.items() if k != "sql"}},
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"written to {out}")
    if args.data_dir is None and args.keep:
        print(f"data root kept: {settings.data_dir}  (rm -rf {work} when done)")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
