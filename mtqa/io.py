"""Reading user files and writing outputs safely."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .errors import InputError


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


def atomic_write(path: str | Path, content: str) -> None:
    """Write via a temp file in the same folder and rename: never a half-written output."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
