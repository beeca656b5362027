"""What sits in a landing folder, told without following or opening anything.

Every entry is looked at with `lstat` only: a symbolic link is never followed (it could point
anywhere outside the data root), a FIFO is never opened (opening it for reading blocks until some
other program writes), a folder is not descended into. Only a regular file whose name can be shown is
read, and it is opened with O_NOFOLLOW | O_NONBLOCK and checked again with fstat, so an entry that
is swapped for a link or a FIFO between the listing and the read is refused, not followed.

File names come from the disk as bytes; a name that is not UTF-8 reaches Python with surrogate
escapes, which polars, Parquet and JSON refuse. `safe_name` is the printable form used in the
ledger, the reports and the logs: bytes that are not UTF-8 as `\\xNN`, control and invisible
formatting characters as `\\uNNNN`.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path

# Kinds of entry that are not read (each a rejection in rejections.py).
SYMLINK = "symlink"
FIFO = "fifo"
SPECIAL = "special"  # socket, device
FOLDER = "folder"
HIDDEN = "hidden"
BAD_NAME = "bad_name"

# Zero-width and bidirectional controls: invisible, and they can make a name read as another one.
INVISIBLE = {*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF}


class NotARegularFile(OSError):
    """The entry changed into something that is not a regular file between listing and reading."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def _unprintable(ch: str) -> bool:
    return ord(ch) in INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


def name_is_printable(name: str) -> bool:
    """False for a name that is not UTF-8 (surrogate escapes) or holds controls or invisibles."""
    return not any(_unprintable(ch) for ch in name)


def safe_name(name: str) -> str:
    """`name` as printable text: undecodable bytes as `\\xNN`, controls and invisibles as `\\uNNNN`."""
    if name_is_printable(name):
        return name
    out = []
    for ch in name:
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif _unprintable(ch):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def kind_of(path: Path, lstat: os.stat_result | None = None) -> str | None:
    """None for a regular file with a printable, visible name (to read); else why it is not read."""
    try:
        mode = (lstat or path.lstat()).st_mode
    except OSError:
        return SPECIAL
    if stat.S_ISLNK(mode):
        return SYMLINK
    if stat.S_ISFIFO(mode):
        return FIFO
    if stat.S_ISDIR(mode):
        return FOLDER
    if not stat.S_ISREG(mode):
        return SPECIAL
    if not name_is_printable(path.name):
        return BAD_NAME
    if path.name.startswith("."):
        return HIDDEN
    return None


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file, never through a link and never blocking on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if path.is_symlink():
            raise NotARegularFile(SYMLINK) from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(FIFO if stat.S_ISFIFO(mode) else SPECIAL)
        with os.fdopen(fd, "rb", buffering=0, closefd=False) as handle:
            return handle.readall()  # sized from fstat: one allocation, as Path.read_bytes
    finally:
        os.close(fd)
