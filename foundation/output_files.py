"""Output files written safely: under a temporary name in the target's folder, fsynced, renamed into place.

    staged = StagedOutput("runs/run.skrec")   # creates runs/ if missing; writes runs/run.partial-1a2b3c.skrec
    with open(staged.path, "wb") as file:
        file.write(data)
    staged.commit()                           # fsync, rename to runs/run.skrec, fsync the folder
    # or staged.discard(): the temporary file is removed, an existing runs/run.skrec is untouched

    write_atomically("stats.json", text)      # the same, all at once
    check_output("stats.json", "--stats-json", overwrite=False, inputs=[("--video", "clip.mp4")])

The rules, the same for every output of every command:

- A missing parent folder is created (``mkdir -p``); a parent that is a file,
  or a folder without write permission, is an `OutputError` naming it.
- Until `StagedOutput.commit`, the target is untouched: a run that is killed
  leaves its work in ``<stem>.partial-<random><suffix>`` beside the target
  (the suffix kept, so a partial video or recording still opens as one) and
  never a half-written file under the target's name.
- A target that exists and is not a regular file — a named pipe, a device such
  as ``/dev/stdout`` or ``/dev/full`` — is written in place: there is nothing
  to rename, and nothing is destroyed by writing it.
- `check_output` refuses, before anything starts: an existing regular file
  unless ``overwrite``, a folder, and a path that is the same file as one of
  the command's inputs (or another of its outputs).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from foundation.errors import SkelstreamError


PARTIAL_MARK = ".partial-"


class OutputError(SkelstreamError, OSError):
    """An output cannot be written where it was asked to go; the message names the path and why (an OSError, so
    callers that handle failed writes handle it too)."""


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def partial_name(target: Path, token: str) -> str:
    """The temporary name of ``target`` while it is written: ``run.partial-<token>.skrec`` for ``run.skrec``."""
    return f"{target.stem}{PARTIAL_MARK}{token}{target.suffix}"


def _is_special(path: Path) -> bool:
    """An existing path that is neither a regular file nor a folder (a named pipe, a device)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _existing_ancestor(path: Path) -> Path:
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    return parent


def make_parent(path: str | Path) -> None:
    """Create ``path``'s missing parent folders; `OutputError` naming a parent that is a file."""
    path = Path(path)
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise OutputError(f"cannot write {path}: {ancestor} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot write {path}: cannot create its folder {path.parent}: {_reason(error)}") from None


def fsync_folder(folder: str | Path) -> None:
    """Flush a folder's entries (a rename in it) to the disk; a filesystem that cannot is let be."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class StagedOutput:
    """One output file: written at ``path`` (a temporary name beside ``target``), renamed to ``target`` by
    `commit`; a named pipe or a device is written in place.

    Raises:
        OutputError: the folder cannot be created or written, or ``target`` is a folder.
    """

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        self.in_place = _is_special(self.target)
        self.done = False
        if self.in_place:
            self.path = self.target
            return
        if self.target.is_dir():
            raise OutputError(f"cannot write {self.target}: it is a folder")
        make_parent(self.target)
        while True:
            path = self.target.with_name(partial_name(self.target, secrets.token_hex(3)))
            try:  # mode 0o666 less the umask: the file ends up with the permissions a plain open gives
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                continue
            except OSError as error:
                raise OutputError(f"cannot write {self.target}: {_reason(error)}") from None
            self.path = path
            return

    def commit(self) -> None:
        """fsync the written file, rename it to the target, fsync the folder; `OutputError` if that fails."""
        if self.done:
            return
        self.done = True
        if self.in_place:
            return
        try:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(self.path, self.target)
        except OSError as error:
            raise OutputError(f"cannot finish {self.target} (its data is in {self.path}): {_reason(error)}") from None
        fsync_folder(self.target.parent)

    def discard(self) -> None:
        """Remove the temporary file (the target is left as it was); safe to call twice."""
        if self.done:
            return
        self.done = True
        if not self.in_place:
            self.path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"StagedOutput({str(self.target)!r}, path={str(self.path)!r})"


def write_atomically(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through a `StagedOutput`; `OutputError` naming the path."""
    staged = StagedOutput(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(staged.path, "wb") as file:
            file.write(payload)
    except OSError as error:
        staged.discard()
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    staged.commit()


def probe_writable(path: str | Path) -> None:
    """Fail now, not at the end, where ``path`` could not be written: its folder (created if missing) takes a
    small file that is fsynced and removed (a full disk or a read-only folder fails here); a device takes a
    write of nothing (``/dev/full`` fails here); a named pipe is not opened."""
    staged = StagedOutput(path)
    try:
        if staged.in_place and not staged.path.is_fifo():  # a pipe is not opened: that would wait for its reader
            fd = os.open(staged.path, os.O_WRONLY)
            try:
                os.write(fd, b"")
            finally:
                os.close(fd)
        elif not staged.in_place:
            with open(staged.path, "wb") as file:
                file.write(b"{}\n")
                file.flush()
                os.fsync(file.fileno())
    except OSError as error:
        raise OutputError(f"cannot write {path}: {_reason(error)}") from None
    finally:
        staged.discard()


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (after links, ``..`` and hard links); False where either is missing."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        try:
            return os.path.samefile(a, b)
        except OSError:
            return False
    return os.path.realpath(a) == os.path.realpath(b)


def check_output(
    path: str | Path,
    what: str,
    overwrite: bool = False,
    inputs: Iterable[tuple[str, str | Path | None]] = (),
) -> None:
    """Refuse an output before anything starts; `OutputError`, one line naming ``what`` (the flag) and why.

    Refused: a path that is one of ``inputs`` ((name, path) pairs; also the command's other outputs), a folder, an
    existing regular file unless ``overwrite``, a parent that is a file or a folder not writable. A named
    pipe or a device is accepted as it is. Nothing is created.
    """
    path = Path(path)
    for name, other in inputs:
        if other is not None and str(other) and same_file(path, other):
            raise OutputError(f"{what} {path} is the same file as {name} {other}: writing it would destroy "
                              f"{name}; choose another path")  # fmt: skip
    if _is_special(path):
        return
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder; give a file path")
    if path.exists() and not overwrite:
        raise OutputError(f"{what} {path} exists; pass --overwrite to replace it (it is replaced only when the "
                          f"new file is complete)")  # fmt: skip
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        raise OutputError(f"{what} {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: no permission to write in {ancestor}")
