"""Source-aware signals against human MQM judgements (zh→en), measured on TRAIN only.

Part 1 (cheap, every train row): each `src_` feature of `mtqa.source` alone, read as a risk
(higher = worse): AUROC for "has a Major error", Kendall tau and item-grouped tau against MQM
(item = one source segment, across systems), how often it fires and the Major rate when it
does. Then a 5-fold cross-validated logistic regression (folds split by source document) of
length alone vs length + the `src_` features, to show what they add to a combiner.

Part 2 (`--rows N`, slow; 0 skips it): the optional Qwen adequacy model (`mtqa.source.adequacy`)
on N rows of `--split` (default dev; whole items: every system's translation of a few source
segments), against the length baseline on the same rows, with seconds per row, an item-bootstrap
interval for AUROC, and the precision of mistranslation spans at several thresholds.

Run: `.venv/bin/python benchmarks/source.py [--rows 100] [--split dev] [--per-item 3]
[--threads 1] [--skip-train] [--model qwen2.5-1.5b]`.
Writes benchmarks/results/source.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from typing import Any

import numpy as np
from common import MQM, peak_rss_mb, write_result

from mtqa.calibration.agreement import auroc, item_grouped_kendall, kendall
from mtqa.calibration.mqm import load_rows
from mtqa.source.features import SOURCE_FEATURES, mqm_source_features


def _item(row: dict[str, Any]) -> str:
    return f"{row.get('year')}|{row.get('doc')}|{row.get('doc_seg_id')}"


def _major(row: dict[str, Any]) -> bool:
    return any(s["severity"] == "Major" for s in row.get("spans") or [])


def _words(row: dict[str, Any]) -> float:
    return float(len(str(row["target"]).split()))


def risk_metrics(risk: np.ndarray, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Agreement of a risk signal (higher = worse) with MQM, on the given rows."""
    quality = (-np.asarray(risk, dtype=float)).tolist()
    mqm = [float(r["mqm"]) for r in rows]
    major = [_major(r) for r in rows]
    return {
        "auroc_major": round(auroc(quality, major), 4),
        "kendall": round(kendall(quality, mqm), 4),
        "item_kendall": round(item_grouped_kendall(quality, mqm, [_item(r) for r in rows]), 4),
    }


def univariate(x: np.ndarray, rows: list[dict[str, Any]]) -> dict[str, Any]:
    major = np.array([_major(r) for r in rows])
    out: dict[str, Any] = {
        "rows": len(rows),
        "major_share": round(float(major.mean()), 4),
        "baseline_length_words": risk_metrics(np.array([_words(r) for r in rows]), rows),
        "features": {},
    }
    columns = {name: x[:, k] for k, name in enumerate(SOURCE_FEATURES)}
    columns["|src_length_z| (derived)"] = np.abs(columns["src_length_z"])
    # A cosine is a quality: as a risk, read it negated.
    columns["-src_cosine (derived)"] = -columns["src_cosine"]
    for name, values in columns.items():
        entry: dict[str, Any] = risk_metrics(values, rows)
        fires = values > 0
        entry["share_nonzero"] = round(float(fires.mean()), 4)
        if fires.any() and not fires.all():
            entry["major_rate_when_nonzero"] = round(float(major[fires].mean()), 4)
        out["features"][name] = entry
    return out


