"""`mtqa batch --engine ray` on a real local Ray cluster (2 CPUs, 2 actors): the same files as
a local run, resume after the driver is killed, nothing lost when a worker is killed."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import torch
from cli_run import mtqa
from test_device import GPU_SCORE_TOLERANCE

from mtqa.batch import BatchOptions, Failure
from mtqa.batch.ray_engine import ActorSettings, Scored, _actor_class
from mtqa.batch.runner import plan
from mtqa.batch.store import read_log, write_failures
from mtqa.batch.summary import finalize
from mtqa.corpus import Document, InputSegment, document_key, open_corpus, split_key

DATA = Path(__file__).parent / "data" / "batch"
SRC, REF = str(DATA / "src.txt"), str(DATA / "ref.txt")
MT = [str(DATA / "facebook.txt"), str(DATA / "onlinew.txt")]
ARGS = ["-s", SRC, "-t", MT[0], "-t", MT[1], "-r", REF, "--doc-size", "1"]  # 12 documents
TARGETS = ["-t", MT[0], "-t", MT[1], "--doc-size", "1"]  # the same, target only
# 10 documents of 6 MQM rows each: long enough to kill something mid-run.
MQM = [str(Path(__file__).parent / "data" / "mqm_small.jsonl")]
OUTPUTS = ("segments.jsonl", "documents.jsonl", "summary.json")

pytestmark = pytest.mark.model


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mtqa.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_results(proc: subprocess.Popen, log: Path, blocks: int = 1) -> None:
    """Until `log` holds at least `blocks` finished documents (or the run ended)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and len(read_log(log)[0]) >= blocks:
            return
        time.sleep(0.05)


