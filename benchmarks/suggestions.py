"""Known-answer benchmark for span suggestions, on MQM 2021 rows (they have a reference).

A gold error span (Major or Minor) is kept when its 1-3 words lie inside a 'replace' block of
the target aligned to the reference (difflib on lower-cased word lists) whose replacement is
1-3 reference words: those words are an acceptable fix. A suggestion hits when it equals the
reference phrase, or one of its words, case-insensitively up to a crude stem (minus -s, -es,
-d, -ed, -ing when 3+ letters remain).

Methods, given the gold span:
  next_token   the 0.3.0 method (`judge.suggestions`: the LM's likeliest words at the span's
               first token, the target read alone), never gated
  peers>=k     what at least k of the other systems' translations of the same source sentence
               write in the span's place (`scoring.peers.peer_replacements`); human
               translations and any peer equal to the reference are left out of the peers
  peers_then_next_token   the shipped `--peers` behaviour: peers>=MIN_AGREEMENT first, then
               the 0.3.0 words
Reported: hit@1, hit@5, share of spans with no suggestion, precision of shown (spans whose first
suggestion hits / spans with a suggestion), on train (peers only: no model needed) and dev.
MIN_AGREEMENT (2) was fixed before measuring: one other system is a choice, two are agreement.
Writes benchmarks/results/suggestions.json.
Run: `.venv/bin/python benchmarks/suggestions.py [--limit 600]`.
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from common import MQM, write_result

from mtqa.calibration.mqm import item_key, load_rows
from mtqa.core.segment import Segment
from mtqa.scoring import Scorer
from mtqa.scoring.judge import suggestions as next_token_suggestions
from mtqa.scoring.peers import MIN_AGREEMENT, peer_replacements

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
AGREEMENT = (1, 2, 3, 4)


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def known_answers(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The gold spans of a row that the reference fixes with 1-3 words, with those words."""
    mine = _words(row["target"])
    ref = [w for _, _, w in _words(row["reference"])]
    ops = difflib.SequenceMatcher(
        a=[w.lower() for _, _, w in mine], b=[w.lower() for w in ref], autojunk=False
    ).get_opcodes()
    out, seen = [], set()
    for span in row.get("spans") or []:
        if span["severity"] not in ("Major", "Minor"):
            continue
        inside = [i for i, (a, b, _) in enumerate(mine) if a < span["end"] and span["start"] < b]
        if not inside or len(inside) > 3:
            continue
        lo, hi = inside[0], inside[-1]
        for tag, i1, i2, j1, j2 in ops:
            if tag == "replace" and i1 <= lo and hi < i2 and 1 <= j2 - j1 <= 3:
                start, end = mine[lo][0], mine[hi][1]
                if (start, end) not in seen:
                    seen.add((start, end))
                    out.append({"start": start, "end": end, "answers": ref[j1:j2]})
                break
    return out


def stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "d", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def hits(suggestion: str, answers: list[str]) -> bool:
    words = suggestion.split()
    if len(words) == len(answers) and all(
        stem(a) == stem(b) for a, b in zip(words, answers, strict=True)
    ):
        return True
    return len(words) == 1 and any(stem(words[0]) == stem(a) for a in answers)


def metrics(lists: list[list[str]], items: list[dict[str, Any]]) -> dict[str, float]:
    n = len(items)
    shown = sum(bool(s) for s in lists)
    top1 = sum(bool(s) and hits(s[0], it["answers"]) for s, it in zip(lists, items, strict=True))
    top5 = sum(
        any(hits(x, it["answers"]) for x in s[:5]) for s, it in zip(lists, items, strict=True)
    )
    return {
        "n": n,
        "hit@1": round(top1 / n, 4) if n else 0.0,
        "hit@5": round(top5 / n, 4) if n else 0.0,
        "no_suggestion": round(1 - shown / n, 4) if n else 0.0,
        "precision_of_shown": round(top1 / shown, 4) if shown else 0.0,
    }


def spans_of(split: str, limit: int, seed: int = 13) -> list[dict[str, Any]]:
    """Known-answer spans of a split (a seeded sample of `limit`), each with its peers."""
    rows = [r for r in load_rows(MQM / f"{split}.jsonl") if r.get("reference")]
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_item[item_key(row)].append(row)
    items = []
    for row in rows:
        reference = str(row["reference"]).strip()
        peers = [
            str(r["target"])
            for r in by_item[item_key(row)]
            if r is not row
            and not r.get("is_human_translation")
            and str(r["target"]).strip() != reference
        ]
        for answer in known_answers(row):
            items.append({**answer, "row": row, "peers": peers})
    random.Random(seed).shuffle(items)
    return items[:limit] if limit else items


def peer_lists(items: list[dict[str, Any]], k: int) -> list[list[str]]:
    return [
        peer_replacements(it["row"]["target"], it["start"], it["end"], it["peers"], k)[:5]
        for it in items
    ]


def next_token_lists(scorer: Scorer, items: list[dict[str, Any]]) -> list[list[str]]:
    decode: Callable[[int], str] = lambda i: scorer.lm.tokenizer.decode([i])  # noqa: E731
    out = []
    for it in items:
        text = it["row"]["target"]
        tokens, words = scorer.analyse(text, [Segment(0, 0, len(text), text, 0)])
        first = next((w for w in words[0] if w.end > it["start"]), None)
        out.append(next_token_suggestions(first, tokens, decode) if first else [])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=600, help="spans per split (0: all)")
    args = parser.parse_args()
    train, dev = spans_of("train", args.limit), spans_of("dev", args.limit)
    on_train = {k: metrics(peer_lists(train, k), train) for k in AGREEMENT}
    start = time.perf_counter()
    scorer = Scorer.load()
    old = next_token_lists(scorer, dev)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    peers = {k: peer_lists(dev, k) for k in AGREEMENT}
    peer_seconds = (time.perf_counter() - start) / len(AGREEMENT)
    result: dict[str, Any] = {
        "spans": {"train": len(train), "dev": len(dev)},
        "peers_per_span_dev": round(sum(len(it["peers"]) for it in dev) / max(1, len(dev)), 2),
        "min_agreement": MIN_AGREEMENT,
        "train": {f"peers>={k}": m for k, m in on_train.items()},
        "dev": {
            "next_token_0.3.0": metrics(old, dev),
            **{f"peers>={k}": metrics(lists, dev) for k, lists in peers.items()},
            "peers_then_next_token": metrics(
                [
                    (p + [o for o in n if o not in p])[:5]
                    for p, n in zip(peers[MIN_AGREEMENT], old, strict=True)
                ],
                dev,
            ),
        },
        "next_token_seconds": round(seconds, 1),
        "peers_seconds_per_span": round(peer_seconds / max(1, len(dev)), 5),
    }
    print(f"{len(dev)} dev spans ({len(train)} train); shipped agreement: {MIN_AGREEMENT}")
    print(f"{'method':24}{'hit@1':>8}{'hit@5':>8}{'none':>8}{'prec.':>8}")
    for name, m in result["dev"].items():
        print(
            f"{name:24}{m['hit@1']:8.3f}{m['hit@5']:8.3f}{m['no_suggestion']:8.3f}"
            f"{m['precision_of_shown']:8.3f}"
        )
    write_result("suggestions", result)


if __name__ == "__main__":
    main()
