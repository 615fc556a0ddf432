# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe writes and whole-tree backups for a host's PKI.

Every write is a temp file in the target's directory, fsync'd, renamed over
the target and followed by an fsync of the directory, so a crash leaves the
old or the new file, never half of one. A backup copies ``pki_dir``, the
kubeconfigs and ``kubelet_pki_dir`` (symlinks kept as symlinks) into a
timestamped 0700 directory with a manifest that ``restore`` replays.

No ``OSError`` leaves this module: a full disk, a read-only file system or a
missing permission becomes a ``PKIError`` naming the host, the file and the
cause (``master1: /etc/kubernetes/pki/apiserver.crt: cannot write (No space
left on device)``). Every function that changes the host takes an optional
``changes`` ledger (``common.errors.Changes``) and records each backup, write
and removal into it as soon as it is done, so a failure later still reports it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import socket
import tempfile

from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    Roots,
    utcnow,
)

DEFAULT_BACKUP_DIR = "/var/lib/ackops/pki-backups"
MANIFEST = "manifest.json"


@contextlib.contextmanager
def os_errors(host: str | None, doing: str, obj: str | None = None):
    """Turn an ``OSError`` into a PKIError: host, file (``obj`` or the failing one), cause."""
    try:
        yield
    except OSError as exc:
        code = errno.errorcode.get(exc.errno) if exc.errno else None
        raise PKIError(
            f"cannot {doing} ({exc.strerror or exc})",
            host=host or socket.gethostname(),
            obj=obj or exc.filename,
            details={"errno": code, "file": exc.filename} if code else {"file": exc.filename},
        ) from exc


def _record(changes, action: str, target: str, **extra) -> None:
    if changes is not None:
        changes.record(action, target, **extra)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes, mode: int, host: str | None = None, changes=None) -> None:
    """Replace ``path`` with ``data`` (mode ``mode``, owner kept) in one rename."""
    with os_errors(host, "write", path):
        _write_atomic(path, data, mode)
    _record(changes, "write", path)


def _write_atomic(path: str, data: bytes, mode: int) -> None:
    directory = os.path.dirname(path) or "."
    owner = None
    if os.path.exists(path):
        info = os.stat(path)
        owner = (info.st_uid, info.st_gid)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        os.fchmod(fd, mode)
        if owner is not None and owner != (os.getuid(), os.getgid()):
            with contextlib.suppress(PermissionError):
                os.fchown(fd, *owner)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def symlink_atomic(link: str, target: str, host: str | None = None, changes=None) -> None:
    """Point ``link`` at ``target`` in one rename (the way the kubelet rotates)."""
    with os_errors(host, f"point the link at {target}", link):
        directory = os.path.dirname(link) or "."
        tmp = os.path.join(directory, f".{os.path.basename(link)}.{os.getpid()}.tmp")
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        try:
            os.replace(tmp, link)
        except BaseException:
            os.unlink(tmp)
            raise
        _fsync_dir(directory)
    _record(changes, "write", link, link_to=target)


def remove(path: str, host: str | None = None, changes=None) -> None:
    """Remove a file (not a directory); recorded as a change."""
    with os_errors(host, "remove", path):
        os.unlink(path)
    _record(changes, "remove", path)


def read_link(path: str, host: str | None = None) -> str:
    with os_errors(host, "read the link", path):
        return os.readlink(path)


def file_mode(path: str, default: int, host: str | None = None) -> int:
    """The permission bits of ``path``, ``default`` when it does not exist."""
    with os_errors(host, "read the mode", path):
        try:
            return os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            return default


# --- backup and restore ----------------------------------------------------


def _copy_tree(src: str, dst: str) -> list[str]:
    shutil.copytree(src, dst, symlinks=True)
    copied = []
    for current, _dirs, files in os.walk(dst):
        for name in files:
            copied.append(os.path.relpath(os.path.join(current, name), dst))
    return sorted(copied)


def backup(
    roots: Roots,
    backup_dir: str = DEFAULT_BACKUP_DIR,
    now: dt.datetime | None = None,
    changes=None,
) -> dict:
    """Copy pki_dir, the kubeconfigs and kubelet_pki_dir into a new timestamped directory.

    Returns the backup's path and manifest (file names only, never contents).
    The backup is recorded in ``changes`` once it is complete; a backup that
    fails half-way is removed again, so no rescue restores from it.
    """
    now = now or utcnow()
    stamp = now.strftime("%Y%m%dT%H%M%S.%fZ")
    path = os.path.join(backup_dir, f"pki-{stamp}")
    with os_errors(roots.host, "create the backup directory", backup_dir):
        os.makedirs(backup_dir, mode=0o700, exist_ok=True)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError as exc:
            raise PKIError("backup already exists", host=roots.host, obj=path) from exc
    try:
        with os_errors(roots.host, "back up"):
            manifest = _fill_backup(roots, path, stamp)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    _record(changes, "backup", path)
    return {"path": path, "manifest": manifest}


