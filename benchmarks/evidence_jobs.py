"""Read MQM splits into the calibration evidence cache with several processes.

`mtqa calibrate` reads a split in one process (about 25 minutes for train on one core); this
splits the (system, document) groups over `--jobs` spawned processes, each loading the model
once with one torch thread, and writes the same cache file `cached_extract` reads (identical
rows, in the same order). Run: `.venv/bin/python benchmarks/evidence_jobs.py [--jobs 2]
[--split train dev]`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from common import MQM

from mtqa.calibration.evidence import Evidence, evidence_cache, extract
from mtqa.calibration.mqm import load_rows, mqm_documents
from mtqa.core.files import atomic_write
from mtqa.scoring import Scorer

_SCORER: Scorer | None = None


def _init() -> None:
    import torch

    torch.set_num_threads(1)
    global _SCORER
    _SCORER = Scorer.load()


def _extract(groups: list[list[dict[str, Any]]]) -> list[Evidence]:
    assert _SCORER is not None
    return extract(_SCORER, [row for group in groups for row in group])


def extract_parallel(split: str, jobs: int, chunk: int = 8) -> None:
    path = MQM / f"{split}.jsonl"
    cache = evidence_cache(Scorer.load(), path, "document", 1.0)
    if cache.exists():
        print(f"{split}: cached at {cache}")
        return
    start = time.perf_counter()
    groups = list(mqm_documents(load_rows(path)))
    chunks = [groups[i : i + chunk] for i in range(0, len(groups), chunk)]
    evidence: list[Evidence] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init) as pool:
        for done, part in enumerate(pool.map(_extract, chunks), 1):
            evidence += part
            if done % 10 == 0 or done == len(chunks):
                print(
                    f"{split}: {len(evidence)} rows, {time.perf_counter() - start:.0f} s",
                    flush=True,
                )
    atomic_write(cache, pickle.dumps(evidence))
    print(f"{split}: {len(evidence)} rows in {time.perf_counter() - start:.0f} s -> {cache}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--split", nargs="+", default=["train", "dev"])
    args = parser.parse_args()
    for split in args.split:
        extract_parallel(split, args.jobs)


if __name__ == "__main__":
    main()
