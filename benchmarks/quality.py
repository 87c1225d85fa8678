"""mtqa against human MQM judgements, with naive baselines computed on the same rows.

Prints a table per config and a side-by-side summary, and writes
benchmarks/results/quality-<model>-<split>-<config>.json (and quality-<model>-<split>-compare.json):
  segment level  Kendall tau, item-grouped tau, Pearson (vs -MQM), AUROC for "has a Major error"
  flagging       precision / recall for Major errors and share flagged, per preset
  spans          character-level P/R/F1 against annotated spans (Major; Major+Minor; Accuracy)
  baselines      segment length in words; sentence chrF vs the reference (rows that have one);
                 "flag the whole segment" for spans
Configs: `default` (target only), `source` (reads the source), and their `-peers` companions
(also compare each translation with the other systems' translations of the same segment).
Run: `.venv/bin/python benchmarks/quality.py [--split dev] [--config NAME ...] [--model ...]`;
`--compare` runs all four configs.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from common import MQM, write_result

from mtqa.calibration.agreement import evaluate_evidence, format_table
from mtqa.calibration.evidence import cached_extract, prepare_evidence
from mtqa.scoring import Scorer

COMPARE = ("default", "source", "default-peers", "source-peers")


def evaluate(model: str | None, config: str, path: str) -> dict[str, Any]:
    scorer = Scorer.load(model, config)
    start = time.perf_counter()
    evidence = prepare_evidence(scorer.config, cached_extract(scorer, path), path)
    result = evaluate_evidence(scorer.config, evidence)
    result["data"] = str(path)
    result["config"] = config
    result["signature"] = scorer.signature.format()
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(f"\n== config {config}")
    print(format_table(result))
    return result


def side_by_side(results: dict[str, dict[str, Any]]) -> str:
    head = f"{'config':16}{'rows':>6}{'tau':>8}{'item tau':>10}{'AUROC':>8}"
    head += f"{'Major F1':>10}{'Acc. F1':>9}"
    lines = [head]
    for name, r in results.items():
        m = r["segment"]["mtqa"]
        major = r["spans"]["major"]["standard"]["f1"]
        acc = r["spans"].get("accuracy", {}).get("standard", {}).get("f1", float("nan"))
        lines.append(
            f"{name:16}{r['rows']:6d}{m['kendall']:8.3f}{m['item_kendall']:10.3f}"
            f"{m['auroc_major']:8.3f}{major:10.3f}{acc:9.3f}"
        )
    first = next(iter(results.values()))
    base = first["segment"]["length"]
    lines.append(f"{'length baseline':16}{first['rows']:6d}{base['kendall']:8.3f}")
    lines[-1] += f"{base['item_kendall']:10.3f}{base['auroc_major']:8.3f}"
    whole = first["spans"]["major"]["whole_segment_baseline"]["f1"]
    acc_whole = first["spans"].get("accuracy", {}).get("whole_segment_baseline", {}).get("f1")
    lines[-1] += f"{whole:10.3f}{acc_whole if acc_whole is not None else float('nan'):9.3f}"
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="dev", help="MQM split name or a JSONL path")
    parser.add_argument("--config", action="append", default=None, help="repeatable")
    parser.add_argument("--compare", action="store_true", help=f"all of {', '.join(COMPARE)}")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    path = str(MQM / f"{args.split}.jsonl") if not args.split.endswith(".jsonl") else args.split
    configs = list(COMPARE) if args.compare else (args.config or ["default"])
    split = args.split.split("/")[-1].removesuffix(".jsonl")
    results = {}
    for config in configs:
        result = evaluate(args.model, config, path)
        results[config] = result
        model = result["signature"].split("|model:")[1].split("|")[0]
        write_result(f"quality-{model}-{split}-{config}", result)
    print("\n" + side_by_side(results))
    if len(results) > 1:
        out = write_result(f"quality-{model}-{split}-compare", {"side_by_side": results})
        print(f"\nwrote {out}")
    print(json.dumps({c: r["signature"] for c, r in results.items()}, indent=1))


if __name__ == "__main__":
    main()
