"""GPU against CPU: what `--device cuda` gives and how fast, on MQM dev documents.

The GPU runs the LM in bf16 with length-bucketed batches; the CPU keeps fp32. This measures
both sides of that trade on the real CLI (`mtqa batch` in a fresh process, default config):

- ``run DEVICE``: `mtqa batch CORPUS -o OUT/DEVICE-jN --device DEVICE --jobs N`, timed (wall,
  segments/s, steady segments/s from the first to the last document logged);
- ``floor``: on the GPU, in-process, the model-only floor (the batched forward pass of the same
  documents, no mtqa work around it) against `Scorer.score` with the same batched reading, so
  mtqa's end-to-end share of the floor on a GPU is known as it is on the CPU (`speed.py`);
- ``compare CPU_DIR OTHER_DIR...``: agreement of each run's `segments.jsonl` with the CPU run's,
  segment by segment: score differences (max, 99th percentile, median), flag decisions, severity
  and span offsets.

Scores on the CPU are deterministic fp32, so the CPU run can be made on any machine and carried
to the GPU machine. ``--json`` merges each part into one result file (default
benchmarks/results/gpu.json). ``corpus`` writes MQM dev as a target-only JSONL corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import RESULTS, write_result


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_corpus(mqm: Path, out: Path) -> None:
    """MQM rows as a target-only JSONL corpus (system, doc, target), in file order."""
    with mqm.open(encoding="utf-8") as rows, out.open("w", encoding="utf-8") as handle:
        for line in rows:
            row = json.loads(line)
            keep = {"system": row["system"], "doc": row["doc"], "target": row["target"]}
            handle.write(json.dumps(keep, ensure_ascii=False) + "\n")


def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"cpu": platform.processor() or platform.machine()}
    info["cores"] = len(os.sched_getaffinity(0))
    info["torch"] = torch.__version__
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["bf16"] = torch.cuda.is_bf16_supported()
    return info


def run(device: str, jobs: int, corpus: Path, out: Path, precision: str) -> dict[str, Any]:
    """One real `mtqa batch` run in a fresh process, timed from outside."""
    folder = out / f"{device.replace(':', '')}-{precision}-j{jobs}"
    command = [sys.executable, "-m", "mtqa.cli", "batch", str(corpus), "-o", str(folder)]
    command += ["--device", device, "--precision", precision, "--jobs", str(jobs), "--restart"]
    command += ["-q"]
    log = folder / "segments.jsonl"
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    arrivals: list[tuple[float, int]] = []  # (seconds, lines in the log)
    while proc.poll() is None:
        if log.exists():
            lines = log.read_bytes().count(b"\n")
            if lines and (not arrivals or arrivals[-1][1] != lines):
                arrivals.append((time.perf_counter() - start, lines))
        time.sleep(0.05)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{device} --jobs {jobs}: exit {proc.returncode}: {stderr[-2000:]}")
    segments = len(read_log(log))
    first, last = arrivals[0], arrivals[-1]
    steady = (last[1] - first[1]) / max(1e-9, last[0] - first[0])
    return {
        "device": device,
        "precision": precision,
        "jobs": jobs,
        "segments": segments,
        "wall_s": round(wall, 2),
        "segments_per_s": round(segments / wall, 2),
        "steady_segments_per_s": round(steady, 2),
        "first_result_s": round(first[0], 2),
        "log": str(log),
    }


def floor(corpus: Path, device: str, repeat: int, precision: str) -> dict[str, Any]:
    """Model-only batched forward pass vs `Scorer.score` on the same documents, in-process."""
    import torch

    from mtqa import Scorer
    from mtqa.models import score_texts_batched
    from mtqa.models.logprobs import tokenize

    rows = read_log(corpus)
    docs: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        docs.setdefault((row["system"], row["doc"]), []).append(row["target"])
    texts = ["\n".join(lines) for lines in docs.values()]
    scorer = Scorer.load(device=device, precision=precision)
    cfg = scorer.config

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def model_only() -> None:
        score_texts_batched(scorer.lm, texts, cfg.window, cfg.top_k, keep_hidden=False)
        sync()

    def end_to_end() -> None:
        scorer.prefetch(texts)
        for text in texts:
            scorer.score(text)
        sync()

    timings: dict[str, list[float]] = {"model_only": [], "end_to_end": []}
    model_only()  # warm-up: kernels, allocator
    for _ in range(repeat):
        for name, fn in (("model_only", model_only), ("end_to_end", end_to_end)):
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    tokens = sum(len(tokenize(scorer.lm, text)[0]) for text in texts)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    return {
        "device": device,
        "precision": precision,
        "documents": len(texts),
        "segments": len(rows),
        "tokens": tokens,
        "repeat": repeat,
        "model_only_s": round(medians["model_only"], 3),
        "end_to_end_s": round(medians["end_to_end"], 3),
        "model_only_tokens_per_s": round(tokens / medians["model_only"]),
        "end_to_end_segments_per_s": round(len(rows) / medians["end_to_end"], 1),
        "end_to_end_share_of_floor": round(medians["model_only"] / medians["end_to_end"], 3),
    }


def compare(cpu_log: Path, other_log: Path) -> dict[str, Any]:
    """Segment-by-segment agreement of another run's log with the CPU run's."""

    def keyed(path: Path) -> dict[tuple[str, str, int], dict[str, Any]]:
        return {(r["system"], r["doc"], r["index"]): r for r in read_log(path)}

    cpu, other = keyed(cpu_log), keyed(other_log)
    if cpu.keys() != other.keys():
        raise SystemExit(f"{other_log}: not the same segments as {cpu_log}")
    diffs, flips, severities, same_spans = [], [], 0, 0
    for key, a in cpu.items():
        b = other[key]
        diffs.append(abs(a["score"] - b["score"]))
        if a["flagged"] != b["flagged"]:
            flips.append(
                {"segment": "/".join(map(str, key)), "cpu": a["score"], "other": b["score"]}
            )
        severities += a["severity"] == b["severity"]
        same_spans += [(s["start"], s["end"]) for s in a["spans"]] == [
            (s["start"], s["end"]) for s in b["spans"]
        ]
    diffs.sort()
    n = len(diffs)
    return {
        "segments": n,
        "score_abs_diff_max": round(diffs[-1], 4),
        "score_abs_diff_p99": round(diffs[min(n - 1, int(0.99 * n))], 4),
        "score_abs_diff_median": round(statistics.median(diffs), 4),
        "flag_agreement": round(1 - len(flips) / n, 4),
        "flag_flips": flips,
        "severity_agreement": round(severities / n, 4),
        "span_offsets_identical": round(same_spans / n, 4),
        "flagged_share_cpu": round(sum(r["flagged"] for r in cpu.values()) / n, 4),
        "flagged_share_other": round(sum(r["flagged"] for r in other.values()) / n, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=RESULTS / "gpu.json")
    sub = parser.add_subparsers(dest="part", required=True)
    make = sub.add_parser("corpus", help="write MQM dev as a target-only JSONL corpus")
    make.add_argument("mqm", type=Path)
    make.add_argument("out", type=Path)
    one = sub.add_parser("run", help="time a real `mtqa batch` run")
    one.add_argument("device")
    one.add_argument("corpus", type=Path)
    one.add_argument("--out", type=Path, required=True)
    one.add_argument("--jobs", type=int, default=1)
    one.add_argument("--precision", default="fp32")
    low = sub.add_parser("floor", help="model-only floor vs Scorer.score, in-process")
    low.add_argument("corpus", type=Path)
    low.add_argument("--device", default="cuda")
    low.add_argument("--repeat", type=int, default=3)
    low.add_argument("--precision", default="fp32")
    cmp = sub.add_parser("compare", help="agreement of runs with the CPU run")
    cmp.add_argument("cpu", type=Path, help="the CPU run's segments.jsonl")
    cmp.add_argument("others", type=Path, nargs="+")
    args = parser.parse_args()
    if args.part == "corpus":
        write_corpus(args.mqm, args.out)
        return
    args.json.parent.mkdir(parents=True, exist_ok=True)
    if args.part == "run":
        result = run(args.device, args.jobs, args.corpus, args.out, args.precision)
        result["machine"] = machine()
        key = f"run_{args.device.replace(':', '')}_{args.precision}_jobs{args.jobs}"
    elif args.part == "floor":
        result = floor(args.corpus, args.device, args.repeat, args.precision)
        result["machine"] = machine()
        key = f"floor_{args.device.replace(':', '')}_{args.precision}"
    else:
        result = {str(other): compare(args.cpu, other) for other in args.others}
        key = "agreement"
    print(json.dumps({key: result}, indent=2))
    write_result(args.json, result, section=key)


if __name__ == "__main__":
    main()
