"""Train the word-level span detector (`mtqa/scoring/data/detector.npz`) on MQM train spans.

Every train row is read in its document's context (as `mtqa score` reads it); each word gets
`word_features.with_neighbours(...)` and its hidden state; a word is labelled by overlap with
the annotated Major/Minor spans. Two heads of scikit-learn HistGradientBoosting (P(any error),
P(Major)) over the features plus a 32-d PCA of the hidden states are exported to plain arrays
(no pickle). The shipped artefact came from `--groups 230` (the first 230 of 685 shuffled
(system, document) groups: 2,665 rows, 87k words; the LM pass bounds it on 2 CPU cores) with
thresholds 0.20 / 0.10 chosen on dev (`benchmarks/spans.py` measures them).
Run: `.venv/bin/python benchmarks/train_detector.py [--groups 230] [--out PATH]`.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import MQM

from mtqa.calibration.mqm import load_rows, mqm_documents
from mtqa.scoring import Scorer, join_segments
from mtqa.scoring.detector import DEFAULT_PATH, DETECTOR_ALPHA, HEADS, Trees
from mtqa.scoring.signals import words_of
from mtqa.scoring.word_features import feature_names, with_neighbours, word_features, word_hidden


def labelled_words(scorer: Scorer, group: list[dict[str, Any]]) -> list[tuple[np.ndarray, ...]]:
    """(features, hidden, any-labels, major-labels) of every row of one document."""
    targets = [str(r["target"]).replace("\n", " ") for r in group]
    segments = join_segments(targets)
    text = "\n".join(targets)
    if not text.strip():
        return []
    tokens, _ = scorer.analyse(text, segments, keep_hidden=True)
    out = []
    for row, seg, words in zip(
        group, segments, words_of(text, tokens, segments, DETECTOR_ALPHA), strict=True
    ):
        spans = [s for s in row.get("spans") or [] if s["severity"] in ("Major", "Minor")]
        y_any, y_major = np.zeros(len(words), np.int8), np.zeros(len(words), np.int8)
        for i, w in enumerate(words):
            start, end = w.start - seg.start, w.end - seg.start
            for s in spans:
                if s["start"] < end and start < s["end"]:
                    y_any[i] = 1
                    y_major[i] |= s["severity"] == "Major"
        feats = with_neighbours(
            word_features(text, tokens, words, seg.start, seg.end, row.get("source"))
        )
        out.append((feats, word_hidden(tokens, words), y_any, y_major))
    return out


def export(clf: Any) -> dict[str, np.ndarray]:
    """A fitted binary HistGradientBoostingClassifier as padded node arrays (`Trees`)."""
    predictors = [p[0] for p in clf._predictors]
    size, count = max(len(p.nodes) for p in predictors), len(predictors)
    arrays = {
        "feature": np.zeros((count, size), np.int32),
        "threshold": np.zeros((count, size), np.float64),
        "left": np.zeros((count, size), np.int32),
        "right": np.zeros((count, size), np.int32),
        "leaf": np.ones((count, size), bool),
        "value": np.zeros((count, size), np.float64),
    }
    depth = 0
    for i, predictor in enumerate(predictors):
        nodes = predictor.nodes
        n = len(nodes)
        arrays["feature"][i, :n] = nodes["feature_idx"]
        arrays["threshold"][i, :n] = nodes["num_threshold"]
        arrays["left"][i, :n] = nodes["left"]
        arrays["right"][i, :n] = nodes["right"]
        arrays["leaf"][i, :n] = nodes["is_leaf"].astype(bool)
        arrays["value"][i, :n] = nodes["value"]
        depth = max(depth, int(nodes["depth"].max()))
    arrays["baseline"] = np.array([float(np.ravel(clf._baseline_prediction)[0])])
    arrays["depth"] = np.array([depth])
    return arrays


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=230, help="shuffled train documents to read")
    parser.add_argument("--pca", type=int, default=32)
    parser.add_argument("--trees", type=int, default=120)
    parser.add_argument("--any-threshold", type=float, default=0.20)
    parser.add_argument("--major-threshold", type=float, default=0.10)
    parser.add_argument("--out", default=str(DEFAULT_PATH), help="artefact path without suffix")
    args = parser.parse_args()
    start = time.perf_counter()
    groups = list(mqm_documents(load_rows(MQM / "train.jsonl")))
    random.Random(13).shuffle(groups)
    scorer = Scorer.load()
    parts = [part for group in groups[: args.groups] for part in labelled_words(scorer, group)]
    x = np.concatenate([p[0] for p in parts]).astype(np.float64)
    hidden = np.concatenate([p[1] for p in parts]).astype(np.float64)
    mean = hidden.mean(0)
    rng = np.random.default_rng(13)
    sample = hidden[rng.choice(len(hidden), min(len(hidden), 50_000), replace=False)] - mean
    components = np.linalg.svd(sample, full_matrices=False)[2][: args.pca]
    design = np.hstack([x, (hidden - mean) @ components.T])
    flat: dict[str, np.ndarray] = {"pca_mean": mean, "pca_components": components}
    for head, labels in zip(HEADS, (2, 3), strict=True):
        y = np.concatenate([p[labels] for p in parts])
        clf = HistGradientBoostingClassifier(
            max_iter=args.trees,
            learning_rate=0.15,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            max_depth=8,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=13,
        )
        clf.fit(design, y)
        arrays = export(clf)
        trees = Trees(
            *(arrays[k] for k in ("feature", "threshold", "left", "right", "leaf", "value")),
            float(arrays["baseline"][0]),
            int(arrays["depth"][0]),
        )
        check = np.abs(
            1 / (1 + np.exp(-trees.raw(design[:2000]))) - clf.predict_proba(design[:2000])[:, 1]
        )
        print(
            f"{head}: {len(y):,} words, {y.mean():.1%} positive, export max |dp| {check.max():.1e}"
        )
        flat |= {f"{head}.{k}": v for k, v in arrays.items()}
    out = Path(args.out)
    np.savez_compressed(out.with_suffix(".npz"), **flat)
    meta = {
        "features": feature_names(),
        "pca": args.pca,
        "train_rows": sum(len(g) for g in groups[: args.groups]),
        "train_words": int(len(design)),
        "thresholds": {"any": args.any_threshold, "major": args.major_threshold},
        "model": "2 x sklearn HistGradientBoosting exported to arrays",
        "iters": args.trees,
        "lm": f"{scorer.lm.name}, document context, window {scorer.config.window}",
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    print(f"wrote {out}.npz/.json in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
