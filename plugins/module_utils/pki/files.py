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
import re
import shutil
import socket

from ansible_collections.ackops.runbooks.plugins.module_utils.common.atomic import (
    replace_file,
    sync_directory,
)
from ansible_collections.ackops.runbooks.plugins.module_utils.pki.core import (
    PKIError,
    Roots,
    utcnow,
)

DEFAULT_BACKUP_DIR = "/var/lib/ackops/pki-backups"
MANIFEST = "manifest.json"
_BACKUP_NAME = re.compile(r"^pki-(\d{8}T\d{6}\.\d{6}Z)$")


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


# The one atomic writer (common/atomic.py); module-level names so tests can
# make either step fail.
_write_atomic = replace_file
_fsync_dir = sync_directory


def write_atomic(path: str, data: bytes, mode: int, host: str | None = None, changes=None) -> None:
    """Replace ``path`` with ``data`` (mode ``mode``, owner kept) in one rename.

    A symlink is followed: its target is replaced, the link stays (as
    ``open()`` would write through it). The write is recorded in ``changes``
    as soon as the rename is done, before the directory's fsync, so a
    failure of that fsync still reports the file as written.
    """
    target = os.path.realpath(path) if os.path.islink(path) else path
    with os_errors(host, "write", path):
        _write_atomic(target, data, mode)
    _record(changes, "write", target)
    with os_errors(host, "sync the directory of", path):
        _fsync_dir(os.path.dirname(target) or ".")


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
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    _record(changes, "write", link, link_to=target)
    with os_errors(host, "sync the directory of", link):
        _fsync_dir(directory)


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


def _inside(path: str, root: str) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _private_copy(src: str, dst: str) -> int:
    """Copy a file's bytes to ``dst`` (0600, it may be a key); returns the source's mode."""
    mode = os.stat(src).st_mode & 0o7777
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as handle:
        shutil.copyfileobj(handle, out)
        out.flush()
        os.fsync(out.fileno())
    return mode


def _copy_tree(src: str, dst: str) -> tuple[list[str], dict[str, int], list[str]]:
    """Copy the tree ``src`` into ``dst`` (directories 0700, files 0600).

    A symlink that stays inside the tree (the kubelet's ``-current.pem``) is
    kept as a link; one that leads out of it (``pki/etcd`` -> elsewhere, a
    certificate linked from another disk) is copied as its target's content,
    so the backup holds what would be lost. Returns the files (relative
    paths), their original modes and the paths reached through such links.
    """
    files: list[str] = []
    modes: dict[str, int] = {}
    followed: list[str] = []
    os.mkdir(dst, 0o700)
    seen = {os.path.realpath(src)}

    def walk(current: str, rel: str) -> None:
        for name in sorted(os.listdir(current)):
            path = os.path.join(current, name)
            relative = os.path.join(rel, name) if rel else name
            target = os.path.join(dst, relative)
            if os.path.islink(path) and _inside(path, src) and os.path.isfile(path):
                os.symlink(os.readlink(path), target)
                files.append(relative)
                continue
            if os.path.islink(path):
                followed.append(relative)
            if os.path.isdir(path):
                real = os.path.realpath(path)
                if real in seen:
                    continue
                seen.add(real)
                os.mkdir(target, 0o700)
                walk(path, relative)
            elif os.path.isfile(path):
                modes[relative] = _private_copy(path, target)
                files.append(relative)

    walk(src, "")
    return sorted(files), modes, followed


