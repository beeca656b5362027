"""The steward's screens, in a real browser: `ward ui` on a generated ward, read by headless Chromium.

A small ward with rejected files and rule-breaking rows is generated and run (`ward run`), then
`ward ui` starts in its own process group and Playwright drives the distribution's Chromium
(/usr/bin/chromium; no `playwright install`, which downloads browsers). Every assertion is on the
text of the rendered page; the expected values come from the published warehouse. Screenshots of
each page are saved in the test's temporary folder (the path is printed).

Needs: `apt-get install -y chromium` and `pip install playwright==1.65.2`; skipped without them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assets.delivery_partitions import partition_key
from tests.fixtures.pipeline import run_ward
from tests.fixtures.servers import answers, default_signals
from ward.readers import connect_reader
from ward.settings import Settings

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
UI_START_SECONDS = 180
RUNS_IDLE_SECONDS = 600

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def _free_port_pair() -> int:
    """A port p with p + 1 free too (the UI on p, the quality report on p + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free consecutive ports")


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def _runs_in_progress(base: str) -> int:
    query = (
        "{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED]}) "
        "{ ... on Runs { results { runId } } } }"
    )
    return len(_graphql(base, query)["runsOrError"]["results"])


@pytest.fixture(scope="module")
def ward_ui(tmp_path_factory):
    if sync_playwright is None:
        pytest.skip("Playwright is not installed: pip install playwright==1.65.2 (no `playwright install`)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from ward.generate import generate_ward

    root = tmp_path_factory.mktemp("ui_browser")
    data = root / "data"
    generate_ward(data, people=1500, groups=6, seed=7)
    settings = Settings(data_dir=data, shared_export_key="k" * 32)
    # A first run without the last dossier extract, then the incremental run that takes it: the UI
    # shows what a steward sees on an ordinary day.
    last = max(
        (p for p in (data / "landing" / "service_records").iterdir() if p.is_file()), key=lambda p: p.name
    )
    aside = root / last.name
    last.rename(aside)
    assert run_ward(settings) == 0
    aside.rename(last)
    assert run_ward(settings) == 0
    port = _free_port_pair()
    env = {
        **os.environ,
        "WARD_DATA_DIR": str(data),
        "WARD_UI_PORT": str(port),
        "WARD_SHARED_EXPORT_KEY": "k" * 32,
    }
    log_path = root / "ui.log"
    ward = Path(sys.executable).with_name("ward")
    with log_path.open("w") as log:
        ui = subprocess.Popen(
            [str(ward), "ui", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped whole below
            preexec_fn=default_signals,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + UI_START_SECONDS
        while not answers(f"{base}/server_info"):
            assert ui.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, f"ward ui did not answer in {UI_START_SECONDS} s"
            time.sleep(1)
        # The sensors may start a run when the UI comes up (they should not: the files are taken);
        # pages read the last materialization, so wait for quiet rather than read a half-run.
        deadline = time.monotonic() + RUNS_IDLE_SECONDS
        while _runs_in_progress(base):
            assert time.monotonic() < deadline, "a run started by the UI did not finish"
            time.sleep(3)
        shots = root / "screenshots"
        shots.mkdir()
        print(f"\nscreenshots: {shots}")
        yield settings, base, f"http://127.0.0.1:{port + 1}/", shots
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=45)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()


@pytest.fixture(scope="module")
def browser(ward_ui):
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield chromium
        chromium.close()


class Screen:
    """One page of the browser; remembers every request to a host other than 127.0.0.1."""

    def __init__(self, browser, shots: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1600, "height": 1000})
        self.shots = shots
        self.outside: list[str] = []
        self.page.on("request", self._note)

    def _note(self, request) -> None:
        host = re.match(r"^[a-z]+://([^/:]+)", request.url)
        if host and host.group(1) not in ("127.0.0.1", "localhost"):
            self.outside.append(request.url)

    def open(self, url: str, wait_for: str, shot: str) -> str:
        self.page.goto(url)
        self.page.get_by_text(wait_for).first.wait_for(timeout=60_000)
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)
        return self.page.inner_text("body")


@pytest.fixture
def screen(browser, ward_ui):
    page = Screen(browser, ward_ui[3])
    yield page
    page.page.close()


def _warehouse(settings: Settings, sql: str) -> list[tuple]:
    with connect_reader(settings) as con:
        return con.execute(sql).fetchall()


def test_the_first_screen_has_no_pop_up_and_reaches_nothing_outside(ward_ui, screen):
    _settings, base, _report, _shots = ward_ui
    text = screen.open(f"{base}/assets", "steward", "01_assets")
    assert screen.page.locator("[role=dialog]").count() == 0, "a pop-up covers the first screen"
    assert "newsletter" not in text.lower() and "community" not in text.lower()
    assert screen.outside == [], f"the UI asked hosts outside this machine: {screen.outside[:5]}"


def test_the_rejected_files_and_their_reasons_are_on_the_deliveries_page(ward_ui, screen):
    settings, base, _report, _shots = ward_ui
    rejected = _warehouse(
        settings, "select source_file, reason_vi, reason_en from marts.deliveries where status = 'rejected'"
    )
    assert rejected, "the generated ward plants rejected files"
    text = screen.open(f"{base}/assets/steward/deliveries", "bị từ chối / rejected", "02_steward_deliveries")
    for source_file, reason_vi, reason_en in rejected:
        assert source_file in text
        assert reason_vi in text and reason_en in text
    loaded = _warehouse(
        settings,
        "select source_file, rows_in, rows_kept, rows_quarantined from marts.deliveries "
        "where status = 'loaded' and rows_quarantined > 0 order by rows_quarantined desc limit 1",
    )[0]
    row = screen.page.locator("tr tr", has_text=loaded[0]).first.inner_text()
    assert re.search(rf"\b{loaded[1]}\s+{loaded[2]}\s+{loaded[3]}\b", row), row


def test_the_landing_asset_counts_the_files_set_aside(ward_ui, screen):
    settings, base, _report, _shots = ward_ui
    (count,) = _warehouse(
        settings, "select count(*) from marts.deliveries where status = 'rejected' and source = 'citizens'"
    )[0]
    text = screen.open(f"{base}/assets/landing/citizens", "files_rejected", "03_landing_citizens")
    key = screen.page.locator("td").get_by_text("files_rejected", exact=True)
    row = screen.page.locator("tr", has=key).first.inner_text()
    assert row.split()[-1] == str(count), row
    assert "Các dòng công dân" in text and "EN:" in text  # described in Vietnamese, then English
    text = screen.open(f"{base}/assets/landing/deliveries", "rejected_files", "04_landing_deliveries")
    rejected = _warehouse(settings, "select source_file from marts.deliveries where status = 'rejected'")
    assert all(r[0] in text for r in rejected)


def test_every_delivery_is_a_partition_reported_once_and_its_event_says_why(ward_ui, screen):
    settings, base, _report, _shots = ward_ui
    deliveries = _warehouse(
        settings, "select source_file, sha256, status, reason_vi, reason_en from marts.deliveries"
    )
    status = {partition_key(f, sha): s for f, sha, s, *_ in deliveries}
    key = '{path: ["steward", "delivery"]}'
    query = f"""{{ assetNodeOrError(assetKey: {key}) {{ ... on AssetNode {{ partitionKeys
        assetPartitionStatuses {{ ... on DefaultPartitionStatuses {{ materializedPartitions }} }} }} }}
      assetOrError(assetKey: {key}) {{ ... on Asset {{ assetMaterializations(limit: 10000) {{ partition }}
        assetObservations(limit: 10000) {{ partition }} }} }} }}"""
    answer = _graphql(base, query)
    node, events = answer["assetNodeOrError"], answer["assetOrError"]
    assert sorted(node["partitionKeys"]) == sorted(status)
    materialized = set(node["assetPartitionStatuses"]["materializedPartitions"])
    assert materialized == {key for key, s in status.items() if s == "loaded"}
    # Two runs, each delivery reported once: the incremental run reported its new file, not the ledger.
    reported = [e["partition"] for e in events["assetMaterializations"] + events["assetObservations"]]
    assert sorted(reported) == sorted(status)

    source_file, sha, _status, reason_vi, reason_en = next(d for d in deliveries if d[2] == "rejected")
    rejected = partition_key(source_file, sha)
    screen.open(f"{base}/assets/steward/delivery?view=events", rejected, "04b_delivery_events")
    screen.page.get_by_text(rejected).first.click()
    screen.page.get_by_text(reason_en).first.wait_for(timeout=30_000)
    screen.page.screenshot(path=str(screen.shots / "04c_delivery_rejected.png"), full_page=True)
    text = screen.page.inner_text("body")
    assert "bị từ chối / rejected" in text and reason_vi in text


def test_the_failing_rule_checks_are_shown_with_their_reason(ward_ui, screen):
    settings, base, _report, _shots = ward_ui
    with connect_reader(settings) as con:
        fired = con.execute(
            "select lower(rule), rows_failed from quality.rule_results "
            "where source = 'citizens' and outcome = 'quarantine' and rows_failed > 0 order by rule"
        ).fetchall()
    assert fired, "the generated ward plants rule-breaking rows"
    text = screen.open(
        f"{base}/assets/staging/stg_landing__citizens?view=checks", fired[0][0], "05_citizens_checks"
    )
    for check, _failed in fired:
        assert check in text
    # the list marks them failed (warning), and the check's page tells why, in both languages
    entry = screen.page.get_by_text(fired[0][0], exact=True).first
    assert re.search(r"fail|warn", entry.locator("xpath=../..").inner_text(), re.IGNORECASE)
    entry.click()
    detail = screen.page.locator("body")
    screen.page.get_by_text("EN:").first.wait_for(timeout=30_000)
    screen.page.screenshot(path=str(screen.shots / "06_check_detail.png"), full_page=True)
    body = detail.inner_text()
    assert "[cách ly" in body and "[quarantine" in body
    assert "{" not in body.split("EN:")[0], "a raw {placeholder} is shown"


def test_after_an_incremental_run_every_check_shows_a_real_result(ward_ui):
    """The UI's latest result of each check (Dagster's GraphQL, what the asset pages show): none
    Skipped or missing, and the failing rule checks are exactly the rules with failing rows."""
    settings, base, _report, _shots = ward_ui
    query = (
        "{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name "
        "executionForLatestMaterialization { status } } } } } }"
    )
    latest = {
        ("/".join(node["assetKey"]["path"]), check["name"]): (
            check["executionForLatestMaterialization"] or {}
        ).get("status")
        for node in _graphql(base, query)["assetNodes"]
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    assert latest
    assert {k: s for k, s in latest.items() if s not in ("SUCCEEDED", "FAILED")} == {}
    with connect_reader(settings) as con:
        rules = dict(con.execute("select lower(rule), rows_failed from quality.rule_results").fetchall())
    failing = {name for (_asset, name), status in latest.items() if name in rules and status == "FAILED"}
    assert failing == {rule for rule, failed in rules.items() if failed}


def test_a_residential_group_scorecard_is_shown(ward_ui, screen):
    settings, base, _report, _shots = ward_ui
    residents, quarantined = _warehouse(
        settings,
        """
        select
            (select residents from marts.mart_population_by_group where residential_group_no = 1
             order by snapshot_date desc limit 1),
            (select count(distinct (source, source_file, row_number)) from marts.quarantine
             where residential_group_no = 1 and resolved_at is null)
        """,
    )[0]
    text = screen.open(f"{base}/assets/steward/scorecard", "Tổ 01", "07_steward_scorecard")
    for word in (
        "dung",
        "du",
        "sach",
        "song",
        "thong_nhat",
        "dung_chung",
        "open_quarantine",
        "open_findings",
    ):
        assert word in text
    line = screen.page.locator("tr tr", has_text="Tổ 01").first.inner_text()
    row = line.split()
    assert row[:3] == ["Tổ", "01", str(residents)], row
    assert row[-2] == str(quarantined), row
    # the words a group has figures for (dùng chung is the ward's only: a dash)
    assert len(re.findall(r"\b\d{1,3}\.\d%", line)) == 5, line


def test_the_quality_report_reads_offline_and_says_quarantine_is_the_design(ward_ui, screen):
    _settings, _base, report, _shots = ward_ui
    text = screen.open(report, "quarantined as designed", "08_quality_report")
    assert "cách ly (đúng thiết kế)" in text
    assert "Failed" not in text and "%" not in text
    assert screen.outside == [], f"the report asked hosts outside this machine: {screen.outside[:5]}"


def _run_status_and_messages(base: str, run_id: str) -> tuple[str, list[str]]:
    query = (
        f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} '
        f'logsForRun(runId: "{run_id}") {{ ... on EventConnection {{ events {{ ... on MessageEvent '
        "{ message } } } } }"
    )
    data = _graphql(base, query)
    return data["runOrError"]["status"], [e.get("message") or "" for e in data["logsForRun"]["events"]]


def _wait_for(predicate, what: str, seconds: float = RUNS_IDLE_SECONDS):
    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)
    return value


