"""EmbeddingGemma-300M word support (`embeddinggemma_model.py`) against MQM error spans.

On the first `--rows` rows of MQM dev (zh→en), each target word (regex below) is labelled 1
when it overlaps a gold Major or Minor span. For each candidate hidden layer and each of
SUPPORT_FEATURES, prints the word-level AUROC of −feature (low support read as an error), plus
load time and sentence-pairs per second, to pick the module's DEFAULT_LAYER (800 rows: layers
12-18 within 0.003 of each other on max_cos; 16 best, and best on the pair-level feature).

Run: `.venv/bin/python benchmarks/embeddinggemma.py [--rows 300] [--speed-rows 60]`.
Writes benchmarks/results/embeddinggemma.json.
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

import numpy as np
from common import MQM, read_jsonl, write_result
from embeddinggemma_model import (
    DEFAULT_LAYER,
    SUPPORT_FEATURES,
    load_embeddinggemma,
    word_support_batch,
    word_support_layers,
)
from sklearn.metrics import roc_auc_score

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
ERROR_SEVERITIES = {"major", "minor"}
LAYERS = (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24)
#: English function words: they have no counterpart in Chinese (articles) so get low support,
#: yet are rarely in error spans; AUROC is also given without them.
FUNCTION_WORDS = set(
    "a an the of to in on at by for from with as and or but if so than that this these those "
    "is are was were be been being has have had do does did it its he she they we you i his "
    "her their our your my not no will would can could should may might must there here which "
    "who whom whose what when where how also into about over after before".split()
)


def words_and_labels(row: dict[str, Any]) -> tuple[list[tuple[int, int]], list[int]]:
    """Word offsets in the target and 1 for each word overlapping a Major/Minor span."""
    spans = [
        (s["start"], s["end"])
        for s in row.get("spans") or []
        if str(s.get("severity", "")).lower() in ERROR_SEVERITIES
    ]
    words = [m.span() for m in WORD.finditer(row["target"])]
    labels = [int(any(a < e and b > s for s, e in spans)) for a, b in words]
    return words, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--speed-rows", type=int, default=40)
    parser.add_argument(
        "--detector",
        action="store_true",
        help="only the detector check: does the support add to the span detector? (slow)",
    )
    args = parser.parse_args()
    if args.detector:
        detector_check()
        return

    rows = read_jsonl(MQM / "dev.jsonl", limit=args.rows)
    pairs = [(r["source"], r["target"]) for r in rows]
    words_list, labels, content = [], [], []
    for row in rows:
        words, row_labels = words_and_labels(row)
        words_list.append(words)
        labels.extend(row_labels)
        content.extend(row["target"][a:b].lower() not in FUNCTION_WORDS for a, b in words)
    y, keep = np.array(labels), np.array(content)

    start = time.perf_counter()
    load_embeddinggemma()
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    by_layer = word_support_layers(pairs, words_list, LAYERS)
    all_layers_s = time.perf_counter() - start

    # Speed on pairs that share nothing (MQM repeats each source for every system, and each
    # distinct text is encoded once, which would flatter pairs/s).
    first = list({src: n for n, (src, _) in reversed(list(enumerate(pairs)))}.values())
    speed_rows = sorted(first)[: args.speed_rows]
    n_speed = len(speed_rows)
    start = time.perf_counter()
    word_support_batch([pairs[n] for n in speed_rows], [words_list[n] for n in speed_rows])
    speed_s = time.perf_counter() - start
    n_texts = len({t for pair in pairs for t in pair})

    table: dict[str, dict[str, float]] = {}
    content_table: dict[str, dict[str, float]] = {}
    print(f"{len(rows)} rows, {len(y)} words, {y.mean():.3f} in an error span")
    print("layer  " + "  ".join(f"{name:>12}" for name in SUPPORT_FEATURES))
    for layer in LAYERS:
        x = np.concatenate(by_layer[layer])
        table[str(layer)] = {
            name: round(float(roc_auc_score(y, -x[:, j])), 4)
            for j, name in enumerate(SUPPORT_FEATURES)
        }
        content_table[str(layer)] = {
            name: round(float(roc_auc_score(y[keep], -x[keep, j])), 4)
            for j, name in enumerate(SUPPORT_FEATURES)
        }
        print(f"{layer:>5}  " + "  ".join(f"{v:>12.4f}" for v in table[str(layer)].values()))
    print(f"content words only ({keep.sum()} words, {y[keep].mean():.3f} in an error span)")
    for layer in LAYERS:
        values = content_table[str(layer)].values()
        print(f"{layer:>5}  " + "  ".join(f"{v:>12.4f}" for v in values))
    # A learned detector can use a feature either way round: rank layers by the mean distance
    # of the word-level features' AUROC from 0.5 (the pair-level one is the same for a row).
    word_level = [name for name in SUPPORT_FEATURES if not name.startswith("pair_")]
    signal = {
        layer: round(float(np.mean([abs(t[name] - 0.5) for name in word_level])), 4)
        for layer, t in table.items()
    }
    best_signal = max(signal, key=lambda layer: signal[layer])
    best = max(table, key=lambda layer: table[layer]["max_cos"])  # the headline feature
    print("mean |AUROC - 0.5| of word-level features: " + str(signal))
    print(f"best layer by max_cos {best}, by mean |AUROC - 0.5| {best_signal}")
    print(f"module default {DEFAULT_LAYER}")
    print(f"load {load_s:.1f} s; {n_speed / speed_s:.1f} pairs/s at one layer (batch 16, no text")
    print(f"shared); all layers: {n_texts / all_layers_s:.1f} distinct texts/s")

    result = {
        "rows": len(rows),
        "words": int(len(y)),
        "error_rate": round(float(y.mean()), 4),
        "label": "word overlaps a Major or Minor span; AUROC of -feature",
        "auroc": table,
        "content_words": int(keep.sum()),
        "auroc_content_words": content_table,
        "signal_by_layer": signal,
        "best_layer_max_cos": int(best),
        "best_layer_signal": int(best_signal),
        "default_layer": DEFAULT_LAYER,
        "load_s": round(load_s, 2),
        "pairs_per_s": round(n_speed / speed_s, 2),
        "speed_pairs": n_speed,
        "all_layers_texts_per_s": round(n_texts / all_layers_s, 2),
    }
    write_result("embeddinggemma", result)


def detector_check(layers: tuple[int, ...] = (12, DEFAULT_LAYER)) -> None:
    """Does word support add to what the span detector knows? On every MQM dev row with a
    source (the detector's own words), a second stage of trees over the detector's word
    probabilities and word class, with and without the support features (and the neighbours'
    max_cos), 5-fold cross-validated by document; the same Major-F1 threshold choice as
    `train_detector.py`. Merged into embeddinggemma.json under "detector_check"."""
    from peer_detector import best, fit, spans_of
    from spans import evaluate

    from mtqa.calibration.evidence import cached_extract, document_folds
    from mtqa.scoring import Scorer
    from mtqa.scoring.peer_support import PEER_WORD_FEATURES, peer_word_features

    start = time.perf_counter()
    rows = [
        e
        for e in cached_extract(Scorer.load(), MQM / "dev.jsonl")
        if e.detector_words and e.source and e.p_any is not None
    ]
    words = [[(w.start, w.end) for w in e.detector_words] for e in rows]
    support = word_support_layers([(str(e.source), e.target) for e in rows], words, layers)
    seconds = time.perf_counter() - start
    own = [n for n in PEER_WORD_FEATURES if "support" not in n and n != "log_peers"]
    columns = [PEER_WORD_FEATURES.index(n) for n in own]
    base = np.concatenate(
        [
            peer_word_features(e.target, w, e.p_any, e.p_major, [])[:, columns]
            for e, w in zip(rows, words, strict=True)
            if e.p_major is not None
        ]
    )
    labels = [e.word_labels() for e in rows]
    y_any = np.concatenate([y[0] for y in labels])
    y_major = np.concatenate([y[1] for y in labels])
    folds = document_folds(rows, 5, 13)
    word_fold = np.concatenate([[f] * len(w) for f, w in zip(folds, words, strict=True)])
    designs = {"detector only": base}
    for layer in layers:
        extra = []
        for x in support[layer]:
            before, after = np.zeros(len(x)), np.zeros(len(x))
            before[1:], after[:-1] = x[:-1, 0], x[1:, 0]
            extra.append(np.column_stack([x, before, after, x[:, 0] - x[:, 0].mean()]))
        designs[f"detector + support (layer {layer})"] = np.hstack([base, np.concatenate(extra)])
    out: dict[str, Any] = {"rows": len(rows), "words": int(len(base)), "support_s": seconds}
    for name, x in designs.items():
        p_any, p_major = np.zeros(len(x)), np.zeros(len(x))
        for k in range(5):
            train = word_fold != k
            p_any[~train] = fit(x[train], y_any[train]).predict_proba(x[~train])[:, 1]
            p_major[~train] = fit(x[train], y_major[train]).predict_proba(x[~train])[:, 1]
        probs, at = [], 0
        for w in words:
            probs.append((p_any[at : at + len(w)], p_major[at : at + len(w)]))
            at += len(w)
        paired = [(e, []) for e in rows]
        thresholds, _ = best(paired, probs)
        figures = evaluate(rows, spans_of(paired, probs, thresholds))
        out[name] = {
            "word_auroc_any": round(float(roc_auc_score(y_any, p_any)), 4),
            "word_auroc_major": round(float(roc_auc_score(y_major, p_major)), 4),
            "thresholds": thresholds,
            **figures,
        }
        print(name, out[name], flush=True)
    write_result("embeddinggemma", out, section="detector_check")


if __name__ == "__main__":
    main()
