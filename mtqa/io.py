"""Reading user files and writing outputs safely."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    import numpy as np


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
    if b"\x00" in data[:65536]:
        raise InputError(f"{name} looks binary (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text (bad byte at offset {exc.start}); "
            "convert it with e.g. `iconv -t utf-8`"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def atomic_write(path: str | Path, content: str | bytes) -> None:
    """Write via a temp file in the same folder and rename: never a half-written output.

    `content`: text (written as UTF-8) or bytes (a cache file: `array_bytes`, a pickle)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if isinstance(content, bytes):
            with os.fdopen(fd, "wb") as binary:
                binary.write(content)
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def array_bytes(array: np.ndarray) -> bytes:
    """An array in `.npy` format, for `atomic_write`."""
    from io import BytesIO

    import numpy

    buffer = BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()
