"""bench/city.py's reading of a `ward city run` console log (the bench itself runs by hand)."""

from bench.city import ward_seconds, ward_sizes

LOG = """114 ward(s), 2 at once, each under WARD_MEMORY_LIMIT=2384MiB, WARD_THREADS=1;
ward 10525: `ward run` exited 0 (finished cleanly); its log:
/tmp/city/logs/10525.log (66.8 s)
ward 10507: `ward run` exited 1 (a blocking check failed); its log: /tmp/city/logs/10507.log (12.5 s)
ward 10532: `ward run` exited 0 (finished cleanly); its log: /tmp/city/logs/10532.log (70.1 s)
"""


def test_ward_seconds_reads_wrapped_lines_and_failures():
    assert ward_seconds(LOG) == {
        "wards": 3, "failed": ["10507"], "min": 12.5, "median": 66.8, "p90": 70.1, "max": 70.1, "sum": 149.4,
    }  # fmt: skip


def test_ward_sizes_are_realistic_and_sum_to_the_city():
    sizes = ward_sizes(tuple(f"{i:05d}" for i in range(114)), 4_600_000)
    assert sum(sizes.values()) == 4_600_000
    assert min(sizes.values()) >= 2_000 and max(sizes.values()) <= 120_000