def _fill_backup(roots: Roots, path: str, stamp: str) -> dict:
    manifest: dict = {"created": stamp, "host": roots.host, "trees": [], "files": []}
    for label, root in (("pki", roots.pki_dir), ("kubelet-pki", roots.kubelet_pki_dir)):
        if os.path.isdir(root):
            files = _copy_tree(root, os.path.join(path, label))
            manifest["trees"].append({"label": label, "path": root, "files": files})
    os.mkdir(os.path.join(path, "kubeconfigs"), 0o700)
    for kubeconfig in roots.kubeconfig_paths():
        if os.path.isfile(kubeconfig):
            copy = os.path.join(path, "kubeconfigs", os.path.basename(kubeconfig))
            shutil.copy2(kubeconfig, copy)
            manifest["files"].append({"path": kubeconfig, "copy": os.path.relpath(copy, path)})
    data = json.dumps(manifest, indent=2).encode()
    write_atomic(os.path.join(path, MANIFEST), data, 0o600, roots.host)
    return manifest


def _put_back(src: str, dst: str, host: str, changes) -> None:
    if os.path.islink(src):
        symlink_atomic(dst, read_link(src, host), host, changes)
        return
    if os.path.islink(dst):
        remove(dst, host, changes)
    with os_errors(host, "read the backup copy", src), open(src, "rb") as handle:
        data = handle.read()
    write_atomic(dst, data, file_mode(src, 0o600, host), host, changes)


def restore(path: str, host: str = "", check: bool = False, changes=None) -> list[str]:
    """Put every tree and file of backup ``path`` back; files added since are removed.

    Returns the paths that differed (and, unless ``check``, were put back);
    each one put back or removed is recorded in ``changes`` as it happens.

    Only the trees the backup holds are made equal to it (``pki_dir`` and
    ``kubelet_pki_dir``); in the kubeconfig directory only the backed-up
    kubeconfigs are put back, nothing else there is touched.
    """
    host = host or socket.gethostname()
    manifest_path = os.path.join(path, MANIFEST)
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except OSError as exc:
        raise PKIError(
            f"not a readable backup manifest ({exc.strerror or exc})", host=host, obj=manifest_path
        ) from exc
    except ValueError as exc:
        raise PKIError(
            f"not a readable backup manifest: {exc}", host=host, obj=manifest_path
        ) from exc
    changed = []
    for tree in manifest["trees"]:
        source = os.path.join(path, tree["label"])
        root = tree["path"]
        wanted = set(tree["files"])
        for current, _dirs, files in os.walk(root):
            for name in files:
                full = os.path.join(current, name)
                if os.path.relpath(full, root) not in wanted:
                    changed.append(full)
                    if not check:
                        remove(full, host, changes)
        pairs = [(os.path.join(source, rel), os.path.join(root, rel)) for rel in tree["files"]]
        changed += _restore_pairs(pairs, check, host, changes)
    pairs = [(os.path.join(path, item["copy"]), item["path"]) for item in manifest["files"]]
    changed += _restore_pairs(pairs, check, host, changes)
    return sorted(set(changed))


def _restore_pairs(pairs: list[tuple[str, str]], check: bool, host: str, changes) -> list[str]:
    changed = []
    for src, dst in pairs:
        with os_errors(host, "compare with the backup", dst):
            differs = _differs(src, dst)
        if not differs:
            continue
        changed.append(dst)
        if not check:
            with os_errors(host, "create the directory", os.path.dirname(dst)):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
            _put_back(src, dst, host, changes)
    return changed


def _differs(src: str, dst: str) -> bool:
    if os.path.islink(src) or os.path.islink(dst):
        return not (
            os.path.islink(src) and os.path.islink(dst) and os.readlink(src) == os.readlink(dst)
        )
    if not os.path.isfile(dst) or file_mode(src, 0) != file_mode(dst, -1):
        return True
    with open(src, "rb") as one, open(dst, "rb") as other:
        return one.read() != other.read()
