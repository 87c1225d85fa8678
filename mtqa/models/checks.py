"""Model files are checked before they are used: a file that is not what its name says, or
was cut short by a failed download or a full disk, gets one clear line instead of a
traceback from deep inside a loader."""

from __future__ import annotations

import struct
from pathlib import Path

from ..core.errors import ModelError
from ..core.files import loads_bounded

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path) -> None:
    """A GGUF file starts with 'GGUF' and holds every tensor its header lists."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF')")
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(path))
        size = path.stat().st_size
        for tensor in reader.tensors:
            if int(tensor.data_offset) + int(tensor.n_bytes) > size:
                raise ValueError("a tensor ends past the end of the file")
    except Exception as exc:  # the reader raises many kinds on a damaged file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{path} is truncated or damaged, not a readable GGUF file ({reason})"
        ) from None


def safetensors_problem(path: Path) -> str | None:
    """Why a `.safetensors` file cannot be loaded (truncated, not safetensors), or None."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                return "shorter than a safetensors header"
            (length,) = struct.unpack("<Q", head)
            if length > size - 8 or length > 100_000_000:
                return "not a safetensors file (bad header length)"
            header = loads_bounded(handle.read(length))
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    except ValueError:
        return "not a safetensors file (its header is not JSON)"
    if not isinstance(header, dict):
        return "not a safetensors file"
    ends = [
        int(entry["data_offsets"][1])
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry
    ]
    expected = 8 + length + max(ends, default=0)
    if size < expected:
        return f"truncated ({size:,} of {expected:,} bytes)"
    return None


def check_safetensors(path: Path) -> None:
    problem = safetensors_problem(path)
    if problem:
        raise ModelError(f"model file {path} is {problem}")
