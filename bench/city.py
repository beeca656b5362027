"""`python -m bench.city`: a whole city's full build on one machine (issue 15).

By default the 114 wards and communes of Hải Phòng (province 31 of admin_units_2025.csv), 4,600,000
residents in all, each ward of a realistic size between 2,000 and 120,000 (log-normal, seeded):
1. generate every ward's extracts (`ward.city.generate`, two wards at once);
2. `ward city run` as its own process, as a steward starts it, under one memory budget
   (`WARD_MEMORY_LIMIT`, split between the wards running at once), the RSS of its whole process
   tree (the city process, its workers and every ward's `ward run`) sampled every 0.2 s;
3. the bare-DuckDB floor: for every ward, the same reads and writes with no work in between
   (bench/baseline.py on the ward's raw lake), summed;
then figures to bench/results/city-<residents>.json. Run by hand; never in tests. Machines are
noisy: compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import re
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb

from bench.baseline import run_baseline
from bench.memory import run_sampled, ward_command
from bench.run import BENCH_KEY, RESULTS
from ward.city.settings import ADMIN_UNITS, ENV_CITY_DIR, ENV_CITY_PARALLEL, ENV_WARD_CODES, CitySettings
from ward.settings import ENV_MEMORY_LIMIT, ENV_SHARED_KEY, ENV_THREADS

SMALLEST, LARGEST = 2_000, 120_000


def province_codes(province: str) -> tuple[str, ...]:
    with ADMIN_UNITS.open(encoding="utf-8", newline="") as f:
        return tuple(sorted(r["ward_code"] for r in csv.DictReader(f) if r["province_code"] == province))


def ward_sizes(codes: tuple[str, ...], total: int, seed: int = 31) -> dict[str, int]:
    """Log-normal sizes (median ≈ 30,000, as Vietnam's merged wards and communes), clipped to
    [2,000, 120,000] and scaled until they sum to `total` exactly."""
    if not SMALLEST * len(codes) <= total <= LARGEST * len(codes):
        raise ValueError(f"{total} residents cannot be split into {len(codes)} wards of 2,000–120,000")
    rng = random.Random(seed)
    raw = [rng.lognormvariate(math.log(30_000), 0.7) for _ in codes]
    scale = 1.0
    for _ in range(100):  # clipping moves the sum: rescale the free sizes until it holds
        sizes = [min(LARGEST, max(SMALLEST, round(r * scale))) for r in raw]
        gap = total - sum(sizes)
        if gap == 0:
            break
        free = sum(s for s in sizes if SMALLEST < s < LARGEST) or 1
        scale *= 1 + gap / free
    # whatever rounding leaves goes to the wards that still have room
    gap = total - sum(sizes)
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        if gap == 0:
            break
        step = max(gap, SMALLEST - sizes[i]) if gap < 0 else min(gap, LARGEST - sizes[i])
        sizes[i] += step
        gap -= step
    return dict(zip(codes, sizes, strict=True))


def _generate(root: Path, sizes: dict[str, int]) -> None:
    from ward.city.generate import generate_city

    generate_city(CitySettings(root=root), tuple(sizes), people=sizes)


def generate(root: Path, sizes: dict[str, int], workers: int = 2) -> float:
    started = time.perf_counter()
    codes = sorted(sizes, key=lambda c: -sizes[c])
    chunks = [codes[i::workers] for i in range(workers)]  # each worker as many large wards
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done in [pool.submit(_generate, root, {c: sizes[c] for c in chunk}) for chunk in chunks]:
            done.result()
    return round(time.perf_counter() - started, 1)


def floor(city: CitySettings, codes: tuple[str, ...], work: Path) -> dict[str, float]:
    """bench/baseline.py on every ward's raw lake (what its run ingested), summed."""
    total = {"read_into_duckdb": 0.0, "write_parquet": 0.0, "total": 0.0}
    for code in codes:
        timings = run_baseline(city.ward_data_dir(code) / "raw", work / code)
        for key in total:
            total[key] += timings[key]
        shutil.rmtree(work / code, ignore_errors=True)
    return {k: round(v, 1) for k, v in total.items()}


_WARD_LINE = re.compile(r"ward (\d{5}): `ward run` exited (\d+).*?\(([\d.]+) s\)", re.S)


def ward_seconds(log: str) -> dict:
    """Per-ward wall seconds of `ward run`, from the city run's console log."""
    wards = _WARD_LINE.findall(log)
    seconds = sorted(float(m[2]) for m in wards)
    failed = sorted(m[0] for m in wards if m[1] != "0")
    if not seconds:
        return {"wards": 0, "failed": failed}
    return {
        "wards": len(seconds),
        "failed": failed,
        "min": seconds[0],
        "median": seconds[len(seconds) // 2],
        "p90": seconds[int(len(seconds) * 0.9)],
        "max": seconds[-1],
        "sum": round(sum(seconds), 1),
    }


def _published(city: CitySettings) -> dict[str, int]:
    with duckdb.connect(str(city.city_db_path), read_only=True) as con:
        rows = con.execute("select status, count(*) from marts.wards group by all").fetchall()
    return dict(rows)


def bench(args: argparse.Namespace) -> dict:
    codes = province_codes(args.province)[: args.wards or None]
    sizes = ward_sizes(codes, args.residents)
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="ward-city-bench-"))
    city = CitySettings(root=root)
    result: dict = {
        "what": "a whole city's full build: `ward city run` under one memory budget vs the bare-DuckDB floor",
        "province": args.province,
        "wards": len(codes),
        "residents": sum(sizes.values()),
        "sizes": {
            "smallest": min(sizes.values()),
            "median": sorted(sizes.values())[len(sizes) // 2],
            "largest": max(sizes.values()),
        },
        "parallel": args.parallel,
        "memory_limit": args.memory_limit,
        "threads": args.threads,
        "cpus": os.cpu_count(),
    }
    if not city.landing_dir.exists():
        result["generate_seconds"] = generate(root, sizes)
    env = {
        **os.environ,
        ENV_CITY_DIR: str(root),
        ENV_WARD_CODES: ",".join(codes),
        ENV_CITY_PARALLEL: str(args.parallel),
        ENV_MEMORY_LIMIT: args.memory_limit,
        ENV_THREADS: str(args.threads),
        ENV_SHARED_KEY: BENCH_KEY,
    }
    result["load_before"] = [round(x, 1) for x in os.getloadavg()]
    result["city_run"] = run_sampled(ward_command("city", "run"), env, root / "bench-city-run.log")
    result["load_after"] = [round(x, 1) for x in os.getloadavg()]
    result["ward_run_seconds"] = ward_seconds((root / "bench-city-run.log").read_text(encoding="utf-8"))
    result["wards_published"] = _published(city)
    result["floor"] = floor(city, codes, root / "bench-floor")
    result["ratio_to_floor"] = round(result["city_run"]["seconds"] / result["floor"]["total"], 1)
    result["peak_rss_gib"] = round(result["city_run"]["peak_rss_mib"] / 1024, 2)
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if args.keep:
        result["root"] = str(root)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=4_600_000)
    parser.add_argument("--province", default="31", help="province code of admin_units_2025.csv")
    parser.add_argument("--wards", type=int, default=0, help="only the first N wards (0: all)")
    parser.add_argument("--parallel", type=int, default=2, help="wards at once")
    parser.add_argument("--memory-limit", default="5GB", help="the budget all wards share")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads all wards share")
    parser.add_argument("--root", help="a city root to reuse (generated once); default a new temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the city root")
    args = parser.parse_args()
    result = bench(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"city-{result['residents']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
