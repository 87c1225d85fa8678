"""Scale-out: `mtqa batch` locally (--jobs 1, --jobs 2) and on Ray (1 and 2 actors).

Each run is the real CLI in a fresh process (as a user runs it) over the first N segments of
MQM train.jsonl (target only: the default config), written as a JSONL corpus grouped by
(system, document). Ray runs start their own local Ray instance (no --address), so their wall
time includes starting Ray. For each run:

- wall seconds and segments/s end to end (model load and summaries included);
- steady segments/s: from the first to the last document appended to the results log (what a
  long job converges to, start-up excluded);
- peak RSS of the driver (the `mtqa` process) and of each scoring process (--jobs workers or
  Ray actors), sampled every 0.2 s;
- Ray's overhead against the local run with equal cores (Ray 1 actor vs --jobs 1 --threads 1,
  Ray 2 actors vs --jobs 2), as a ratio of steady segments/s;
- Ray's efficiency per actor: 2 actors' steady segments/s over twice 1 actor's.

The scaling model the README's planet-scale section uses is segments/s per core, steady.
Writes benchmarks/results/scale.json (sizes and runs not rerun keep their figures).
``--sizes 500`` for a quick look.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from common import MQM, RESULTS, provenance, read_jsonl, write_result

from mtqa.batch import available_cores

RUNS: dict[str, list[str]] = {
    "local_jobs1": ["--jobs", "1", "--threads", "1"],
    "local_jobs2": ["--jobs", "2", "--threads", "1"],
    "ray_1actor": ["--engine", "ray", "--actors", "1", "--threads", "1"],
    "ray_2actors": ["--engine", "ray", "--actors", "2", "--threads", "1"],
}
PAIRS = (("ray_1actor", "local_jobs1"), ("ray_2actors", "local_jobs2"))  # equal cores
SCORING_PROCESS_MARKS = ("ray::MapWorker", "multiprocessing.spawn", "spawn_main")
#: How often the harness looks: often enough for the arrivals, seldom enough not to take a
#: share of the cores it measures (it takes 0.4-0.6% of them: `core_share_steady["harness"]`).
POLL_S = 0.25
SAMPLE_S = 1.0


class ProcessSampler(threading.Thread):
    """Peak RSS of the driver and of every scoring process, and the CPU seconds of the driver's
    whole process tree by kind (driver, scoring processes, Ray's own processes, other), sampled
    until stopped: on a small machine, what Ray's own processes take from the actors' cores."""

    def __init__(self, driver: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.driver = driver
        self.peaks: dict[int, float] = {}
        self.driver_peak = 0.0
        self.cpu: dict[int, tuple[str, str, float]] = {}  # pid -> (kind, name, CPU seconds)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            time.sleep(SAMPLE_S)

    def sample(self) -> None:
        try:
            tree = [self.driver, *self.driver.children(recursive=True)]
            self.driver_peak = max(self.driver_peak, self.driver.memory_info().rss / 2**20)
        except psutil.Error:
            return
        for process in tree:
            try:
                with process.oneshot():
                    cmdline = " ".join(process.cmdline())
                    times = process.cpu_times()
                    rss = process.memory_info().rss / 2**20
            except psutil.Error:
                continue
            kind = process_kind(process.pid == self.driver.pid, cmdline)
            self.cpu[process.pid] = (kind, process_name(cmdline), times.user + times.system)
            if kind == "scoring":
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0.0), rss)

    def cpu_by(self, by_name: bool = False, kind: str | None = None) -> dict[str, float]:
        """CPU seconds summed by kind (or by process name), of `kind` only when given."""
        totals: dict[str, float] = {}
        for of_kind, name, seconds in list(self.cpu.values()):  # one C call: thread-safe
            if kind is None or of_kind == kind:
                key = name if by_name else of_kind
                totals[key] = totals.get(key, 0.0) + seconds
        return {key: round(seconds, 1) for key, seconds in sorted(totals.items())}


def process_name(cmdline: str) -> str:
    """A process's program, or for Python its script or module: what to group CPU seconds by."""
    words = cmdline.split()
    if not words:
        return "?"
    if "python" in Path(words[0]).name:
        rest = [w for w in words[1:] if not w.startswith("-")]
        return Path(rest[0]).name if rest else "python"
    return Path(words[0]).name.split("::")[0] if "::" not in words[0] else words[0]


def process_kind(is_driver: bool, cmdline: str) -> str:
    """driver, scoring (a --jobs worker or Ray actor), ray (Ray's own processes) or other."""
    if is_driver:
        return "driver"
    if any(mark in cmdline for mark in SCORING_PROCESS_MARKS):
        return "scoring"
    return "ray" if "ray" in cmdline.lower() else "other"


def write_corpus(n: int, folder: Path) -> tuple[Path, int]:
    """The first `n` MQM train rows that make whole documents, as a target-only JSONL."""
    rows = read_jsonl(MQM / "train.jsonl", limit=n)
    path = folder / f"mqm_train_{n}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            keep = {"system": row["system"], "doc": row["doc"], "target": row["target"]}
            handle.write(json.dumps(keep, ensure_ascii=False) + "\n")
    return path, len(rows)


def run_one(corpus: Path, segments: int, flags: list[str], out: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "mtqa.cli", "batch", str(corpus), "-o", str(out), "-q"]
    log = out / "segments.jsonl"
    start = time.perf_counter()
    proc = subprocess.Popen([*command, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = ProcessSampler(psutil.Process(proc.pid))
    sampler.start()
    arrivals: list[tuple[float, int]] = []  # (seconds, segments in the log)
    idle: list[float] = []  # the machine's idle CPU seconds at the first and the last arrival
    steady_cpu: list[dict[str, float]] = []  # CPU seconds by kind, at the first and the last
    harness = psutil.Process()
    done, read = 0, 0
    while proc.poll() is None:
        # Only the bytes appended since the last look (a document's lines land in one write),
        # until all are in: the summaries then rewrite the log in input order.
        if done < segments and log.exists() and log.stat().st_size > read:
            with log.open("rb") as handle:
                handle.seek(read)
                new = handle.read()
            read += new.rfind(b"\n") + 1
            done += new.count(b"\n")
            arrivals.append((time.perf_counter() - start, done))
            now_idle = psutil.cpu_times().idle
            idle = [idle[0] if idle else now_idle, now_idle]
            sampler.sample()
            now_cpu = {**sampler.cpu_by(), "harness": sum(harness.cpu_times()[:2])}
            steady_cpu = [steady_cpu[0] if steady_cpu else now_cpu, now_cpu]
        time.sleep(POLL_S)
    wall = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(flags)}: {proc.stderr.read().decode()[-2000:]}")
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(records) == segments, (len(records), segments)
    first, last = arrivals[0], arrivals[-1]
    steady = (last[1] - first[1]) / max(1e-9, last[0] - first[0])
    workers = sorted(sampler.peaks.values(), reverse=True)
    return {
        "wall_s": round(wall, 2),
        "segments_per_s": round(segments / wall, 3),
        "steady_segments_per_s": round(steady, 3),
        "first_result_s": round(first[0], 2),
        "peak_rss_driver_mb": round(sampler.driver_peak, 1),
        "peak_rss_scoring_processes_mb": [round(rss, 1) for rss in workers],
        # CPU seconds over the whole run, by process kind; and the machine's idle share between
        # the first and the last result (0: every core was busy).
        "cpu_s_by_process": sampler.cpu_by(),
        "cpu_s_of_ray_processes": sampler.cpu_by(by_name=True, kind="ray"),
        "idle_share_steady": round(
            (idle[1] - idle[0]) / max(1e-9, (last[0] - first[0]) * available_cores()), 3
        ),
        # Between the first and the last result: each kind's share of all the cores' time.
        "core_share_steady": {
            kind: round(
                (seconds - steady_cpu[0].get(kind, 0.0))
                / max(1e-9, (last[0] - first[0]) * available_cores()),
                3,
            )
            for kind, seconds in steady_cpu[1].items()
        },
    }


def previous_sizes() -> dict[str, Any]:
    path = RESULTS / "scale.json"
    return dict(json.loads(path.read_text()).get("sizes", {})) if path.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": available_cores(),
            "python": platform.python_version(),
        },
        "corpus": "MQM train.jsonl, first N rows, target only (config: default)",
        # Sizes and runs not measured this time keep their figures (each run its provenance).
        "sizes": previous_sizes(),
    }
    with tempfile.TemporaryDirectory(prefix="mtqa-scale-") as tmp:
        folder = Path(tmp)
        for size in args.sizes:
            corpus, segments = write_corpus(size, folder)
            # Runs not rerun at this size keep their figures, each with its own provenance.
            runs: dict[str, Any] = dict(result["sizes"].get(str(size), {}).get("runs", {}))
            for name in args.runs:
                runs[name] = run_one(corpus, segments, RUNS[name], folder / f"{name}-{size}")
                runs[name]["provenance"] = provenance()
                print(f"{size:>6} segments  {name:<12} {json.dumps(runs[name])}", flush=True)
            overhead = {}
            for ray_run, local_run in (
                ("ray_1actor", "local_jobs1"),
                ("ray_2actors", "local_jobs2"),
            ):
                if ray_run in runs and local_run in runs:
                    ratio = (
                        runs[ray_run]["steady_segments_per_s"]
                        / runs[local_run]["steady_segments_per_s"]
                    )
                    overhead[f"{ray_run}/{local_run}"] = round(ratio, 3)
            result["sizes"][str(size)] = {
                "segments": segments,
                "runs": runs,
                "ray_vs_local": overhead,
            }
            if "ray_1actor" in runs and "ray_2actors" in runs:
                # What each of two actors gives of one actor's steady throughput (aim >= 0.9).
                efficiency = runs["ray_2actors"]["steady_segments_per_s"] / (
                    2 * runs["ray_1actor"]["steady_segments_per_s"]
                )
                result["sizes"][str(size)]["ray_efficiency_per_actor"] = round(efficiency, 3)
                print(f"{size:>6} segments  Ray efficiency per actor: {efficiency:.3f}")
            print(f"{size:>6} segments  Ray/local steady throughput at equal cores: {overhead}")
    per_core = [
        run["steady_segments_per_s"] / cores
        for size in result["sizes"].values()
        for name, run in size["runs"].items()
        for cores in [2 if name in ("local_jobs2", "ray_2actors") else 1]
    ]
    if per_core:
        result["scaling_model"] = {
            "steady_segments_per_s_per_core_median": round(statistics.median(per_core), 3),
            "note": "one torch thread per scoring process; cores = processes",
        }
        print(f"scaling model: {result['scaling_model']}")
    print(f"wrote {write_result('scale', result)}")


if __name__ == "__main__":
    main()
