"""Where the errors are: mtqa's spans against human MQM error spans, with baselines.

For every annotated row of a split (dev by default), read in its document's context:
  character level  precision / recall / F1 of the highlighted characters (non-space) against
                   the annotated ones, for Major spans and for Major+Minor spans
  word level       Matthews correlation (MCC) of "this word is inside an error span", the WMT
                   word-level QE metric (a word is predicted bad when a span covers it)
Methods: the learned detector (`span_model: detector`, mtqa 0.4; target only), the detector plus
the source-aware checks (what `--source` adds to the spans), the 0.3.0 surprisal spans
(`span_model: surprisal`), the whole segment highlighted, and random words at the detector's
rate (seeded). Writes benchmarks/results/spans-<split>.json.
Run: `.venv/bin/python benchmarks/spans.py [--split dev] [--limit N]`.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
from common import MQM, write_result

from mtqa.calibration.evidence import Evidence, cached_extract, words_at
from mtqa.checks import run_checks
from mtqa.core.config import load_config
from mtqa.scoring import Scorer
from mtqa.scoring.detector import learned_spans
from mtqa.scoring.judge import find_spans

Spans = list[tuple[int, int]]


def _chars(text: str, spans: Spans) -> set[int]:
    return {i for start, end in spans for i in range(start, end) if not text[i].isspace()}


def char_prf(rows: list[Evidence], predicted: list[Spans], severities: tuple[str, ...]) -> dict:
    tp = n_pred = n_gold = 0
    for e, pred in zip(rows, predicted, strict=True):
        gold = _chars(
            e.target, [(s["start"], s["end"]) for s in e.spans if s["severity"] in severities]
        )
        mine = _chars(e.target, pred)
        tp, n_pred, n_gold = tp + len(gold & mine), n_pred + len(mine), n_gold + len(gold)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {
        "P": round(p, 4),
        "R": round(r, 4),
        "F1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
    }


def word_mcc(rows: list[Evidence], predicted: list[Spans]) -> float:
    """MCC over words: bad = overlaps an annotated span (any severity but Neutral)."""
    tp = fp = fn = tn = 0
    for e, pred in zip(rows, predicted, strict=True):
        gold = [(s["start"], s["end"]) for s in e.spans if s["severity"] in ("Major", "Minor")]
        for w in e.detector_words:
            bad = any(w.start < end and start < w.end for start, end in gold)
            hit = any(w.start < end and start < w.end for start, end in pred)
            tp, fp = tp + (bad and hit), fp + (hit and not bad)
            fn, tn = fn + (bad and not hit), tn + (not bad and not hit)
    denom = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return round((tp * tn - fp * fn) / denom, 4) if denom else 0.0


def evaluate(rows: list[Evidence], predicted: list[Spans]) -> dict[str, Any]:
    return {
        "major": char_prf(rows, predicted, ("Major",)),
        "major_minor": char_prf(rows, predicted, ("Major", "Minor")),
        "word_mcc": word_mcc(rows, predicted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=0, help="first N rows only (0: all)")
    args = parser.parse_args()
    path = MQM / f"{args.split}.jsonl"
    scorer = Scorer.load()
    start = time.perf_counter()
    rows = cached_extract(scorer, path)
    rows = rows[: args.limit] if args.limit else rows
    config = load_config("default")
    # The 0.3.0 spans as 0.3.0-0.5 configured them (alpha 0.5, 4 bits; phrases at 2).
    surprisal = replace(
        config, span_model="surprisal", alpha=0.5, anomaly_threshold=4.0, phrase_threshold=2.0
    )
    methods: dict[str, list[Spans]] = {
        "detector": [
            [
                (s.start, s.end)
                for s in learned_spans(e.target, e.detector_words, e.p_any, e.p_major)
            ]
            for e in rows
        ],
        # With the source: the detector's spans plus the source-aware checks (numbers,
        # untranslated text, length), as `mtqa score --source` shows them.
        "detector+source_checks": [
            [
                (s.start, s.end)
                for s in learned_spans(e.target, e.detector_words, e.p_any, e.p_major)
                + run_checks(e.target, e.source)
            ]
            for e in rows
        ],
        "surprisal_0.3.0": [
            [
                (s.start, s.end)
                for s in find_spans(e.target, words_at(e, surprisal.alpha), surprisal)
            ]
            for e in rows
        ],
        "whole_segment": [[(0, len(e.target))] for e in rows],
    }
    words = sum(len(e.detector_words) for e in rows)
    marked = sum(
        any(w.start < b and a < w.end for a, b in spans)
        for e, spans in zip(rows, methods["detector"], strict=True)
        for w in e.detector_words
    )
    rate = marked / words if words else 0.0
    rng = np.random.default_rng(13)
    methods["random_words"] = [
        [(w.start, w.end) for w in e.detector_words if rng.random() < rate] for e in rows
    ]
    result: dict[str, Any] = {
        "split": args.split,
        "rows": len(rows),
        "words": words,
        "detector_word_rate": round(rate, 4),
        "signature": scorer.signature.format(),
        "methods": {name: evaluate(rows, spans) for name, spans in methods.items()},
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"{len(rows)} rows, {words} words; detector marks {rate:.1%} of words")
    print(f"{'method':18}{'Major P':>9}{'R':>7}{'F1':>7}{'all P':>8}{'R':>7}{'F1':>7}{'MCC':>8}")
    for name, m in result["methods"].items():
        a, b = m["major"], m["major_minor"]
        print(
            f"{name:18}{a['P']:9.3f}{a['R']:7.3f}{a['F1']:7.3f}"
            f"{b['P']:8.3f}{b['R']:7.3f}{b['F1']:7.3f}{m['word_mcc']:8.3f}"
        )
    write_result(f"spans-{args.split}", result)


if __name__ == "__main__":
    main()
