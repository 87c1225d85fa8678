"""Helpers shared by the benchmark scripts: data paths, timing, and the one writer of result
files (`write_result`, which stamps each with where its figures came from)."""

from __future__ import annotations

import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

from mtqa.calibration.mqm import mqm_documents
from mtqa.core.files import atomic_write

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MTQA_SHARED", ROOT.parent / "shared"))
MQM = SHARED / "data" / "mqm"
SEED = ROOT / "examples" / "article.txt"
RESULTS = Path(__file__).resolve().parent / "results"


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def documents(rows: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """MQM rows grouped into (system, doc) documents, segments in document order."""
    for group in mqm_documents(rows):
        yield f"{group[0]['system']}/{group[0]['doc']}", group


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Median wall time over `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def paired(first: Callable[[], Any], second: Callable[[], Any], pairs: int) -> dict[str, Any]:
    """Time `first` and `second` alternately, `pairs` times each: on a noisy machine both see
    the same moments. Medians of each, and the median of the per-pair ratios second/first."""
    a, b = [], []
    for _ in range(pairs):
        for fn, times in ((first, a), (second, b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return {
        "first_s": statistics.median(a),
        "second_s": statistics.median(b),
        "ratio": statistics.median(y / x for x, y in zip(a, b, strict=True)),
        "first_all_s": [round(t, 3) for t in a],
        "second_all_s": [round(t, 3) for t in b],
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def provenance() -> dict[str, Any]:
    """What a figure came from: mtqa's version, the commit (and whether the tree differed from
    it), the command line and this run's wall time so far."""
    from mtqa.core.version import __version__

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "mtqa": __version__,
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "seconds": round(time.time() - psutil.Process().create_time(), 1),
    }


def write_result(name: str | Path, data: dict[str, Any], section: str | None = None) -> Path:
    """Write `results/NAME.json` (or the path given) atomically, stamped with `provenance()`.

    With `section`, only that key of the file is replaced (stamped on its own), so the parts of
    a result measured by separate runs (speed.json, gpu.json) each keep their own provenance.
    """
    path = name if isinstance(name, Path) else RESULTS / f"{name}.json"
    stamped = {**data, "provenance": provenance()}
    if section is not None:
        previous = json.loads(path.read_text()) if path.exists() else {}
        stamped = {**previous, section: stamped}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(stamped, indent=2) + "\n")
    return path


#: The pipeline's stages in the order a document meets them (mtqa.core.timing names).
STAGES = (
    "segmentation",
    "tokenize",
    "model",
    "word mapping",
    "features",
    "detector",
    "suggestion gate",
    "checks",
    "source",
    "source encoder",
    "judgement",
    "output",
)


def profiled(fn: Callable[[], Any]) -> tuple[float, dict[str, tuple[float, int]]]:
    """Run `fn` once with the stage timers on: its wall time and each stage's (seconds, calls)."""
    from mtqa.core import timing

    timing.enable()
    try:
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
        return wall, timing.totals()
    finally:
        timing.enable(False)


def profile_figures(wall: float, stages: dict[str, tuple[float, int]], segments: int) -> dict:
    """Stage seconds, shares of the wall time and seconds per 1,000 segments; `other` is what
    no stage timer covers (the scorer's loop itself). Non-model: all but the forward passes
    and the tokenizer (which the model-only floor pays too)."""
    names = [*STAGES, *sorted(set(stages) - set(STAGES))]
    seconds = {name: stages.get(name, (0.0, 0))[0] for name in names}
    seconds["other"] = max(0.0, wall - sum(seconds.values()))
    model = seconds["model"] + seconds["tokenize"] + seconds.get("source encoder", 0.0)
    per_k = 1000 / max(1, segments)
    return {
        "segments": segments,
        "wall_s": round(wall, 3),
        "stage_s": {k: round(v, 4) for k, v in seconds.items()},
        "stage_share": {k: round(v / wall, 4) for k, v in seconds.items()},
        "stage_s_per_1000_segments": {k: round(v * per_k, 3) for k, v in seconds.items()},
        "calls": {k: stages[k][1] for k in names if k in stages},
        "model_s": round(model, 3),
        "model_share": round(model / wall, 4),
        "non_model_ms_per_segment": round(1000 * (wall - model) / max(1, segments), 3),
    }


def print_profile(label: str, figures: dict) -> None:
    print(f"{label}: {figures['segments']} segments, {figures['wall_s']} s wall")
    for name, share in figures["stage_share"].items():
        if figures["stage_s"][name]:
            per_k = figures["stage_s_per_1000_segments"][name]
            print(f"  {name:>16} {share:7.1%} {per_k:9.3f} s/1000 segments")
    print(f"  non-model {figures['non_model_ms_per_segment']} ms a segment")
