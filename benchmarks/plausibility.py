"""Tried, not kept: the number-plausibility test, and its figures against MQM dev.

Reads the MQM targets that hold a number followed by a lowercase word (each document's such
rows as one running text, one row a line), runs the test on every such number, and reports, on
a grid of the two thresholds, how often it fires and how often MQM raters marked the number or
the word after it (precision), beside the base rate of a marked number. Writes
benchmarks/results/plausibility.json.
Run: `.venv/bin/python benchmarks/plausibility.py [--split dev] [--limit N]`.

The test (numbers that their phrase makes implausible, "moving in 116 directions") finds
the seed's "116 directions", but on MQM dev the numbers it fires on were marked no more often
than any number (precision 0.23-0.31 against a base rate of 0.305 over the whole threshold
grid), and its firings there are ordinary counts ("3 suspected cases"). An editor would learn
to ignore it, so `mtqa score` does not run it.

A local-optimality test in the spirit of LM-Critic (Yasunaga et al., 2021), aimed at numbers: a
number in news is always hard to predict, so its own surprisal says little, but the words after
it say whether its magnitude fits. For each number followed by a lowercase word, the word's
tokens are re-scored with the number replaced by magnitude-neutral quantifiers ("two",
"several", "many", ...), from the same left context. Where some quantifier makes the next word
much likelier than the number does ("several directions" against "116 directions"), and the
next word surprised the model after the number, the number is implausible there.

One padded forward pass over short windows for the whole document: a few numbers, a handful of
variants each, so it costs little beside the document pass.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import MQM, documents, read_jsonl, write_result

from mtqa.core.segment import Segment
from mtqa.models import LoadedModel, TokenScores
from mtqa.models.logprobs import tokenize
from mtqa.scoring import Scorer
from mtqa.scoring.scorer import join_segments
from mtqa.scoring.signals import FUNCTION_WORD_BITS, LN2, WORD, TokensByLastChar, unigram_bits

#: Replacements that keep the phrase's grammar but carry no particular magnitude.
QUANTIFIERS = ("two", "several", "many", "dozens of")
#: Tokens of left context each variant is read with (the document pass read them all; a short
#: window keeps the test cheap and treats every variant alike).
CONTEXT_TOKENS = 24
#: The next word's first tokens that are re-scored.
NEXT_TOKENS = 3
#: Thresholds, chosen on the seed article and checked on MQM dev targets
#: (benchmarks/plausibility.py): the best quantifier makes the next word this many nats
#: likelier, and the next word cost at least this many bits after the number.
MIN_GAIN = 3.0
MIN_NEXT_BITS = 6.0

NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")


@dataclass(frozen=True)
class NumberTest:
    """One number, the word after it and how much a quantifier would help that word."""

    start: int  # document offsets of the number
    end: int
    text: str
    next_word: str
    next_bits: float  # the next word's surprisal after the number (bits, document pass)
    best: str  # the quantifier that makes the next word likeliest
    gain: float  # nats: log P(next | best) - log P(next | number), same left context

    @property
    def implausible(self) -> bool:
        return self.gain >= MIN_GAIN and self.next_bits >= MIN_NEXT_BITS


@dataclass
class _Job:
    number: tuple[int, int, str, str, float]
    left: list[int]
    middle: list[int]
    following: list[int]
    label: str


def test_numbers(
    lm: LoadedModel,
    text: str,
    tokens: TokenScores,
    segments: Sequence[Segment],
    min_next_bits: float = MIN_NEXT_BITS,
) -> list[NumberTest]:
    """The number test for every number of `segments` that a lowercase content word follows
    and surprised the model by at least `min_next_bits` (the others cannot be implausible, and
    are not re-scored: most numbers cost nothing)."""
    lookup = TokensByLastChar(tokens)
    bits = -tokens.logprob / LN2
    jobs: list[_Job] = []
    for seg in segments:
        for match in NUMBER.finditer(text, seg.start, seg.end):
            following = WORD.search(text, match.end(), seg.end)
            if following is None or text[match.end() : following.start()].strip():
                continue  # punctuation or a unit sign comes next: nothing to test
            word = following.group()
            if not word.islower() or unigram_bits(word) < FUNCTION_WORD_BITS:
                continue
            own = lookup.within(match.start(), match.end())
            nxt = lookup.within(following.start(), following.end())
            if own.size == 0 or nxt.size == 0:
                continue
            first, last = int(own.min()), int(own.max())
            if int(nxt.min()) != last + 1 or float(bits[nxt].sum()) < min_next_bits:
                continue  # merged with what follows by the tokenizer, or no surprise there
            left = [lm.start_token_id] + tokens.ids[max(0, first - CONTEXT_TOKENS) : first].tolist()
            after_space = first > 0 and tokens.ends[first - 1] < match.start()
            nxt_ids = tokens.ids[np.sort(nxt)][:NEXT_TOKENS].tolist()
            key = (match.start(), match.end(), match.group(), word, float(bits[nxt].sum()))
            jobs.append(_Job(key, left, tokens.ids[first : last + 1].tolist(), nxt_ids, ""))
            for alt in QUANTIFIERS:
                ids = tokenize(lm, (" " if after_space else "") + alt)[0]
                jobs.append(_Job(key, left, ids, nxt_ids, alt))
    if not jobs:
        return []
    scores = _following_logprobs(lm, jobs)
    out: list[NumberTest] = []
    by_number: dict[tuple[int, int, str, str, float], list[tuple[str, float]]] = {}
    for job, score in zip(jobs, scores, strict=True):
        by_number.setdefault(job.number, []).append((job.label, score))
    for (start, end, number, word, next_bits), rows in by_number.items():
        as_written = rows[0][1]
        best, best_score = max(rows[1:], key=lambda row: row[1])
        out.append(
            NumberTest(
                start,
                end,
                number,
                word,
                round(next_bits, 3),
                best,
                round(best_score - as_written, 3),
            )
        )
    return out


def _following_logprobs(lm: LoadedModel, jobs: list[_Job]) -> list[float]:
    """log P(job.following | job.left + job.middle) for each job, in one padded batch."""
    import torch

    rows = [job.left + job.middle + job.following for job in jobs]
    width = max(len(row) for row in rows)
    padded = [row + [lm.start_token_id] * (width - len(row)) for row in rows]
    head = lm.model.get_output_embeddings()
    with torch.inference_mode():
        states = lm.model.base_model(
            input_ids=torch.tensor(padded, dtype=torch.long, device=lm.device)
        ).last_hidden_state
        out = []
        for i, job in enumerate(jobs):
            begin = len(job.left) + len(job.middle) - 1  # the state that predicts following[0]
            picked = states[i, begin : begin + len(job.following)]
            logp = torch.log_softmax(head(picked).float(), dim=-1)
            target = torch.tensor(job.following, device=lm.device)
            out.append(float(logp.gather(1, target[:, None]).sum()))
    return out


HAS_CASE = re.compile(r"\d\s+[a-z]")
GAINS = (0.0, 0.5, 1.0, 2.0, 3.0)
NEXT_BITS = (4.0, 6.0, 8.0, 10.0)


def marked(row: dict[str, Any], start: int, end: int) -> bool:
    return any(s["start"] < end and start < s["end"] for s in row["spans"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=None, help="documents at most")
    args = parser.parse_args()
    rows = read_jsonl(MQM / f"{args.split}.jsonl")
    scorer = Scorer.load(device="cpu")
    tests: list[dict[str, Any]] = []
    started = time.perf_counter()
    for n, (_, group) in enumerate(documents(rows)):
        if args.limit and n >= args.limit:
            break
        picked = [r for r in group if HAS_CASE.search(r["target"]) and "\n" not in r["target"]]
        if not picked:
            continue
        segs = join_segments([r["target"] for r in picked])
        text = "\n".join(r["target"] for r in picked)
        tokens, _ = scorer.analyse(text, segs)
        for test in test_numbers(scorer.lm, text, tokens, segs, min_next_bits=min(NEXT_BITS)):
            seg = next(s for s in segs if s.start <= test.start < s.end)
            row = picked[seg.index]
            lo, hi = test.start - seg.start, test.end - seg.start
            nxt_end = row["target"].find(test.next_word, hi) + len(test.next_word)
            tests.append(
                {
                    "gain": test.gain,
                    "next_bits": test.next_bits,
                    "number_marked": marked(row, lo, hi),
                    "phrase_marked": marked(row, lo, nxt_end),
                    "text": row["target"][max(0, lo - 30) : nxt_end + 10],
                    "best": test.best,
                }
            )
    grid = []
    for g in GAINS:
        for b in NEXT_BITS:
            fired = [t for t in tests if t["gain"] >= g and t["next_bits"] >= b]
            hits = sum(t["phrase_marked"] for t in fired)
            grid.append(
                {
                    "min_gain": g,
                    "min_next_bits": b,
                    "fired": len(fired),
                    "marked": hits,
                    "precision": round(hits / len(fired), 3) if fired else None,
                }
            )
    base = sum(t["phrase_marked"] for t in tests) / max(1, len(tests))
    shipped = [t for t in tests if t["gain"] >= MIN_GAIN and t["next_bits"] >= MIN_NEXT_BITS]
    result = {
        "split": args.split,
        "numbers_tested": len(tests),
        "base_rate_marked": round(base, 3),
        "shipped": {
            "min_gain": MIN_GAIN,
            "min_next_bits": MIN_NEXT_BITS,
            "fired": len(shipped),
            "marked": sum(t["phrase_marked"] for t in shipped),
            "examples": shipped[:15],
        },
        "grid": grid,
        "seconds": round(time.perf_counter() - started, 1),
    }
    for line in grid:
        print(line)
    print({k: v for k, v in result.items() if k != "grid"})
    write_result("plausibility", result)


if __name__ == "__main__":
    main()
