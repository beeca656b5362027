"""The leaders' page in a real browser: uvicorn on a free loopback port, Chromium driven by Playwright.

Skipped with its reason when /usr/bin/chromium or the playwright package is missing (nothing is
installed at test time; CI installs `chromium` from the distribution and `playwright` from pip).
Screenshots are kept in the test's tmp dir.
"""

from __future__ import annotations

import importlib.util
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.unit.test_serve_api import GROUP, KEYS, built_ward
from ward.readers import connect_reader

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")


def _why_not() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install playwright; its own browsers are not needed)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    why = _why_not()
    if why:
        pytest.skip(why)
    import uvicorn

    from ward.serve.app import create_app

    settings = built_ward(tmp_path_factory)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield settings, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _latest_residents(settings) -> dict[int, int]:
    with connect_reader(settings) as con:
        rows = con.execute(
            "select residential_group_no, residents from marts.mart_population_by_group "
            "where snapshot_date = (select max(snapshot_date) from marts.mart_population_by_group) "
            "and residential_group_no is not null"
        ).fetchall()
    return dict(rows)


def _figures(page, figure: str) -> dict[str, str]:
    return page.eval_on_selector_all(
        f"[data-figure='{figure}'][data-key]",
        "els => Object.fromEntries(els.map(e => [e.dataset.key, e.textContent.trim()]))",
    )


def _open_as(browser, base: str, role: str, shot: Path):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    response = page.goto(f"{base}/?key={KEYS[role][0]}")
    assert response.ok, response.status
    assert page.url == f"{base}/"  # the key left the address bar for a cookie
    page.screenshot(path=str(shot), full_page=True)
    assert all(u.startswith(base) for u in requests), "the page loaded something from elsewhere"
    return context, page


def test_leader_sees_every_group_as_in_the_mart(server, browser, tmp_path):
    settings, base = server
    context, page = _open_as(browser, base, "leader", tmp_path / "leader.png")
    try:
        assert "Bảng điều hành" in page.locator("h1").inner_text()
        shown = _figures(page, "residents")
        mart = _latest_residents(settings)
        assert {int(k): int(v.replace(".", "")) for k, v in shown.items()} == mart
        assert page.locator("svg").count() >= 5 and page.locator("script").count() == 0
        # the partial month is marked
        assert page.get_by_text(re.compile("chưa đủ tháng")).count() >= 1
    finally:
        context.close()
    assert (tmp_path / "leader.png").stat().st_size > 10_000


def test_group_leader_sees_only_their_group(server, browser, tmp_path):
    settings, base = server
    context, page = _open_as(browser, base, "group_leader", tmp_path / "group_leader.png")
    try:
        mart = _latest_residents(settings)
        shown = _figures(page, "residents")
        assert shown == {str(GROUP): f"{mart[GROUP]:,}".replace(",", ".")}
        text = page.inner_text("body")
        for other in set(mart) - {GROUP}:
            assert f"Tổ {other}\n" not in text and f"Tổ {other}\t" not in text
            assert not page.locator(f"[data-figure='quality'][data-key^='{other}|']").count()
        assert f"Tổ dân phố {GROUP}" in text
    finally:
        context.close()
