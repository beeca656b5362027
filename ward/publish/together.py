"""Publish the warehouse and the exports together, or neither.

Analysts read the warehouse, apps the exports: if one showed this build and the other the last, a
figure would differ between two screens of the ward. Both are prepared first (the warehouse copy
beside its target, the export set in a new version folder, written while the copy runs); only when
both are ready are they swapped in, the warehouse first; if the exports' swap then fails, the
warehouse is put back. Whatever fails, the message says what was left as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ward.publish.atomic import (
    commit_file,
    discard_version_dir,
    forget_replaced,
    stage_file,
    swap_symlink,
)
from ward.publish.exports import ExportReport
from ward.publish.warehouse import checkpoint


class PublishError(RuntimeError):
    """Publication failed; its message says that the published warehouse and exports are unchanged."""


@dataclass
class Published:
    warehouse: Path
    exports: ExportReport


def publish_together(
    build_db: Path,
    warehouse: Path,
    exports_dir: Path,
    write_exports: Callable[[], ExportReport],
    readers_group: str | None = None,
) -> Published:
    """`write_exports` writes the export set without swapping it in (export_marts(..., swap=False))."""
    checkpoint(build_db, readers_group)  # the file is complete before it is copied or read
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse") as copier:
        copy = copier.submit(stage_file, build_db, warehouse, readers_group)
        report, failure = None, None
        try:
            report = write_exports()
        except Exception as error:
            failure = error
        try:
            staged = copy.result()
        except Exception as error:
            failure = failure or error
            staged = None
    if failure is not None:
        if staged is not None:
            staged.unlink(missing_ok=True)
        if report is not None and report.version_dir is not None:
            discard_version_dir(report.version_dir)
        raise PublishError(
            f"Publishing failed ({type(failure).__name__}: {failure}); neither the warehouse nor the "
            "exports were replaced: both still show the previous run."
        ) from failure
    replaced = commit_file(staged, warehouse)
    try:
        swap_symlink(exports_dir, report.version_dir)
    except Exception as error:
        if replaced is not None:
            os.replace(replaced, warehouse)  # put the previous warehouse back
        else:
            warehouse.unlink(missing_ok=True)
        discard_version_dir(report.version_dir)
        raise PublishError(
            f"Publishing the exports failed ({type(error).__name__}: {error}); the warehouse was put "
            "back: both still show the previous run."
        ) from error
    forget_replaced(warehouse, replaced)
    return Published(warehouse=warehouse, exports=report)
