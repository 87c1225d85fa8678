"""Throughput and memory of `mtqa batch` on MQM train.jsonl, and how they grow with the corpus.

One run of the batch runner (the same code path as ``mtqa batch``, in this process) over the
first N rows of MQM train (`shared/data/mqm/train.jsonl`; all 8,058 by default). While it runs,
the elapsed scoring time, current RSS and peak RSS are recorded after every document, and
reported at the first document boundary past 1k, 2k, 4k and 8k segments: cumulative segments/s,
the rate within each interval, and growth ratios (time should grow with the text read, memory
should stay flat). Model load, corpus checking and the final summaries are timed separately.

Writes benchmarks/results/batch.json. Quick check: ``--limit 1000`` (checkpoints past the limit
are dropped; the limit itself becomes the last one). ``--jobs N`` uses N worker processes (the
checkpoint RSS is then this process plus its workers; ``peak_rss_worker_mb`` is the largest
worker's peak). ``--threads N`` sets torch threads per scoring process. ``profile``: the
stage timers of `mtqa.core.timing` over the scoring (jobs=1), per 1,000 segments, against the
model's forward passes. ``--driver``: only the driver's own work for each result that a worker or
a Ray actor hands back (unpickling it, its log lines, the append with its fsync), per 1,000
segments, over the first ``--limit`` rows (default 300) scored once in-process: the rate one
driver could take results at (written as the ``driver`` section of batch.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from common import MQM, peak_rss_mb, print_profile, profile_figures, write_result

from mtqa.batch import BatchOptions, available_cores, run_batch
from mtqa.corpus import open_corpus

CHECKPOINTS = (1000, 2000, 4000, 8000)


def rss_mb(process: psutil.Process) -> float:
    """RSS of this process and its children (the --jobs workers), in MiB."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


class CountingScorer:
    """Wraps the real scorer: after each document, notes segments, chars, time and memory."""

    def __init__(self, scorer: Any, samples: list[dict[str, float]], on_mark: Any = None) -> None:
        self.scorer, self.samples, self.on_mark = scorer, samples, on_mark
        self.segments = self.chars = 0
        self.start = time.perf_counter()
        self.process = psutil.Process()
        self.marks: list[int] = []

    def _note(self, n: int, chars: int) -> None:
        self.segments += n
        self.chars += chars
        self.samples.append(
            {
                "segments": self.segments,
                "chars": self.chars,
                "seconds": time.perf_counter() - self.start,
                "rss_mb": rss_mb(self.process),
                "peak_rss_mb": peak_rss_mb(),
                "load_average": os.getloadavg()[0],
            }
        )
        if self.on_mark and self.marks and self.segments >= self.marks[0]:
            while self.marks and self.segments >= self.marks[0]:
                self.marks.pop(0)
            self.on_mark()

    def __getattr__(self, name: str) -> Any:  # lm, prefetch, ...: the real scorer's
        return getattr(self.scorer, name)

    def score_segments(
        self, segments: list[str], doc_id: str | None = None, sources: Any = None
    ) -> Any:
        result = self.scorer.score_segments(segments, doc_id=doc_id, sources=sources)
        self._note(len(segments), sum(len(s) + 1 for s in segments))
        return result

    def score(self, text: str, doc_id: str | None = None) -> Any:
        result = self.scorer.score(text, doc_id=doc_id)
        self._note(len(result.sentences), len(text))
        return result


