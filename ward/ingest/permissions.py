"""File modes of what holds personal data: owner-only, or readable by one named group.

The raw lake, the ledger, rejected copies, the build database, the warehouse, the full exports and
the worklists hold names, IDs, addresses: files 0600 and folders 0700, so another account on the
server cannot read them. With `WARD_READERS_GROUP` set (`Settings.readers_group`), they are 0640 /
0750 and owned by that group, for the analysts' accounts. The shared tier (exports/shared) holds no
personal data and keeps the usual 0644 / 0755.

When the group cannot be given (no such group, or this account is not a member of it) the file
stays owner-only: failing closed, with one warning in the log.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
GROUP_FILE, GROUP_DIR = 0o640, 0o750
SHARED_FILE, SHARED_DIR = 0o644, 0o755
# A folder holding both tiers (an export set: full marts and shared/) must let others pass through
# to shared/ without listing it; its personal files are protected by their own mode.
PASS_THROUGH_DIR, GROUP_PASS_THROUGH_DIR = 0o711, 0o751


@cache
def _gid(group: str) -> int | None:
    try:
        import grp

        return grp.getgrnam(group).gr_gid
    except (ImportError, KeyError):
        log.warning("readers group %r does not exist: personal files stay owner-only", group)
        return None


def _give_group(path: Path, group: str | None) -> bool:
    """Whether `path` now belongs to `group` (False: keep it owner-only)."""
    if not group:
        return False
    gid = _gid(group)
    if gid is None:
        return False
    try:
        os.chown(path, -1, gid, follow_symlinks=False)
    except OSError:
        log.warning("cannot give %s to group %r: it stays owner-only", path.name, group)
        return False
    return True


def make_private(path: Path, group: str | None = None) -> None:
    """0600 / 0700 (0640 / 0750 with `group`) for the file or folder at `path` (never a link's target)."""
    is_dir = path.is_dir() and not path.is_symlink()
    grouped = _give_group(path, group)
    modes = (GROUP_DIR, GROUP_FILE) if grouped else (PRIVATE_DIR, PRIVATE_FILE)
    os.chmod(path, modes[0] if is_dir else modes[1])


def private_dir(path: Path, group: str | None = None) -> Path:
    """Create `path` (and missing parents) and make the folder itself private; returns it."""
    path.mkdir(parents=True, exist_ok=True)
    make_private(path, group)
    return path


def pass_through_dir(path: Path, group: str | None = None) -> None:
    """A folder that holds private files and a shared sub-folder: 0711 (0751 with the group)."""
    grouped = _give_group(path, group)
    os.chmod(path, GROUP_PASS_THROUGH_DIR if grouped else PASS_THROUGH_DIR)


def make_shared(path: Path) -> None:
    """The shared tier: readable by all (0644 files, 0755 folders)."""
    os.chmod(path, SHARED_DIR if path.is_dir() else SHARED_FILE)
