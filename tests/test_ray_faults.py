"""`mtqa batch --engine ray` start-up faults, through the real CLI (issues 28 and 29): a wrong
address, a GPU asked for where there is none, actors that die as they start, a killed driver.
Each ends in one `mtqa: error:` line, soon, with no Ray output on the terminal (that goes to
the output folder's ray.log unless -v) and no Ray process left behind.

Ray's processes are told apart from any other Ray on the machine by a tag in their environment
(Ray's own processes inherit the driver's environment; its agents rename their command line).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

DATA = Path(__file__).parent / "data" / "batch"
CORPUS = ["-t", str(DATA / "facebook.txt"), "--doc-size", "3"]  # 2 short documents
BATCH = [sys.executable, "-m", "mtqa.cli", "batch", *CORPUS, "--engine", "ray"]
TAG = "MTQA_TEST_RAY_FAULTS"
QUICK = 60.0  # seconds: every fault must be said within this

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def tagged_env(tag: str) -> dict[str, str]:
    return {
        **os.environ,
        TAG: tag,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "disabled",
        "MTQA_RAY_START_TIMEOUT": "45",
    }


def ray_processes(tag: str) -> list[psutil.Process]:
    """Running processes (zombies aside) that carry `tag` in their environment."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and process.environ().get(TAG) == tag:
                found.append(process)
        except psutil.Error:
            continue
    return found


def left_after(tag: str, wait: float = 20.0) -> list[str]:
    """What still runs with `tag` once `wait` seconds have passed (or none is left)."""
    deadline = time.monotonic() + wait
    while (left := ray_processes(tag)) and time.monotonic() < deadline:
        time.sleep(0.25)
    names = []
    for process in left:
        try:
            names.append(" ".join(process.cmdline())[:80] or process.name())
            process.kill()  # the test cleans up after a failure
        except psutil.Error:
            continue
    return names


def batch(out: Path, *args: str, tag: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [*BATCH, "-o", str(out), *args],
        capture_output=True,
        timeout=300,
        env=tagged_env(tag),
    )
    return proc, time.monotonic() - started


def one_error(proc: subprocess.CompletedProcess, elapsed: float, *says: str) -> str:
    """Exit 1 or 2, within QUICK seconds, stderr only mtqa's lines and one error naming `says`."""
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode in (1, 2), err
    assert elapsed < QUICK, (elapsed, err)
    lines = err.strip().splitlines()
    assert all(line.startswith("mtqa: ") for line in lines), err
    errors = [line for line in lines if line.startswith("mtqa: error: ")]
    assert len(errors) == 1 and errors == lines[-1:], err
    for said in says:
        assert said in errors[0], err
    return errors[0]


@pytest.fixture
def tag() -> Iterator[str]:
    tag = uuid.uuid4().hex
    yield tag
    assert not left_after(tag), "Ray processes outlived the run"


def test_address_that_does_not_answer(tag: str, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc, elapsed = batch(tmp_path / "out", "--address", f"127.0.0.1:{port}", tag=tag)
    one_error(proc, elapsed, f"--address 127.0.0.1:{port}: cannot connect to Ray")
    assert proc.returncode == 2 and elapsed < 20


@pytest.mark.parametrize(
    ("asked", "says"),
    [
        (["--gpus-per-actor", "1"], "--gpus-per-actor 1: the Ray cluster has no GPU"),
        (["--device", "cuda"], "--device cuda: the Ray cluster has no GPU"),
    ],
)
def test_no_gpu_in_a_local_ray(asked: list[str], says: str, tag: str, tmp_path: Path) -> None:
    """Refused once Ray has started (it holds the resources), before any actor waits for one;
    Ray's own lines are in ray.log."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "out"
    proc, elapsed = batch(out, *asked, tag=tag)
    one_error(proc, elapsed, says)
    log = (out / "ray.log").read_text(encoding="utf-8")
    assert "mtqa: Ray's own logs: " in log, log


def test_verbose_leaves_rays_lines_on_the_terminal(tag: str, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "out"
    proc, elapsed = batch(out, "--gpus-per-actor", "1", "-v", tag=tag)
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2 and elapsed < QUICK, err
    assert [line for line in err.splitlines() if not line.startswith("mtqa: ")], err
    assert err.strip().splitlines()[-1].startswith("mtqa: error: --gpus-per-actor 1"), err
    assert not (out / "ray.log").exists()


@pytest.fixture
def fake_gpu_cluster(tag: str) -> Iterator[str]:
    """A Ray cluster that claims a GPU this machine does not have: the actors die as they
    start (`--device cuda`), after Ray has placed them."""
    ray = str(Path(sys.executable).parent / "ray")
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    head = ["--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=1"]
    subprocess.run(
        [ray, "start", *head, "--num-gpus=1", "--include-dashboard=false"],
        check=True,
        capture_output=True,
        env=tagged_env(tag),
        timeout=300,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:  # `ray stop` would stop every Ray of this user: kill only this one's processes
        for process in ray_processes(tag):
            try:
                process.kill()
            except psutil.Error:
                continue
        latest = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"  # as `ray stop`
        with contextlib.suppress(OSError):
            if latest.read_text().strip().endswith(f":{port}"):
                latest.unlink()


def test_actors_that_die_as_they_start(fake_gpu_cluster: str, tag: str, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    before = {p.pid for p in ray_processes(tag)}
    out = tmp_path / "out"
    proc, elapsed = batch(out, "--address", fake_gpu_cluster, "--device", "cuda", tag=tag)
    error = one_error(proc, elapsed, "Ray could not start the scoring actors: ")
    assert "--device cuda: no CUDA device is usable here" in error, error
    assert "Traceback" not in proc.stderr.decode()
    deadline = time.monotonic() + 20  # the cluster stays; the job's actors go with its driver
    while (
        actors := [
            p.pid
            for p in ray_processes(tag)
            if p.pid not in before and "MapWorker" in " ".join(p.cmdline())
        ]
    ) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not actors


def start_then(sig: signal.Signals, tag: str, out: Path) -> subprocess.Popen:
    """Start a local-Ray run, and send `sig` once its scoring actors exist."""
    proc = subprocess.Popen(
        [*BATCH, "-o", str(out), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=tagged_env(tag),
    )
    deadline = time.monotonic() + 120
    actors: list[psutil.Process] = []
    while not actors and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.25)
        actors = [p for p in ray_processes(tag) if "MapWorker" in " ".join(p.cmdline())]
    assert actors and proc.poll() is None, "the run ended before its actors started"
    assert len(ray_processes(tag)) > 5  # Ray's head processes, agents and workers
    proc.send_signal(sig)
    return proc


@pytest.mark.model
@pytest.mark.parametrize(
    "sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name
)
def test_killed_driver_takes_its_ray_with_it(sig: signal.Signals, tag: str, tmp_path: Path) -> None:
    """SIGKILL too: a watcher kills what the driver's Ray started (its agents would stay)."""
    proc = start_then(sig, tag, tmp_path / "out")
    _, err = proc.communicate(timeout=120)
    assert not left_after(tag), "Ray processes outlived their driver"
    want = {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 143, signal.SIGINT: 130}[sig]
    assert proc.returncode == want, err.decode()
    assert b"SIGTERM received" not in err and b"Traceback" not in err, err.decode()
