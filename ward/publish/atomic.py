"""Replace published things whole, so a reader sees the old set or the new one, never half of each."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from ward.ingest.permissions import make_private, pass_through_dir, private_dir
from ward.publish.block_copy import CAN_CLAIM, claim_unread, refresh


def replace_file(source: Path, target: Path, group: str | None = None) -> None:
    """Copy `source` beside `target`, then rename over it (atomic on one file system).

    The copy holds personal data (the warehouse): 0600 in a 0700 folder, or 0640 / 0750 owned by
    the readers `group` (ward/ingest/permissions.py), set before it takes the target's name.

    The replaced file is not freed in the rename: it becomes the next copy's spare (stage_file),
    and older ones are removed by a background process (freeing a 2.7 GB file takes the file system
    about a second, which the run need not wait for; a reader that has it open keeps reading it).
    """
    forget_replaced(target, commit_file(stage_file(source, target, group), target))


def spare_path(target: Path) -> Path:
    """An earlier copy of `target`, no longer published, that the next copy may be written into."""
    return target.with_name(f".{target.name}.spare")


def stage_file(source: Path, target: Path, group: str | None = None) -> Path:
    """The first half of replace_file: a private copy beside `target`, not yet in its place.

    When no reader has the spare open, the copy is the spare brought up to date, which writes only
    the blocks that changed since it was published (ward.publish.block_copy); otherwise a new copy.
    """
    private_dir(target.parent, group)
    tmp = target.with_name(f".{target.name}.tmp")
    spare = spare_path(target)
    claimed = claim_unread(spare)
    if claimed is None:
        spare.unlink(missing_ok=True)  # a reader keeps the file it has open; the name goes
        _private_copy(source, tmp)
    else:
        try:
            os.replace(spare, tmp)
            refresh(claimed, source)
        finally:
            os.close(claimed)
    make_private(tmp, group)
    return tmp


def _private_copy(source: Path, target: Path) -> None:
    """A copy that is owner-only from its creation (the caller widens it to the readers group),
    made by the kernel (sendfile), as shutil.copyfile would."""
    src = os.open(source, os.O_RDONLY)
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            size, offset = os.fstat(src).st_size, 0
            while offset < size:
                sent = os.sendfile(dst, src, offset, size - offset)
                if sent == 0:
                    break
                offset += sent
        finally:
            os.close(dst)
    finally:
        os.close(src)


def commit_file(staged: Path, target: Path) -> Path | None:
    """The second half: rename the staged copy over `target`. Returns the replaced file, kept
    under another name until forget_replaced (so it can be put back), or None if there was none."""
    replaced = None
    if target.exists():
        replaced = target.with_name(f".{target.name}.replaced-{os.getpid()}-{time.time_ns()}")
        os.link(target, replaced)
    os.replace(staged, target)
    return replaced


def forget_replaced(target: Path, latest: Path | None) -> None:
    """Keep `latest` (the file this publication replaced) as the next copy's spare; free the files
    replaced before, in the background. The first publication replaced none: its spare is a copy of
    what it published, so that the second writes only what changed too."""
    if CAN_CLAIM:
        if latest is not None:
            os.replace(latest, spare_path(target))
        elif not spare_path(target).exists():
            tmp = target.with_name(f".{target.name}.spare.tmp")
            _private_copy(target, tmp)
            os.replace(tmp, spare_path(target))
    _remove_in_background(sorted(target.parent.glob(f".{target.name}.replaced-*")))


def _remove_in_background(paths: list[Path]) -> None:
    if paths:  # a detached `rm` outlives this process; a leftover is taken by the next replace
        subprocess.Popen(["rm", "-f", "--", *map(str, paths)], start_new_session=True)


def new_version_dir(link: Path, group: str | None = None) -> Path:
    """A fresh folder to build the next version of `link` in (e.g. data/.exports/20261128T...).

    It will hold private files and the shared tier: others may pass through it (0711; 0751 with the
    readers `group`) to reach shared/, but not list it; each file's own mode protects it.
    """
    versions = link.parent / f".{link.name}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = versions / stamp
    path.mkdir(parents=True)
    pass_through_dir(versions, group)
    pass_through_dir(path, group)
    return path


def swap_symlink(link: Path, version_dir: Path, keep: int = 2) -> None:
    """Point `link` at `version_dir` in one rename; prune all but the newest `keep` versions.

    A reader that resolved the old link keeps reading the old folder until it is pruned, which
    happens only `keep` publications later.
    """
    if link.exists() and not link.is_symlink():
        # An earlier layout left a real folder here: move it aside once.
        shutil.rmtree(link)
    tmp_link = link.with_name(f".{link.name}.link.tmp")
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(os.path.relpath(version_dir, link.parent))
    os.replace(tmp_link, link)
    versions = sorted(p for p in version_dir.parent.iterdir() if p.is_dir())
    for old in versions[:-keep]:
        if old != version_dir:
            shutil.rmtree(old, ignore_errors=True)


def discard_version_dir(version_dir: Path) -> None:
    """A version that will not be published (its publication failed half-way)."""
    shutil.rmtree(version_dir, ignore_errors=True)
