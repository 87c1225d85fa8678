"""Does a second language model raise target-only sentence AUROC? SmolLM2 + Gemma 3 270M.

Gemma 3 270M (the registry's other English-capable LM) reads every MQM dev row and a 30% share of
train documents in document context; its sentence features (`scoring.FEATURES`, as `gemma_*`)
join SmolLM2's in the same logistic combiner as `mtqa calibrate` fits (has a Major error),
fitted on the same train rows with and without them, measured on all dev rows.
Gemma's features are cached under $MTQA_CACHE/evidence/gemma-<split>-<share>.pkl (about 20 min
each on 2 cores). Needs the Gemma part wheels (`models.registry`: `gemma3-270m`).
Writes benchmarks/results/gemma-ensemble.json.
Run: `.venv/bin/python benchmarks/gemma_ensemble.py [--train-share 0.3]`.
"""

from __future__ import annotations

import argparse
import pickle
import time
from typing import Any

import numpy as np
from common import MQM, write_result

from mtqa.calibration.agreement import segment_metrics
from mtqa.calibration.evidence import Evidence, cached_extract
from mtqa.calibration.fit import DEFAULT_FEATURES, apply_fit, fit_logistic, predict
from mtqa.calibration.mqm import load_rows, mqm_documents, sample_documents
from mtqa.core.files import atomic_write, cache_dir
from mtqa.scoring import FEATURES, LN2, Scorer, join_segments, segment_tokens, sentence_features

GEMMA = tuple(f"gemma_{name}" for name in FEATURES)


def gemma_features(split: str, share: float) -> dict[str, dict[str, float]]:
    """Row id -> Gemma's sentence features, read in document context (cached)."""
    path = cache_dir() / "evidence" / f"gemma-{split}-{share}.pkl"
    if path.exists():
        with path.open("rb") as handle:
            cached: dict[str, dict[str, float]] = pickle.load(handle)
        return cached
    rows = sample_documents(load_rows(MQM / f"{split}.jsonl"), share)
    scorer = Scorer.load("gemma3-270m")
    out: dict[str, dict[str, float]] = {}
    for doc_rows in mqm_documents(rows):
        targets = [str(r["target"]).replace("\n", " ") for r in doc_rows]
        segments = join_segments(targets)
        text = "\n".join(targets)
        if not text.strip():
            continue
        tokens, words = scorer.analyse(text, segments)
        bits = -tokens.logprob / LN2
        for row, seg, seg_words in zip(doc_rows, segments, words, strict=True):
            out[str(row["id"])] = sentence_features(seg_words, bits[segment_tokens(tokens, seg)])
    atomic_write(path, pickle.dumps(out))
    return out


def with_gemma(evidence: list[Evidence], gemma: dict[str, dict[str, float]]) -> list[Evidence]:
    kept = []
    for e in evidence:
        if e.row_id in gemma:
            e.extra = {f"gemma_{k}": v for k, v in gemma[e.row_id].items()}
            kept.append(e)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-share", type=float, default=0.3)
    args = parser.parse_args()
    start = time.perf_counter()
    g_train, g_dev = gemma_features("train", args.train_share), gemma_features("dev", 1.0)
    scorer = Scorer.load()
    train = cached_extract(scorer, MQM / "train.jsonl")
    dev = cached_extract(scorer, MQM / "dev.jsonl")
    train_rows, dev_rows = with_gemma(train, g_train), with_gemma(dev, g_dev)
    results: dict[str, Any] = {
        "train_rows": len(train_rows),
        "dev_rows": len(dev_rows),
        "train_share": args.train_share,
    }
    combos = {
        "smollm2 (default features), all train": (train, DEFAULT_FEATURES),
        "smollm2 (default features)": (train_rows, DEFAULT_FEATURES),
        "smollm2 (sentence features)": (train_rows, FEATURES),
        "gemma (sentence features)": (train_rows, GEMMA),
        "smollm2 + gemma (sentence features)": (train_rows, FEATURES + GEMMA),
        "smollm2 (default features) + gemma": (train_rows, DEFAULT_FEATURES + GEMMA),
    }
    for name, (rows, names) in combos.items():
        fit = fit_logistic(rows, scorer.config, names)
        logits = predict(fit, dev_rows, apply_fit(scorer.config, fit))
        m = segment_metrics(
            list(-np.asarray(logits)),
            [e.mqm for e in dev_rows],
            [e.major for e in dev_rows],
            [e.item for e in dev_rows],
        )
        results[name] = {k: round(float(v), 4) for k, v in m.items()}
        print(
            f"{name:42} AUROC {m['auroc_major']:.4f}  tau {m['kendall']:.4f}"
            f"  item tau {m['item_kendall']:.4f}",
            flush=True,
        )
    results["seconds"] = round(time.perf_counter() - start, 1)
    print(f"wrote {write_result('gemma-ensemble', results)}")


if __name__ == "__main__":
    main()