def test_a_run_launched_from_the_ui_waits_for_ward_run_and_runs_in_one_process(ward_ui):
    """Last in this module (it rebuilds the steward view). While a `ward run` holds build/run.lock,
    a run launched from the UI waits and says so in its log; once the lock is free it finishes, its
    steps executed in the run's one process (in_process_executor)."""
    import fcntl

    from ward.build_guard import lock_path

    settings, base, _report, _shots = ward_ui
    location = _graphql(base, "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }")[
        "workspaceOrError"
    ]["locationEntries"][0]["name"]
    fd = os.open(lock_path(settings), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a `ward run` in progress, as it writes itself
    os.ftruncate(fd, 0)
    os.pwrite(fd, b"4242 2026-12-06T10:00:00+07:00\n", 0)
    try:
        mutation = (
            "mutation { launchRun(executionParams: { selector: { repositoryLocationName: "
            f'"{location}", repositoryName: "__repository__", jobName: "ward_pipeline", '
            'assetSelection: [{path: ["steward", "scorecard"]}, {path: ["steward", "deliveries"]}] }, '
            "runConfigData: {} }) { __typename ... on LaunchRunSuccess { run { runId } } "
            "... on PythonError { message } } }"
        )
        launched = _graphql(base, mutation)["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status, messages = _wait_for(
            lambda: (
                (r := _run_status_and_messages(base, run_id))[1]
                and any("this run waits for it to end" in m for m in r[1])
                and r
            ),
            "the UI's run to say it waits for the lock",
        )
        assert status == "STARTED"
        assert any(
            "another run is in progress since 2026-12-06T10:00:00+07:00 (pid 4242)" in m for m in messages
        )
    finally:
        os.close(fd)  # the `ward run` ends
    status, messages = _wait_for(
        lambda: (r := _run_status_and_messages(base, run_id))[0] in ("SUCCESS", "FAILURE", "CANCELED") and r,
        "the UI's run to end",
    )
    assert status == "SUCCESS", [m for m in messages if m][-10:]
    assert any(m.startswith("Executing steps in process") for m in messages), messages[:20]
