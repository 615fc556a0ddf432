# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a file in one rename: a reader sees the old content or the new, never half of it.

Standard library only (runs on managed hosts too). Errors are the ``OSError`` of the step that
failed; callers turn them into their own error with the path and what they were doing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomic(path: str, data: bytes, mode: int, on_replaced=None) -> str:
    """Replace ``path`` with ``data`` (mode ``mode``) and return the path written.

    The temporary file is created beside the target (same file system), gets ``mode`` before
    any byte is written (a secret is never readable by others, not even for a moment), is
    fsynced, then renamed over the target; the directory is fsynced last. An existing file's
    owner and group are kept when the caller may set them. A symlink is followed: its target is
    replaced and the link stays, as ``open()`` would write through it. ``on_replaced(path)`` is
    called right after the rename, before the directory's fsync, so a caller can record the
    write even if that fsync fails. On failure before the rename the temporary file is removed
    and the target is untouched.
    """
    target = os.path.realpath(path) if os.path.islink(path) else path
    replace_file(target, data, mode)
    if on_replaced is not None:
        on_replaced(target)
    sync_directory(os.path.dirname(target) or ".")
    return target


def replace_file(target: str, data: bytes, mode: int) -> None:
    """The first half of ``write_atomic``: temporary file, mode, data, fsync, rename.

    ``target`` is not a symlink (the caller resolved it); the directory is not fsynced.
    """
    directory = os.path.dirname(target) or "."
    owner = None
    if os.path.exists(target):
        info = os.stat(target)
        owner = (info.st_uid, info.st_gid)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(target)}.")
    try:
        os.fchmod(fd, mode)
        if owner is not None and owner != (os.getuid(), os.getgid()):
            with contextlib.suppress(PermissionError):
                os.fchown(fd, *owner)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        # A read-only file system may refuse the clean-up too: the first error is the one.
        with contextlib.suppress(OSError):
            if os.path.lexists(temp):
                os.unlink(temp)
        raise


def sync_directory(directory: str) -> None:
    """fsync ``directory`` so a rename in it survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
