"""Helpers shared by the benchmark scripts: data paths, timing, result files."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mtqa.calibration.mqm import mqm_documents

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


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path
