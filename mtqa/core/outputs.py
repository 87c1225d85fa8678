"""Where a run may write: checked once, before anything is written.

Every output of a run (results, report, batch folder) is checked against every input of the
same run and against the other outputs: comparing resolved paths and inodes catches the same
file reached through a symlink, a hard link or `..`. Outputs must be regular files (a symlink
is written through to its target); `-` means standard output.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import UsageError

STDOUT = "-"


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    """(resolved path, (device, inode) when the file exists)."""
    resolved = os.path.realpath(path)
    try:
        info = os.stat(resolved)
    except OSError:
        return resolved, None
    return resolved, (info.st_dev, info.st_ino)


def _same(a: tuple[str, tuple[int, int] | None], b: tuple[str, tuple[int, int] | None]) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def check_file_output(label: str, path: str) -> None:
    """An output file must be a regular file (or not exist yet); a symlink counts as its target."""
    if path == STDOUT:
        return
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"{label} {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{label} {path} is a folder: give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{label} {path} is not a regular file (a device or pipe): refusing")


def check_folder_output(label: str, path: str) -> None:
    """An output folder must be a folder (or not exist yet)."""
    if Path(path).exists() and not Path(path).is_dir():
        raise UsageError(f"{label} {path} is not a folder (a file of that name exists)")


def _refuse_empty_or_dash(label: str, path: str | None, what: str, dash: bool) -> None:
    """`-o ''` (an empty name would write into the current folder) and, where no standard
    output is meant, `-`: both refused rather than read as a name."""
    if path is None:
        return
    if not path.strip():
        raise UsageError(f"{label} is empty: give a {what} name")
    if path == STDOUT and not dash:
        raise UsageError(f"{label} -: give a {what} name (`-` is not standard output here)")


def check_run_paths(
    inputs: Iterable[str | None],
    files: Iterable[tuple[str, str | None]] = (),
    folders: Iterable[tuple[str, str | None]] = (),
    named_files: Iterable[tuple[str, str | None]] = (),
    owned: Iterable[tuple[str, str]] = (),
) -> None:
    """Refuse, before anything is written, outputs that would overwrite an input of the run or
    each other. `files`/`folders`: (option name, path or None) of the run's outputs (`-` in
    `files` is standard output); `named_files`: outputs that must be files (an HTML report);
    `owned`: (option name, path) of every further file the run writes or removes inside its
    folders (a pattern with `*` for names it derives from the input, such as report pages)."""
    files, folders, named_files = list(files), list(folders), list(named_files)
    for label, path in files:
        _refuse_empty_or_dash(label, path, "file", dash=True)
    for label, path in named_files:
        _refuse_empty_or_dash(label, path, "file", dash=False)
    for label, path in folders:
        _refuse_empty_or_dash(label, path, "folder", dash=False)
    given_inputs = [p for p in inputs if p and p != STDOUT]
    outputs = [(label, p, False) for label, p in files + named_files if p and p != STDOUT]
    outputs += [(label, p, True) for label, p in folders if p]
    seen: list[tuple[str, str, tuple[str, tuple[int, int] | None]]] = []
    for label, path, is_folder in outputs:
        if is_folder:
            check_folder_output(label, path)
        else:
            check_file_output(label, path)
        identity = _identity(path)
        for source in given_inputs:
            if _same(identity, _identity(source)):
                raise UsageError(
                    f"{label} {path} is an input of this run ({source}): refusing to overwrite it"
                )
        for other_label, other, other_identity in seen:
            if _same(identity, other_identity):
                raise UsageError(f"{label} {path} and {other_label} {other} are the same path")
        seen.append((label, path, identity))
    for label, path in owned:
        _check_owned(label, path, given_inputs)


def _check_owned(label: str, path: str, inputs: list[str]) -> None:
    """A file the run writes or removes in its folder must not be an input, nor be a folder,
    a device or a pipe."""
    folder, name = os.path.split(path)
    try:
        info = os.stat(path) if "*" not in name else None
    except OSError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise UsageError(
            f"{path} is {what}, where this run writes its {name}: move it, or choose another "
            f"{label}"
        )
    identity = _identity(path)
    real_folder = os.path.realpath(folder)
    for source in inputs:
        source_identity = _identity(source)
        if _same(identity, source_identity) or (
            "*" in name
            and os.path.dirname(source_identity[0]) == real_folder
            and fnmatch.fnmatchcase(os.path.basename(source_identity[0]), name)
        ):
            raise UsageError(
                f"input {source} lies in {label} {folder} under a name this run writes or "
                f"removes ({name}): move it, or choose another {label}"
            )
