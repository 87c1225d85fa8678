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