def backup(
    roots: Roots,
    backup_dir: str = DEFAULT_BACKUP_DIR,
    now: dt.datetime | None = None,
    changes=None,
    extra_files: list[str] | tuple[str, ...] = (),
) -> dict:
    """Copy pki_dir, the kubeconfigs and kubelet_pki_dir into a new timestamped directory.

    ``extra_files`` are the other files about to be written (a certificate a
    kubeconfig references outside the trees): each is copied too, or noted
    as absent so a restore removes it. Returns the backup's path and
    manifest (file names only, never contents). The backup is recorded in
    ``changes`` once it is complete; a backup that fails half-way is removed
    again, so no rescue restores from it. Backups are 0700 directories of
    0600 files (they hold CA keys); the original modes are in the manifest.
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
        os.chmod(path, 0o700)
    try:
        with os_errors(roots.host, "back up"):
            manifest = _fill_backup(roots, path, stamp, extra_files)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    _record(changes, "backup", path)
    return {"path": path, "manifest": manifest}


def _fill_backup(roots: Roots, path: str, stamp: str, extra_files=()) -> dict:
    manifest: dict = {"created": stamp, "host": roots.host, "trees": [], "files": []}
    trees = []
    for label, root in (("pki", roots.pki_dir), ("kubelet-pki", roots.kubelet_pki_dir)):
        if os.path.isdir(root):
            files, modes, followed = _copy_tree(root, os.path.join(path, label))
            manifest["trees"].append(
                {"label": label, "path": root, "files": files, "modes": modes, "followed": followed}
            )
            trees.append(root)
    os.mkdir(os.path.join(path, "kubeconfigs"), 0o700)
    done = set()
    for kubeconfig in roots.kubeconfig_paths():
        if os.path.isfile(kubeconfig):
            copy = os.path.join(path, "kubeconfigs", os.path.basename(kubeconfig))
            mode = _private_copy(kubeconfig, copy)
            manifest["files"].append(
                {"path": kubeconfig, "copy": os.path.relpath(copy, path), "mode": mode}
            )
            done.add(os.path.realpath(kubeconfig))
    others = [
        extra
        for extra in dict.fromkeys(extra_files)
        if os.path.realpath(extra) not in done and not any(_inside(extra, tree) for tree in trees)
    ]
    if others:
        os.mkdir(os.path.join(path, "files"), 0o700)
    for number, extra in enumerate(others):
        if not os.path.isfile(extra):
            manifest["files"].append({"path": extra, "copy": None, "mode": None})
            continue
        copy = os.path.join(path, "files", f"{number}-{os.path.basename(extra)}")
        mode = _private_copy(extra, copy)
        manifest["files"].append({"path": extra, "copy": os.path.relpath(copy, path), "mode": mode})
    data = json.dumps(manifest, indent=2).encode()
    _write_atomic(os.path.join(path, MANIFEST), data, 0o600)
    return manifest


def prune_backups(
    backup_dir: str, keep: int, max_age_days: int, made: str, now: dt.datetime | None = None
) -> list[str]:
    """Remove old ``pki-<timestamp>`` backups: beyond the ``keep`` newest, or older than
    ``max_age_days`` (0 = no limit of that kind). Never ``made``, the one just taken.

    Returns the paths removed. Nothing but ``pki-<timestamp>`` directories is touched.
    """
    now = now or utcnow()
    with os_errors(None, "list the backups", backup_dir):
        names = sorted(name for name in os.listdir(backup_dir) if _BACKUP_NAME.match(name))
    made_name = os.path.basename(made.rstrip(os.sep))
    newest_first = [name for name in reversed(names) if name != made_name]
    doomed = set()
    if keep:
        doomed.update(newest_first[max(keep - 1, 0) :])
    if max_age_days:
        limit = now - dt.timedelta(days=max_age_days)
        for name in newest_first:
            taken = dt.datetime.strptime(_BACKUP_NAME.match(name).group(1), "%Y%m%dT%H%M%S.%fZ")
            if taken.replace(tzinfo=limit.tzinfo) < limit:
                doomed.add(name)
    removed = []
    for name in sorted(doomed):
        full = os.path.join(backup_dir, name)
        with os_errors(None, "remove the old backup", full):
            shutil.rmtree(full)
        removed.append(full)
    return removed


def _put_back(src: str, dst: str, mode: int | None, through: bool, host: str, changes) -> None:
    if os.path.islink(src):
        symlink_atomic(dst, read_link(src, host), host, changes)
        return
    if os.path.islink(dst) and not through:
        # A file when backed up, a link now: the file goes back in its place.
        remove(dst, host, changes)
    with os_errors(host, "read the backup copy", src), open(src, "rb") as handle:
        data = handle.read()
    # A link leading out of the tree was backed up as its content: written through it.
    write_atomic(
        dst, data, mode if mode is not None else file_mode(src, 0o600, host), host, changes
    )


def restore(path: str, host: str = "", check: bool = False, changes=None) -> list[str]:
    """Put every tree and file of backup ``path`` back; files added since are removed.

    Returns the paths that differed (and, unless ``check``, were put back);
    each one put back or removed is recorded in ``changes`` as it happens.

    Only the trees the backup holds are made equal to it (``pki_dir`` and
    ``kubelet_pki_dir``, through the symlinked directories the backup
    followed); in the kubeconfig directory only the backed-up kubeconfigs are
    put back, nothing else there is touched. Files are put back with the mode
    they had when backed up.
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
        modes = tree.get("modes") or {}
        followed = tree.get("followed") or []

        def through(rel: str, followed=followed) -> bool:
            return any(rel == link or rel.startswith(link + os.sep) for link in followed)

        for current, _dirs, files in os.walk(root, followlinks=True):
            for name in files:
                full = os.path.join(current, name)
                if os.path.relpath(full, root) not in wanted:
                    changed.append(full)
                    if not check:
                        remove(full, host, changes)
        pairs = [
            (os.path.join(source, rel), os.path.join(root, rel), modes.get(rel), through(rel))
            for rel in tree["files"]
        ]
        changed += _restore_pairs(pairs, check, host, changes)
    pairs = []
    for item in manifest["files"]:
        if item.get("copy") is None:  # did not exist before the renewal
            if os.path.lexists(item["path"]):
                changed.append(item["path"])
                if not check:
                    remove(item["path"], host, changes)
            continue
        pairs.append((os.path.join(path, item["copy"]), item["path"], item.get("mode"), True))
    changed += _restore_pairs(pairs, check, host, changes)
    return sorted(set(changed))


def _restore_pairs(pairs: list[tuple], check: bool, host: str, changes) -> list[str]:
    changed = []
    for src, dst, mode, through in pairs:
        with os_errors(host, "compare with the backup", dst):
            differs = _differs(src, dst, mode)
        if not differs:
            continue
        changed.append(dst)
        if not check:
            with os_errors(host, "create the directory", os.path.dirname(dst)):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
            _put_back(src, dst, mode, through, host, changes)
    return changed


def _differs(src: str, dst: str, mode: int | None = None) -> bool:
    if os.path.islink(src):
        return not (os.path.islink(dst) and os.readlink(src) == os.readlink(dst))
    if not os.path.isfile(dst):
        return True
    want = mode if mode is not None else file_mode(src, 0)
    if want != file_mode(dst, -1):
        return True
    with open(src, "rb") as one, open(dst, "rb") as other:
        return one.read() != other.read()
