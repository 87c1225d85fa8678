"""What `mtqa batch --peers` costs on top of scoring, on whole MQM dev documents.

Takes every system's translation of the first `--docs` source documents of dev.jsonl (all
rows of those documents: 10-15 systems per segment), scores them with `mtqa batch` (the same
runner, in this process), then finalises the same output folder again with `--peers` (nothing is
re-scored: peers only re-judge the logged segments) and once more without it. Reports scoring
segments/s, the peer pass's seconds (finalising with `--peers` minus finalising without,
medians of `--repeat`) and segments/s, and how the flags
change. Writes benchmarks/results/peers.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import MQM, read_jsonl, write_result

from mtqa.batch import BatchOptions, run_batch
from mtqa.corpus import open_corpus
from mtqa.scoring import Scorer


def flags(out: Path) -> dict[str, Any]:
    records = [json.loads(line) for line in (out / "segments.jsonl").read_text().splitlines()]
    return {
        "segments": len(records),
        "share_flagged": round(sum(r["flagged"] for r in records) / len(records), 4),
        "mistranslation_spans": sum(
            s["reason"] == "mistranslation" for r in records for s in r["spans"]
        ),
        "reasons": dict(Counter(reason for r in records for reason in r["reasons"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = read_jsonl(MQM / "dev.jsonl")
    docs = list(dict.fromkeys(r["doc"] for r in rows))[: args.docs]
    picked = [r for r in rows if r["doc"] in docs]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "dev-docs.jsonl"
        data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked))
        out = Path(tmp) / "out"
        scorer = Scorer.load()
        corpus = open_corpus(str(data))
        start = time.perf_counter()
        run_batch(corpus, BatchOptions(output_dir=out), scorer=scorer)
        scoring = time.perf_counter() - start
        plain = flags(out)
        times, plain_times = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            run_batch(corpus, BatchOptions(output_dir=out, peers=True), scorer=scorer)
            times.append(time.perf_counter() - start)
            with_peers = flags(out)
            start = time.perf_counter()
            run_batch(corpus, BatchOptions(output_dir=out), scorer=scorer)
            plain_times.append(time.perf_counter() - start)
        undone = flags(out)
    n = len(picked)
    plain_seconds = statistics.median(plain_times)
    peer_seconds = statistics.median(times) - plain_seconds
    result = {
        "documents": docs,
        "segments": n,
        "systems": len({r["system"] for r in picked}),
        "scoring_seconds": round(scoring, 1),
        "scoring_segments_per_s": round(n / scoring, 2),
        "plain_finalise_seconds_median": round(plain_seconds, 2),
        "peer_pass_seconds_median": round(peer_seconds, 2),
        "peers_segments_per_s": round(n / peer_seconds, 1),
        "peers_cost_vs_scoring": round(peer_seconds / scoring, 3),
        "flags_document_only": plain,
        "flags_with_peers": with_peers,
        "flags_after_undo": undone,
        "note": "peer pass = finalise with --peers minus a plain finalise (summaries, "
        "sacrebleu), medians; it embeds every target once with the sentence encoder",
    }
    print(json.dumps(result, indent=2))
    print(f"wrote {write_result('peers', result)}")


if __name__ == "__main__":
    main()
