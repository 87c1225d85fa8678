"""Synthetic word-choice errors for the detector: clean English with LM-plausible wrong words.

MQM rows are fluent NMT; the seed article's damage is a wrong word in otherwise fluent English
("passionate relationship", "game skills"). This corrupts the human references of the MQM
2021 train rows: in each sentence one or two content words are replaced by a word the LM
finds plausible from the left context only (among its top choices at that position, a whole,
common, lower-case content word other than the original), and the replaced words are marked
as Major spans. The rows are written as an MQM-style JSONL (`system: synthetic`), so the
evidence pipeline reads them like any annotated set; `train_detector.py --synthetic FILE`
trains on them beside MQM train and reports dev with and without.
Run: `.venv/bin/python benchmarks/synthetic_errors.py [--variants 3] [--out PATH]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from common import MQM

from mtqa.calibration.mqm import load_rows
from mtqa.core.files import cache_dir
from mtqa.scoring import Scorer, join_segments
from mtqa.scoring.signals import FUNCTION_WORD_BITS, unigram_bits

#: Replacements are words the model ranks among its first few choices, but not the first: the
#: first is often the original word's synonym or the original itself.
RANKS = slice(1, 12)


def references(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """One row per 2021 source segment that has a reference, grouped by document, in order."""
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        if row.get("reference"):
            seen.setdefault((str(row["doc"]), int(row["doc_seg_id"])), row)
    docs: dict[str, list[dict[str, Any]]] = {}
    for (doc, _), row in sorted(seen.items()):
        docs.setdefault(doc, []).append(row)
    return docs


def corrupt_document(
    scorer: Scorer, rows: list[dict[str, Any]], rng: np.random.Generator, variant: int
) -> list[dict[str, Any]]:
    sentences = [str(r["reference"]).replace("\n", " ") for r in rows]
    segments = join_segments(sentences)
    text = "\n".join(sentences)
    tokens, words = scorer.analyse(text, segments)
    decode = scorer.lm.tokenizer.decode
    out = []
    for row, seg, seg_words in zip(rows, segments, words, strict=True):
        slots = [
            w
            for w in seg_words
            if w.kind == "lower" and w.unigram >= FUNCTION_WORD_BITS and len(w.text) >= 3
        ]
        if not slots:
            continue
        chosen = rng.choice(len(slots), size=min(len(slots), 1 + int(rng.random() < 0.3)))
        edits = []
        for i in sorted(set(chosen.tolist())):
            w = slots[i]
            options = []
            for token_id in tokens.top_ids[w.first_token][RANKS]:
                piece = decode([int(token_id)])
                word = piece.strip()
                if (
                    piece.startswith(" ")
                    and word.isalpha()
                    and word.islower()
                    and len(word) >= 3
                    and word != w.text.lower()
                    and FUNCTION_WORD_BITS <= unigram_bits(word) < 22
                ):
                    options.append(word)
            if options:
                edits.append((w.start - seg.start, w.end - seg.start, str(rng.choice(options))))
        if not edits:
            continue
        target, spans, shift = seg.text, [], 0
        for start, end, word in edits:
            target = target[: start + shift] + word + target[end + shift :]
            spans.append(
                {
                    "start": start + shift,
                    "end": start + shift + len(word),
                    "severity": "Major",
                    "category": "synthetic/word choice",
                }
            )
            shift += len(word) - (end - start)
        out.append(
            {
                "id": f"synthetic-{variant}-{row['doc']}-{row['doc_seg_id']}",
                "year": row.get("year"),
                "system": f"synthetic-{variant}",
                "doc": row["doc"],
                "doc_seg_id": row["doc_seg_id"],
                "source": row.get("source"),
                "target": target,
                "reference": seg.text,
                "mqm": 5.0 * len(spans),
                "spans": spans,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", type=int, default=3, help="corrupted copies of each doc")
    parser.add_argument("--out", default=str(cache_dir() / "synthetic-train.jsonl"))
    args = parser.parse_args()
    scorer = Scorer.load()
    docs = references(load_rows(MQM / "train.jsonl"))
    rows: list[dict[str, Any]] = []
    for variant in range(args.variants):
        rng = np.random.default_rng(13 + variant)
        for doc_rows in docs.values():
            rows += corrupt_document(scorer, doc_rows, rng, variant)
    Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} synthetic rows from {len(docs)} documents to {args.out}")
    for r in rows[:5]:
        s = r["spans"][0]
        print(f"  {r['reference'][:90]!r}\n  -> {r['target'][s['start'] : s['end']]!r}")


if __name__ == "__main__":
    main()