def ray_workers() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if cmdline.startswith("ray::MapWorker") and "ScoreDocuments" in cmdline:
            found.append(process)
    return found


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real two-CPU Ray cluster, started as a user would (`ray start --head`)."""
    ray = str(Path(sys.executable).parent / "ray")
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    subprocess.run(
        [
            ray,
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
        ],  # fmt: skip
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    try:
        yield f"{socket.gethostbyname(socket.gethostname())}:{port}"
    finally:
        subprocess.run([ray, "stop", "--force"], capture_output=True, timeout=300)


def local(args: list[str], out: Path) -> Path:
    """The reference: a local --jobs 1 run on the CPU with one torch thread (as each actor has
    that asks for no GPU share)."""
    proc = mtqa("batch", *args, "-o", str(out), "--threads", "1", "--device", "cpu", "-q")
    assert proc.returncode == 0, proc.stderr.decode()
    return out


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local(ARGS, tmp_path_factory.mktemp("local"))


@pytest.fixture(scope="module")
def local_mqm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return local(MQM, tmp_path_factory.mktemp("local-mqm"))


def test_ray_run_writes_the_local_runs_files(cluster: str, local_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    proc = mtqa("batch", *ARGS, "-o", str(out), "--engine", "ray", "--address", cluster,
                "--actors", "2")  # fmt: skip
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "scoring on Ray with 2 actor(s) (1 thread(s) each)" in err
    assert "12 documents scored now, 0 resumed" in err
    assert not [line for line in err.splitlines() if not line.startswith("mtqa: ")], err
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (local_run / name).read_bytes(), name
    assert not (out / "failed.jsonl").exists()


def test_killed_driver_resumes_without_duplicates(
    cluster: str, local_mqm_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "resumed"
    args = ["batch", *MQM, "-o", str(out), "--engine", "ray", "--address", cluster, "-q"]
    proc = start(*args)
    wait_for_results(proc, out / "segments.jsonl")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    done = len(read_log(out / "segments.jsonl")[0])
    assert 0 < done < 10
    again = mtqa(*args[:-1])
    assert again.returncode == 0, again.stderr.decode()
    assert f"{10 - done} documents scored now, {done} resumed" in again.stderr.decode()
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (local_mqm_run / name).read_bytes(), name
    records = [json.loads(line) for line in (out / "segments.jsonl").read_text().splitlines()]
    assert len(records) == len({(r["system"], r["segment_id"]) for r in records}) == 60


def test_killed_worker_loses_nothing(cluster: str, local_mqm_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "worker"
    args = ["batch", *MQM, "-o", str(out), "--engine", "ray", "--address", cluster, "-q"]
    proc = start(*args)
    wait_for_results(proc, out / "segments.jsonl")
    workers = ray_workers()
    assert workers and proc.poll() is None, "no Ray worker to kill mid-run"
    workers[0].kill()
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (local_mqm_run / name).read_bytes(), name
    assert not (out / "failed.jsonl").exists()


def test_actor_records_a_document_that_fails_twice() -> None:
    """The actor class itself, in this process: a bad document comes back as a Failure with
    its error and the next document is still scored."""
    settings = ActorSettings(None, None, "standard", threads=2, device="cpu")
    actor = _actor_class(settings)()
    good = next(iter(open_corpus(sources=SRC, targets=MT[:1], doc_size=6).documents()))
    torn = InputSegment("1", "a segment torn\nin two")  # no reader makes this: it must raise
    bad = Document("broken", "sys", "test", segments=[torn])
    batch = {
        "index": [0, 1],
        "doc": [pickle.dumps(bad), pickle.dumps(good)],
    }
    out = actor(batch)
    failure, scored = (pickle.loads(raw) for raw in out["outcome"])
    assert isinstance(failure, Failure) and (failure.system, failure.doc_id) == ("sys", "broken")
    assert failure.error == "InputError: test: segment 1 contains a newline"
    assert isinstance(scored, Scored) and len(scored.records) == 6
    assert scored.records[0]["doc_index"] == 1


def test_engine_ray_needs_its_flags_and_its_extra(tmp_path: Path) -> None:
    proc = mtqa("batch", *ARGS, "-o", str(tmp_path / "x"), "--actors", "2")
    assert proc.returncode == 2
    assert (
        proc.stderr.decode()
        .strip()
        .endswith("--address, --actors and --gpus-per-actor need --engine ray")
    )
    code = (
        "import sys; sys.modules['ray'] = None; from mtqa.cli import main; "
        f"sys.argv = ['mtqa', 'batch', *{ARGS!r}, '-o', {str(tmp_path / 'y')!r}, "
        "'--engine', 'ray']; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2 and len(err.splitlines()) == 1, err
    assert "pip install 'mtqa[ray]'" in err
    assert not (tmp_path / "y").exists()


def test_failed_documents_are_recorded_and_counted(local_run: Path, tmp_path: Path) -> None:
    """What the runner does with Failures: failed.jsonl, the summary's count, the rest kept."""
    out = tmp_path / "partial"
    shutil.copytree(local_run, out)
    corpus = open_corpus(sources=SRC, targets=MT, references=[REF], doc_size=1)
    planned = plan(corpus)
    lost = list(planned)[-1]
    kept = [
        line
        for line in (out / "segments.jsonl").read_text().splitlines(keepends=True)
        if document_key(json.loads(line)["system"], json.loads(line)["doc"]) != lost
    ]
    (out / "segments.jsonl").write_text("".join(kept))
    system, doc_id = split_key(lost)
    failed = write_failures(out, [Failure(system, doc_id, "RuntimeError: boom")])
    run_info = json.loads((out / "run.json").read_text())
    options = BatchOptions(output_dir=out, config="source", threads=1)
    summary = finalize(out, corpus, planned, options, run_info["signature"], failed)
    assert summary["failed"] == {"n_documents": 1, "log": str(out / "failed.jsonl")}
    assert summary["totals"]["n_documents"] == 11
    row = json.loads((out / "failed.jsonl").read_text())
    assert row == {"system": system, "doc": doc_id, "error": "RuntimeError: boom"}
    assert len((out / "documents.jsonl").read_text().splitlines()) == 11
    assert write_failures(out, []) == set() and not (out / "failed.jsonl").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_ray_actors_share_a_gpu(cluster: str, tmp_path: Path) -> None:
    """Two actors with half a GPU each score as a local GPU run does (bf16 both: batches differ,
    so scores agree within the GPU tolerance and flags are the same)."""
    here = tmp_path / "local"
    proc = mtqa("batch", *TARGETS, "-o", str(here), "--device", "cuda", "-q")
    assert proc.returncode == 0, proc.stderr.decode()
    out = tmp_path / "ray"
    proc = mtqa("batch", *TARGETS, "-o", str(out), "--engine", "ray", "--address", cluster,
                "--actors", "2", "--gpus-per-actor", "0.5", "--device", "cuda")  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert "+cuda-" in json.loads((out / "run.json").read_text())["signature"]

    def rows(folder: Path) -> list[dict]:
        lines = (folder / "segments.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    got, want = rows(out), rows(here)
    assert [(r["system"], r["doc"], r["index"]) for r in got] == [
        (r["system"], r["doc"], r["index"]) for r in want
    ]
    for a, b in zip(got, want, strict=True):
        assert abs(a["score"] - b["score"]) <= GPU_SCORE_TOLERANCE, (a["target"], a, b)
        assert a["flagged"] == b["flagged"], a["target"]
