"""`python -m bench.bounded --people 1000000 --memory-limit 2GB`: one ward's build under a memory
limit against the same build with the defaults, in the same session (issue 15, item 1).

One ward is generated once and copied, so both builds start from the same bytes. Each build is
`ward run` as its own process, as a steward starts it (nothing of this bench process counts), its
RSS and its children's sampled every 0.2 s:
1. first build with the defaults (WARD_MEMORY_LIMIT unset: 40% of the RAM), and with the limit;
2. a full rebuild (`ward run --full-refresh`) of each.
Figures to bench/results/bounded-<people>.json. Run by hand; never in tests. Machines are noisy:
compare the ratios of one session, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.memory import run_sampled, ward_command
from bench.run import BENCH_KEY, RESULTS
from ward.settings import ENV_DATA_DIR, ENV_MEMORY_LIMIT, ENV_SHARED_KEY, ENV_THREADS


def bench(people: int, memory_limit: str, threads: int | None, keep: bool) -> dict:
    base = Path(tempfile.mkdtemp(prefix=f"ward-bounded-{people}-"))
    defaults, bounded = base / "defaults", base / "bounded"
    started = time.perf_counter()
    run_sampled(
        ward_command("generate", "--people", str(people), "--out", str(defaults)),
        dict(os.environ),
        base / "generate.log",
    )
    shutil.copytree(defaults, bounded, symlinks=True)
    result: dict = {
        "people": people,
        "memory_limit": memory_limit,
        "threads": threads,
        "generate_and_copy_seconds": round(time.perf_counter() - started, 1),
    }
    plain = {k: v for k, v in os.environ.items() if k not in (ENV_MEMORY_LIMIT, ENV_THREADS)}
    envs = {
        "defaults": {**plain, ENV_DATA_DIR: str(defaults), ENV_SHARED_KEY: BENCH_KEY},
        "bounded": {
            **plain,
            ENV_DATA_DIR: str(bounded),
            ENV_SHARED_KEY: BENCH_KEY,
            ENV_MEMORY_LIMIT: memory_limit,
            **({ENV_THREADS: str(threads)} if threads else {}),
        },
    }
    for run, args in (("first_build", ("run",)), ("full_rebuild", ("run", "--full-refresh"))):
        for name, env in envs.items():
            result[f"{run}_{name}"] = run_sampled(ward_command(*args), env, base / f"{run}-{name}.log")
        result[f"{run}_seconds_ratio"] = round(
            result[f"{run}_bounded"]["seconds"] / result[f"{run}_defaults"]["seconds"], 3
        )
        result[f"{run}_peak_ratio"] = round(
            result[f"{run}_bounded"]["peak_rss_mib"] / result[f"{run}_defaults"]["peak_rss_mib"], 3
        )
    result["load_after"] = [round(x, 1) for x in os.getloadavg()]
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if keep:
        result["root"] = str(base)
    else:
        shutil.rmtree(base, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="2GB", help="WARD_MEMORY_LIMIT of the bounded build")
    parser.add_argument("--threads", type=int, default=None, help="WARD_THREADS of the bounded build")
    parser.add_argument("--keep", action="store_true", help="keep the generated data roots")
    args = parser.parse_args()
    result = bench(args.people, args.memory_limit, args.threads, args.keep)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bounded-{args.people}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
