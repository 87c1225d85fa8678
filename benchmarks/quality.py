"""mtqa against human MQM judgements, with naive baselines computed on the same rows.

Prints a table and writes benchmarks/results/quality.json:
  segment level  Kendall tau, item-grouped tau, Pearson (vs -MQM), AUROC for "has a Major error"
  flagging       precision / recall for Major errors and share flagged, per preset
  spans          character-level P/R/F1 against annotated spans (Major; Major+Minor)
  baselines      segment length in words; sentence chrF vs the reference (rows that have one);
                 "flag the whole segment" for spans
Run: `.venv/bin/python benchmarks/quality.py [--split dev] [--config default] [--model ...]`.
"""

from __future__ import annotations

import argparse
import json
import time

from common import MQM, write_result

from mtqa.calibrate import attach_source_features, cached_extract
from mtqa.evaluate import evaluate_evidence, format_table
from mtqa.scorer import Scorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="dev", help="MQM split name or a JSONL path")
    parser.add_argument("--config", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument(
        "--with-source", action="store_true", help="read the sources (default config: source)"
    )
    args = parser.parse_args()
    path = MQM / f"{args.split}.jsonl" if not args.split.endswith(".jsonl") else args.split
    config = args.config or ("source" if args.with_source else None)
    scorer = Scorer.load(args.model, config)
    start = time.perf_counter()
    evidence = cached_extract(scorer, path)
    if args.with_source:
        attach_source_features(evidence, path)
    result = evaluate_evidence(scorer.config, evidence)
    result["data"] = str(path)
    result["signature"] = scorer.signature.format()
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(format_table(result))
    suffix = "-source" if args.with_source else ""
    out = write_result(f"quality-{scorer.lm.name}-{args.split.split('/')[-1]}{suffix}", result)
    print(f"\nwrote {out}")
    print(json.dumps({"signature": result["signature"]}))


if __name__ == "__main__":
    main()
