"""Reading user files, writing every output atomically, and mtqa's cache folder.

All of mtqa's file writes go through `atomic_stream` (or `atomic_write` on top of it): the
content goes to a temporary file in the same folder, is flushed to disk, and is renamed over
the target only when complete, so an interrupted run never leaves a half-written file. The
new file gets the mode a plain `open()` would give it (0666 minus the umask), or keeps the
mode of the file it replaces.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import InputError, MtqaError
from .outputs import check_file_output

if TYPE_CHECKING:
    import numpy as np


def cache_dir() -> Path:
    """`$MTQA_CACHE`, else `$XDG_CACHE_HOME/mtqa`, else `~/.cache/mtqa`."""
    env = os.environ.get("MTQA_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtqa"


def package_data(*parts: str) -> Path:
    """A file or folder shipped inside the package (configs, the detectors' artefacts), found
    through importlib.resources, so an installed wheel finds it as a checkout does."""
    return Path(str(resources.files("mtqa").joinpath(*parts)))


#: How deep JSON may nest in any file mtqa reads (configs, corpora, MQM rows, caches, its own
#: outputs): far beyond any real one (they nest 2 to 4 deep), and far below Python's recursion
#: limit, so that a hostile file is refused in one line instead of crashing a later step.
MAX_JSON_DEPTH = 64


class JsonDepthError(ValueError):
    """JSON nested deeper than `MAX_JSON_DEPTH` (a ValueError, as a JSON syntax error is)."""


def _too_deep(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` deep (walked level by level, without
    recursion)."""
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(limit):
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            deeper.extend([c for c in children if isinstance(c, (dict, list))])
        if not deeper:
            return False
        level = deeper
    return True


def loads_bounded(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, refusing nesting deeper than `max_depth` with `JsonDepthError`: every
    JSON reader of mtqa goes through it, so deep input is never a RecursionError."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JsonDepthError(f"nested deeper than {max_depth} levels") from None
    opening = (b"[", b"{") if isinstance(data, bytes) else ("[", "{")
    brackets = data.count(opening[0]) + data.count(opening[1])  # type: ignore[arg-type]
    if brackets > max_depth and _too_deep(value, max_depth):  # most JSON has few brackets
        raise JsonDepthError(f"nested deeper than {max_depth} levels")
    return value


def parse_json_object(
    data: bytes | str, where: str, error: type[MtqaError] = InputError
) -> dict[str, Any]:
    """A JSON object from a file or a JSONL line, or one line naming `where` and the problem."""
    try:
        value = loads_bounded(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
    except UnicodeDecodeError:
        raise error(f"{where}: not UTF-8 text") from None
    except JsonDepthError as exc:
        raise error(f"{where}: JSON {exc}") from None
    except json.JSONDecodeError as exc:
        raise error(
            f"{where}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise error(f"{where}: expected a JSON object, found {type(value).__name__}")
    return value


def read_text(path: str) -> str:
    """Read a UTF-8 text file (or stdin for "-"), refusing binary and other encodings clearly."""
    if path == "-":
        data = sys.stdin.buffer.read()
        name = "standard input"
    else:
        file = Path(path)
        if not file.exists():
            raise InputError(f"file not found: {path}")
        if file.is_dir():
            raise InputError(f"{path} is a folder, not a text file")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from exc
        name = path
    return decode_text(data, name)


#: Byte-order marks and their encodings (UTF-32 first: its LE mark starts like UTF-16's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _looks_utf16(sample: bytes) -> str | None:
    """'LE'/'BE' when NUL bytes sit in every other position, as in UTF-16 English text."""
    if len(sample) < 4:
        return None
    half = len(sample) // 2
    if sample[1::2].count(0) > 0.6 * half and sample[0::2].count(0) < 0.1 * half:
        return "LE"
    if sample[0::2].count(0) > 0.6 * half and sample[1::2].count(0) < 0.1 * half:
        return "BE"
    return None


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text file -> text with newlines normalised: UTF-8 (with or without a BOM),
    or UTF-16/32 when a byte-order mark says so; anything else is refused in one line."""
    bom, encoding = next(((b, e) for b, e in _BOMS if data.startswith(b)), (b"", "utf-8-sig"))
    if not bom and b"\x00" in data[:65536]:
        order = _looks_utf16(data[:4096])
        if order:
            raise InputError(
                f"{name} looks like UTF-16 {order} text without a byte-order mark: convert it "
                f"with `iconv -f UTF-16{order} -t UTF-8`"
            )
        raise InputError(f"{name} looks binary (it contains NUL bytes), not text")
    try:
        text = data[len(bom) :].decode(encoding)
    except UnicodeDecodeError as exc:
        if bom:
            raise InputError(
                f"{name} starts with a {encoding.upper()} byte-order mark but is not valid "
                f"{encoding.upper()} (bad bytes at offset {exc.start + len(bom)})"
            ) from None
        raise InputError(
            f"{name} is not UTF-8 text (bad byte at offset {exc.start}); "
            "convert it with e.g. `iconv -t utf-8`"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _new_file_mode(target: Path) -> int:
    """The mode the target keeps (when it exists) or would get from `open()` under the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_stream(path: str | os.PathLike[str], binary: bool = False) -> Iterator[IO[Any]]:
    """A file handle whose content replaces `path` atomically when the block ends cleanly.

    On an exception nothing is replaced and the temporary file is removed.
    """
    target = Path(os.path.realpath(path))  # a symlink is written through to its target
    if target.exists():
        check_file_output("output", os.fspath(path))  # only a regular file is replaced
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    mode = _new_file_mode(target)
    try:
        handle: IO[Any]
        if binary:
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def atomic_write(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write text (as UTF-8) or bytes (a cache file: `array_bytes`) via `atomic_stream`."""
    with atomic_stream(path, binary=isinstance(content, bytes)) as handle:
        handle.write(content)


def array_bytes(array: np.ndarray) -> bytes:
    """An array in `.npy` format, for `atomic_write`."""
    from io import BytesIO

    import numpy

    buffer = BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


#: What an OSError means, in the words of the one line the user sees.
_OS_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EISDIR: "is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "input/output error",
    errno.EFBIG: "file too large",
}


def describe_os_error(exc: OSError) -> str:
    """One line for an OSError: the path (standard output when none) and the reason."""
    reason = _OS_REASONS.get(exc.errno or -1) or (exc.strerror or str(exc)).lower()
    where = exc.filename if exc.filename is not None else "standard output"
    return f"{where}: {reason}"
