"""Cost per line: many one-line paragraphs against the same sentences as one paragraph.

Newsroom exports often put every sentence on its own line. Per-paragraph work (sentence
splitting, quote checks) and per-sentence work (finding a sentence's tokens, judging it) must
not grow faster than the text: this times `Scorer.score` on N one-line paragraphs and on the
same N sentences joined into one paragraph (the LM reads the same tokens either way), and
writes benchmarks/results/paragraphs.json.
Run: `.venv/bin/python benchmarks/paragraphs.py [--lines 2000] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import write_result

from mtqa import Scorer

SENTENCES = (
    "The minister said the talks would resume on Monday in Geneva.",
    "Officials from both sides declined to comment on the proposal.",
    "Prices rose by 3.2 percent in March, the statistics office said.",
    "The company plans to open two new factories next year.",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lines = [SENTENCES[i % len(SENTENCES)] for i in range(args.lines)]
    texts = {"one line each": "\n".join(lines), "one paragraph": " ".join(lines)}
    scorer = Scorer.load()
    scorer.score(SENTENCES[0])  # warm up
    result: dict[str, dict[str, float]] = {}
    for name, text in texts.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            doc = scorer.score(text)
            times.append(time.perf_counter() - start)
        result[name] = {
            "sentences": len(doc.sentences),
            "median_s": round(statistics.median(times), 2),
        }
        print(
            f"{name:14} {len(doc.sentences):6,} sentences  median {statistics.median(times):.2f} s"
        )
    ratio = result["one line each"]["median_s"] / result["one paragraph"]["median_s"]
    print(f"one line each / one paragraph: {ratio:.2f}x")
    write_result(
        "paragraphs",
        {"lines": args.lines, "repeats": args.repeats, **result, "ratio": round(ratio, 3)},
    )


if __name__ == "__main__":
    main()