def checkpoint_rows(samples: list[dict[str, float]], marks: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for mark in marks:
        sample = next((s for s in samples if s["segments"] >= mark), None)
        if sample is None:
            continue
        row: dict[str, Any] = {"target": mark, **{k: round(v, 2) for k, v in sample.items()}}
        row["segments_per_s"] = round(sample["segments"] / sample["seconds"], 3)
        row["chars_per_s"] = round(sample["chars"] / sample["seconds"], 1)
        if rows:
            prev = rows[-1]
            span = sample["seconds"] - prev["seconds"]
            row["interval_segments_per_s"] = round(
                (sample["segments"] - prev["segments"]) / span, 3
            )
        rows.append(row)
    return rows


def growth(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    if len(rows) < 2:
        return None
    first, last = rows[0], rows[-1]
    return {
        "segments_ratio": round(last["segments"] / first["segments"], 3),
        "chars_ratio": round(last["chars"] / first["chars"], 3),
        "time_ratio": round(last["seconds"] / first["seconds"], 3),
        "rss_ratio": round(last["rss_mb"] / first["rss_mb"], 3),
        "peak_rss_ratio": round(last["peak_rss_mb"] / first["peak_rss_mb"], 3),
    }


def driver_cost(source: Path, rows: int, repeat: int = 5) -> dict[str, Any]:
    """The driver's work per result, timed apart from the scoring: what bounds one driver that
    many workers or actors feed (`_Runner._save`, `RayEngine.scored`)."""
    import pickle

    from mtqa import Scorer
    from mtqa.batch.ray_engine import Scored
    from mtqa.batch.scoring import score_corpus_document
    from mtqa.batch.store import ResultsLog, segment_records

    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "rows.jsonl"
        with source.open(encoding="utf-8") as src:
            subset.write_text("".join(itertools.islice(src, rows)), "utf-8")
        scorer = Scorer.load()
        docs = list(open_corpus(str(subset)).documents())
        scored = [(doc, score_corpus_document(scorer, doc)) for doc in docs]
        segments = sum(len(result.sentences) for _, result in scored)
        payloads = [
            pickle.dumps(Scored(doc.system, doc.doc_id, segment_records(doc, i, result), result))
            for i, (doc, result) in enumerate(scored)
        ]
        log = ResultsLog(Path(tmp) / "segments.jsonl")

        def hand_back() -> None:
            for payload in payloads:
                outcome = pickle.loads(payload)
                log.append(outcome.records)

        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            hand_back()
            times.append(time.perf_counter() - start)
        log.close()
    seconds = sorted(times)[len(times) // 2]
    return {
        "rows": rows,
        "documents": len(docs),
        "segments": segments,
        "repeat": repeat,
        "result_kb_per_segment": round(sum(map(len, payloads)) / segments / 1024, 2),
        "driver_s_per_1000_segments": round(1000 * seconds / segments, 3),
        "driver_limit_segments_per_s": round(segments / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N rows of train.jsonl")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--input", default=str(MQM / "train.jsonl"))
    parser.add_argument("--output", default="batch", help="name of the results/*.json file")
    parser.add_argument("--driver", action="store_true", help="time the driver's work alone")
    args = parser.parse_args()
    if args.driver:
        figures = driver_cost(Path(args.input), args.limit or 300)
        print(json.dumps(figures, indent=2))
        print(f"wrote {write_result(args.output, figures, section='driver')}")
        return

    os.environ.setdefault("MTQA_CACHE", "/tmp/mtqa-cache")
    source = Path(args.input)
    with tempfile.TemporaryDirectory() as tmp:
        if args.limit:
            subset = Path(tmp) / f"first{args.limit}.jsonl"
            with source.open(encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
                for n, line in enumerate(src):
                    if n >= args.limit:
                        break
                    dst.write(line)
            source = subset
        n_rows = sum(1 for line in source.open(encoding="utf-8") if line.strip())
        marks = [m for m in CHECKPOINTS if m < n_rows] + [n_rows]

        rss_start = peak_rss_mb()
        started = time.perf_counter()
        samples: list[dict[str, float]] = []
        scorer: Any = None
        load_seconds = 0.0
        if args.jobs == 1:
            from mtqa import Scorer

            def partial() -> None:  # results so far, in case a long run is stopped
                rows = checkpoint_rows(samples, marks)
                write_result(
                    args.output,
                    {
                        "status": "partial",
                        "input": str(args.input),
                        "jobs": args.jobs,
                        "checkpoints": rows,
                    },
                )

            scorer = CountingScorer(Scorer.load(), samples, partial)
            scorer.marks = list(marks)
            load_seconds = time.perf_counter() - started
        rss_loaded = peak_rss_mb()
        events: list[tuple[str, float]] = []
        done_docs: list[tuple[float, int]] = []

        def status(message: str) -> None:
            events.append((message, time.perf_counter()))

        def progress(docs: int, total_docs: int, chars: int, total_chars: int) -> None:
            now = time.perf_counter()
            if not done_docs and scorer is not None:
                scorer.start = now  # scoring starts once the corpus has been checked
            done_docs.append((now, chars))

        from mtqa.core import timing

        timing.enable(args.jobs == 1)  # stage timers (this process only; not --jobs workers)
        run_started = time.perf_counter()
        result = run_batch(
            open_corpus(str(source)),
            BatchOptions(output_dir=Path(tmp) / "out", jobs=args.jobs, threads=args.threads),
            scorer=scorer,
            on_progress=progress,
            on_status=status,
        )
        finished = time.perf_counter()
        stages = timing.totals()
        timing.enable(False)
        summaries_at = next((t for m, t in events if "summaries" in m), finished)
        reading = next((t for m, t in events if "reading" in m), run_started)
        scoring_from = done_docs[0][0] if done_docs else run_started
        n_segments = result.summary["totals"]["n_segments"]
        scoring_seconds = summaries_at - scoring_from
        if not samples:  # --jobs: workers score; fall back to document progress for the curve
            total_chars = done_docs[-1][1] if done_docs else 0
            samples = [
                {
                    "segments": round(n_segments * chars / max(total_chars, 1)),
                    "chars": chars,
                    "seconds": t - scoring_from,
                    "rss_mb": rss_mb(psutil.Process()),
                    "peak_rss_mb": peak_rss_mb(),
                    "load_average": 0.0,
                }
                for t, chars in done_docs[1:]
            ]
        rows = checkpoint_rows(samples, marks)
        data = {
            "status": "complete",
            "input": str(args.input),
            "rows": n_rows,
            "documents": result.summary["totals"]["n_documents"],
            "segments": n_segments,
            "jobs": args.jobs,
            "threads_option": args.threads,
            "cores": available_cores(),
            "torch_threads": _torch_threads(),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "model_load_seconds": round(load_seconds, 2),
            "check_corpus_seconds": round(scoring_from - reading, 2),
            "scoring_seconds": round(scoring_seconds, 2),
            "summaries_seconds": round(finished - summaries_at, 2),
            "total_seconds": round(finished - started, 2),
            "segments_per_s": round(n_segments / scoring_seconds, 3),
            "rss_before_model_mb": round(rss_start, 1),
            "rss_after_model_mb": round(rss_loaded, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "peak_rss_worker_mb": (
                round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
                if args.jobs > 1
                else None  # no workers (forked helpers would only echo this process's RSS)
            ),
            "checkpoints": rows,
            "growth_first_to_last": growth(rows),
            # Stage seconds of the scoring (documents scored to summaries written), per 1,000
            # segments, against the forward passes (jobs=1 only: the workers' are not seen).
            "profile": (
                profile_figures(scoring_seconds, stages, n_segments) if args.jobs == 1 else None
            ),
        }
    path = write_result(args.output, data)
    print(f"{n_segments:,} segments in {data['documents']} documents, jobs={args.jobs}")
    print(
        f"model load {data['model_load_seconds']} s, corpus check {data['check_corpus_seconds']} s,"
        f" scoring {data['scoring_seconds']} s ({data['segments_per_s']} segments/s),"
        f" summaries {data['summaries_seconds']} s; peak RSS {data['peak_rss_mb']} MiB"
    )
    print(f"{'segments':>9} {'seconds':>9} {'seg/s':>7} {'interval':>9} {'RSS MiB':>8} {'peak':>8}")
    for row in rows:
        interval = row.get("interval_segments_per_s", "")
        print(
            f"{row['segments']:>9} {row['seconds']:>9} {row['segments_per_s']:>7} "
            f"{interval!s:>9} {row['rss_mb']:>8} {row['peak_rss_mb']:>8}"
        )
    if data["profile"]:
        print_profile("profile", data["profile"])
    if data["growth_first_to_last"]:
        print("growth first -> last checkpoint:", data["growth_first_to_last"])
    print(f"written to {path}")


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    main()