def cross_validated(x: np.ndarray, rows: list[dict[str, Any]], seed: int = 13) -> dict[str, Any]:
    """5-fold (by source document) logistic regression: length alone vs length + src_."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    docs = sorted({str(r["doc"]) for r in rows})
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(docs, rng.permutation(len(docs)) % 5, strict=True))
    folds = np.array([fold_of[str(r["doc"])] for r in rows])
    y = np.array([_major(r) for r in rows], dtype=int)
    length = np.array([[_words(r), math.log1p(_words(r))] for r in rows])
    designs = {
        "length": length,
        "length+src": np.hstack([length, x]),
        "src": x,
    }
    out = {}
    for name, design in designs.items():
        risk = np.zeros(len(rows))
        for k in range(5):
            train, test = folds != k, folds == k
            scaler = StandardScaler().fit(design[train])
            model = LogisticRegression(C=1.0, max_iter=5000, random_state=seed)
            model.fit(scaler.transform(design[train]), y[train])
            risk[test] = model.decision_function(scaler.transform(design[test]))
        out[name] = risk_metrics(risk, rows)
    return out


# --------------------------------------------------------------------------------------------
# Part 2: Qwen adequacy on a few dev items
# --------------------------------------------------------------------------------------------


def pick_items(rows: list[dict[str, Any]], n_rows: int, per_item: int = 0) -> list[dict[str, Any]]:
    """Items (translations of one source segment) in a fixed hashed order until about n_rows
    rows: every system's translation of each, or `per_item` systems of each (more items, a
    steadier AUROC). 2021 sentence-level items only (2023 items are paragraphs)."""

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    by_item: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("year") == 2021:
            by_item.setdefault(_item(row), []).append(row)
    picked: list[dict[str, Any]] = []
    for key in sorted(by_item, key=digest):
        if len(picked) >= n_rows:
            break
        members = sorted(by_item[key], key=lambda r: digest(str(r["system"])))
        picked += members[:per_item] if per_item else members
    return picked


def item_bootstrap(
    risks: dict[str, np.ndarray], rows: list[dict[str, Any]], n: int = 1000, seed: int = 13
) -> dict[str, list[float]]:
    """90% interval of each signal's AUROC, resampling whole items (rows of one item move
    together: with a handful of items, the item mix dominates the uncertainty)."""
    from sklearn.metrics import roc_auc_score

    items = sorted({_item(r) for r in rows})
    members = {k: [i for i, r in enumerate(rows) if _item(r) == k] for k in items}
    major = np.array([_major(r) for r in rows])
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in risks}
    for _ in range(n):
        idx = np.concatenate([members[items[k]] for k in rng.integers(0, len(items), len(items))])
        if len(set(major[idx])) < 2:
            continue
        for name, risk in risks.items():
            draws[name].append(float(roc_auc_score(major[idx], risk[idx])))
    return {
        name: [round(float(np.percentile(v, 5)), 4), round(float(np.percentile(v, 95)), 4)]
        for name, v in draws.items()
    }


def span_table(candidates: list[dict[str, float]], chance: float) -> list[dict[str, Any]]:
    """Share of candidate mistranslation spans overlapping a gold span, by threshold."""
    out = []
    for max_prob in (0.02, 0.005, 0.002):
        for min_ratio in (20.0, 100.0):
            kept = [
                c
                for c in candidates
                if c["p"] < max_prob and c["alt_p"] / max(c["p"], 1e-12) >= min_ratio
            ]
            hits = sum(c["hit"] for c in kept)
            out.append(
                {
                    "max_prob": max_prob,
                    "min_ratio": min_ratio,
                    "spans": len(kept),
                    "precision_vs_gold": round(hits / len(kept), 4) if kept else None,
                    "chance": round(chance, 4),
                }
            )
    return out


def adequacy_part(
    rows: list[dict[str, Any]], threads: int, model: str | None = None
) -> dict[str, Any]:
    import torch

    from mtqa.source.adequacy import (
        _WORD_RE,
        ADEQUACY_FEATURES,
        ADEQUACY_MODEL,
        PRIOR_INSTRUCTION,
        _score_answer,
        adequacy_features,
        adequacy_spans,
        load_adequacy_model,
        score_pair,
    )

    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = model or ADEQUACY_MODEL
    lm = load_adequacy_model(model)
    load_s = time.perf_counter() - start
    cache: dict[int, str] = {}

    def decode(token_id: int) -> str:
        if token_id not in cache:
            cache[token_id] = lm.tokenizer.decode([token_id])
        return cache[token_id]

    feats: list[dict[str, float]] = []
    candidates: list[dict[str, float]] = []
    words = word_hits = 0
    seconds = prior_seconds = 0.0
    for row in rows:
        target = str(row["target"]).replace("\n", " ")
        start = time.perf_counter()
        scores = score_pair(lm, str(row["source"]), target, "zh")  # forward + reverse
        seconds += time.perf_counter() - start
        start = time.perf_counter()
        scores.prior_logprob = _score_answer(lm, PRIOR_INSTRUCTION, target, 1)[0].logprob
        prior_seconds += time.perf_counter() - start
        feats.append(adequacy_features(scores))
        gold = [(s["start"], s["end"]) for s in row.get("spans") or []]

        def hit(a: int, b: int, gold: list[tuple[int, int]] = gold) -> bool:
            return any(s < b and a < e for s, e in gold)

        for m in _WORD_RE.finditer(target):
            words += 1
            word_hits += hit(m.start(), m.end())
        # Permissive thresholds: every candidate, to read precision at several cut-offs.
        tok = scores.target
        for span in adequacy_spans(target, tok, decode, 0, 100, 0.1, 2.0):
            k = int(np.where((tok.ends > span.start) & (tok.starts < span.end))[0][0])
            alt_lp = max(
                float(v)
                for t, v in zip(tok.top_ids[k], tok.top_logprob[k], strict=True)
                if int(t) != int(tok.ids[k])
            )
            candidates.append(
                {
                    "p": math.exp(float(tok.logprob[k])),
                    "alt_p": math.exp(alt_lp),
                    "hit": hit(span.start, span.end),
                }
            )
    major = [_major(r) for r in rows]
    out: dict[str, Any] = {
        "model": model,
        "file_hash": lm.file_hash,
        "rows": len(rows),
        "items": len({_item(r) for r in rows}),
        "major_share": round(float(np.mean(major)), 4),
        "threads": threads,
        "load_seconds": round(load_s, 1),
        "seconds_per_row": round(seconds / max(1, len(rows)), 3),
        "prior_seconds_per_row": round(prior_seconds / max(1, len(rows)), 3),
        "passes": "seconds_per_row: forward (target | source) + reverse (source | target); "
        "the prior pass (target alone, for adq_pmi_*) is timed apart",
        "peak_rss_mb": round(peak_rss_mb()),
        "baseline_length_words": risk_metrics(np.array([_words(r) for r in rows]), rows),
        "features": {},
        "spans_by_threshold": span_table(candidates, word_hits / max(1, words)),
    }
    risks: dict[str, np.ndarray] = {"length_words": np.array([_words(r) for r in rows])}
    for name in ADEQUACY_FEATURES:
        values = np.array([f[name] for f in feats])
        # Log-probabilities are qualities: higher = better, so the risk is their negation
        # (adq_fwd_low counts low tokens: already a risk).
        risks[name] = values if name == "adq_fwd_low" else -values
        out["features"][name] = risk_metrics(risks[name], rows)
    src = mqm_source_features(rows)
    risks["-src_cosine"] = -src[:, SOURCE_FEATURES.index("src_cosine")]
    out["src_cosine_same_rows"] = risk_metrics(risks["-src_cosine"], rows)
    out["auroc_90ci_item_bootstrap"] = item_bootstrap(
        {k: risks[k] for k in ("length_words", "adq_fwd_sum", "adq_fwd_mean", "adq_rev_mean")},
        rows,
    )
    out["per_row"] = [
        {"id": r["id"], "major": m, "mqm": r["mqm"], **{k: round(v, 4) for k, v in f.items()}}
        for r, m, f in zip(rows, major, feats, strict=True)
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=0, help="rows for the Qwen part (0: skip)")
    parser.add_argument("--split", default="dev", help="MQM split for the Qwen part")
    parser.add_argument("--per-item", type=int, default=0, help="systems per item (0: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-train", action="store_true", help="only the Qwen part")
    parser.add_argument(
        "--model",
        default=None,
        help="the reader for the Qwen part (default qwen2.5-0.5b; "
        "qwen2.5-1.5b: the 1.5B parts, issue 25)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    result: dict[str, Any] = {"data": str(MQM)}
    previous = _previous()
    if not args.skip_train:
        rows = load_rows(MQM / "train.jsonl")
        start = time.perf_counter()
        x = mqm_source_features(rows)
        seconds = time.perf_counter() - start
        result["train"] = univariate(x, rows)
        result["train"]["feature_seconds"] = round(seconds, 1)
        result["train"]["cv_logistic"] = cross_validated(x, rows)
    elif "train" in previous:
        result["train"] = previous["train"]
    for key, value in previous.items():  # keep the Qwen figures of other splits
        if key.startswith("adequacy_"):
            result[key] = value
    if args.rows:
        rows = pick_items(load_rows(MQM / f"{args.split}.jsonl"), args.rows, args.per_item)
        key = f"adequacy_{args.split}" + (f"_{args.per_item}_per_item" if args.per_item else "")
        if args.model and args.model != "qwen2.5-0.5b":
            key += "_" + args.model
        result[key] = adequacy_part(rows, args.threads, args.model)
    shown = {
        k: {kk: vv for kk, vv in v.items() if kk != "per_row"} if isinstance(v, dict) else v
        for k, v in result.items()
    }
    print(json.dumps(shown, indent=2))
    print(f"wrote {write_result('source', result)}")


def _previous() -> dict[str, Any]:
    from common import RESULTS

    path = RESULTS / "source.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


if __name__ == "__main__":
    main()
