"""File names on the console are printed as written, never read as Rich markup."""

from __future__ import annotations

import logging

from rich.console import Console

from ward.cli.progress import _ProgressHandler
from ward.cli.summary import print_summary

NAMES = ["citizens/[bold]x[/bold].csv", "citizens/[/].csv", "citizens/[red]ds\\"]


def console() -> Console:
    return Console(record=True, width=300, color_system=None)


def test_a_warning_naming_a_file_prints_the_name_literally():
    out = console()
    handler = _ProgressHandler(out)
    for name in NAMES:
        handler.emit(logging.LogRecord("ward", logging.WARNING, "", 0, f"{name}: rejected", None, None))
    text = out.export_text()
    for name in NAMES:
        assert f"{name}: rejected" in text


def test_the_summary_prints_places_literally():
    out = console()
    print_summary(out, {"files [x] rejected": 2}, {"worklist": "data/[red]to_3[/red].xlsx", "log": "a[/]"})
    text = out.export_text()
    assert "data/[red]to_3[/red].xlsx" in text and "a[/]" in text and "files [x] rejected" in text
