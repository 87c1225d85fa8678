"""Which language model to load, from where, and a cache of GGUF files converted once.

A model spec is one of: a registry name (the embedded default "smollm2-135m"), a path to a
`.gguf` file, a local folder holding a transformers checkpoint, or a hub name (where a hub is
reachable). GGUF files are dequantized once and cached under `$MTQA_CACHE`, keyed by the file's
SHA-256, so later runs load a plain safetensors checkpoint in seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..core.errors import ModelError
from ..core.files import cache_dir
from ..core.quiet import quiet_third_party
from .checks import check_gguf, check_safetensors, safetensors_problem
from .registry import DEFAULT_MODEL, REGISTRY, embedded_gguf, file_sha256


@dataclass
class LoadedModel:
    """A causal LM ready to score text, with what identifies it in a signature."""

    name: str
    file_hash: str
    model: Any
    tokenizer: Any
    start_token_id: int
    max_context: int
    device: str = "cpu"  # where the model's weights are: inputs go there, outputs come back


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
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{STAGING}{os.getpid()}-"))
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # transformers' "Writing model shards"
            model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
        (staging / "mtqa-source.json").write_text(json.dumps({"gguf": str(gguf)}))
        os.replace(staging, target)
    except BaseException as exc:  # Ctrl-C included; a kill is cleaned at the next start
        shutil.rmtree(staging, ignore_errors=True)
        if not isinstance(exc, OSError) or not target.exists():
            raise


STAGING = ".convert-"  # + the converting process's pid + "-" + a random part
STALE_SECONDS = 24 * 3600  # a staging folder this old is stale whoever made it (pids recur)


def clean_stale_conversions(models: Path, now: float | None = None) -> list[Path]:
    """Remove the staging folders that interrupted conversions left in `models` (a kill, a
    power cut): those whose process is gone, or older than a day. A conversion under way in
    another process keeps its folder. Returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for folder in sorted(models.glob(f"{STAGING}*")) if models.is_dir() else []:
        owner = folder.name[len(STAGING) :].split("-", 1)[0]
        try:
            age = now - folder.lstat().st_mtime
        except OSError:
            continue
        alive = owner.isdigit() and _process_alive(int(owner))
        if age > STALE_SECONDS or (not alive and (owner.isdigit() or age > 3600)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


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
        for file in weights:
            if file.suffix == ".safetensors":
                check_safetensors(file)
        return path.name, path, file_sha256(weights[0])
    if path.exists() or spec.startswith((".", "/", "~")):
        raise ModelError(f"model path not usable: {spec} (expected a folder or a .gguf file)")
    return spec, spec, "hub"


def _cached_conversion(gguf: Path) -> Path:
    """The converted checkpoint of a GGUF, converting it once; a damaged cache entry (a
    truncated weights file) is reported and rebuilt."""
    target = cache_dir() / "models" / file_sha256(gguf)[:16]
    clean_stale_conversions(target.parent)
    if (target / "config.json").exists():
        problems = [
            f"{weights.name} is {problem}"
            for weights in sorted(target.glob("*.safetensors"))
            if (problem := safetensors_problem(weights))
        ]
        if not problems and any(target.glob("*.safetensors")):
            return target
        warnings.warn(
            f"the cached conversion {target} is damaged ({'; '.join(problems) or 'no weights'}):"
            " rebuilding it",
            RuntimeWarning,
            stacklevel=2,
        )
        shutil.rmtree(target, ignore_errors=True)
    check_gguf(gguf)
    _convert_gguf(gguf, target)
    return target


@lru_cache(maxsize=2)
def load_model(
    spec: str = DEFAULT_MODEL,
    threads: int | None = None,
    device: str = "cpu",
    precision: str = "fp32",
) -> LoadedModel:
    """Load (once per process) the causal LM named by `spec`, in fp32 eval mode.

    A converted checkpoint of a plain Llama (the embedded default) is read with torch,
    safetensors and tokenizers alone (`plain_llama_config`): the same numbers as transformers
    without its 3 s of imports and model building. Anything else goes through transformers.
    """
    import torch

    from .device import device_dtype, serial_numpy_blas
    from .llama import PlainTokenizer, load_plain_llama, plain_llama_config

    if threads:
        torch.set_num_threads(threads)
    name, location, file_hash = resolve(spec)
    plain = plain_llama_config(location) if isinstance(location, Path) else None
    tokenizer: Any
    model: Any
    try:
        if plain is not None and isinstance(location, Path):
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            tokenizer = PlainTokenizer(location)
            model = load_plain_llama(location, plain)
        else:
            tokenizer, model = _load_transformers(location)
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: a deep config.json
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load model '{spec}': {first}") from exc
    model.eval()
    serial_numpy_blas()
    if device != "cpu":  # fp32 stays the CPU path; a GPU runs fp32 unless asked otherwise
        model.to(device=device, dtype=device_dtype(device, precision))
    entry = REGISTRY.get(spec)
    start = entry.start_token if entry and entry.start_token else None
    start_id = _start_token_id(tokenizer, start)
    max_context = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
    return LoadedModel(name, file_hash, model, tokenizer, start_id, max_context, device)


def _load_transformers(location: Path | str) -> tuple[Any, Any]:
    """Tokenizer and fp32 model through transformers' Auto classes (any architecture)."""
    quiet_third_party()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(location))
    model = AutoModelForCausalLM.from_pretrained(str(location), dtype=torch.float32)
    return tokenizer, model


def _start_token_id(tokenizer: Any, preferred: str | None) -> int:
    for token in (preferred, tokenizer.bos_token, tokenizer.eos_token):
        if token is not None:
            token_id = tokenizer.convert_tokens_to_ids(token)
            if isinstance(token_id, int) and token_id >= 0:
                return token_id
    raise ModelError("the model's tokenizer has neither a BOS nor an EOS token to start a text")
