"""Starting Ray for `mtqa batch --engine ray` so that its faults are one line and leave nothing.

- An ``--address`` that does not answer on TCP is refused within seconds (Ray itself retries for
  minutes, deaf to SIGTERM).
- Ray's own log lines (its Python loggers, Ray Data's, and what its native code prints while it
  starts and stops) go to ``ray.log`` in the output folder, not the terminal; ``-v`` leaves them
  on the terminal, as Ray prints them.
- The local instance that mtqa starts dies with the driver, however the driver ends. Ray ties the
  processes it starts itself to the driver (the kernel kills them when it dies), but not the
  agents that its raylet starts (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``): they
  outlived a killed driver. So a watcher, a small process in a session of its own (Ctrl-C does
  not reach it), notes the driver's descendants every half second, and when the driver ends
  (the pipe it holds closes: on SIGKILL too) kills those still running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CONNECT_TIMEOUT = 5.0  # seconds for a TCP answer from --address HOST:PORT
WATCH_EVERY = 0.5  # seconds between the watcher's looks at the driver's descendants
#: A process of Ray's by its name or command line: gcs_server, raylet, `ray::IDLE`, its agents
#: (`python …/ray/dashboard/agent.py`, then `ray::DashboardAgent`).
RAY_PROCESS = re.compile(r"ray::|raylet|gcs_server|[/\\]ray[/\\]")


class ConnectRefused(Exception):
    """--address does not answer (the caller words it as a usage error)."""


def check_reachable(address: str) -> None:
    """A HOST:PORT (or ray://HOST:PORT) address must answer on TCP within seconds."""
    where = address.removeprefix("ray://")
    host, sep, port = where.rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return  # `auto`, or a form Ray parses itself
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ConnectRefused(exc.strerror or str(exc) or type(exc).__name__) from None


def log_ray_to(path: Path) -> logging.Handler:
    """A handler that writes Ray's log lines to `path`, routed (`route_ray_logs`) from now on.
    Ray's warnings are dropped, and its native core logs only fatal errors."""
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # C++ core-worker notices
    warnings.filterwarnings("ignore", module=r"ray(\.|$)")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    route_ray_logs(handler)
    return handler


def route_ray_logs(handler: logging.Handler) -> None:
    """Every Ray logger that prints to the terminal (``ray``, and ``ray.data``, which does not
    propagate) loses its console handler and gains `handler`; again after ``ray.init``, which
    resets the ``ray`` logger."""
    names = [n for n in logging.root.manager.loggerDict if n == "ray" or n.startswith("ray.")]
    for name in ("ray", *names):
        logger = logging.getLogger(name)
        consoles = [
            h
            for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
        ]
        for console in consoles:
            logger.removeHandler(console)
        if name == "ray" or (logger.handlers and not logger.propagate):
            if handler not in logger.handlers:
                logger.addHandler(handler)
            logger.propagate = False
    logging.getLogger("ray").setLevel(logging.INFO)


def unlog_ray(handler: logging.Handler) -> None:
    """Undo `log_ray_to` as far as the file goes (the run is over: nothing more is written)."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and handler in logger.handlers:
            logger.removeHandler(handler)
    logging.getLogger("ray").removeHandler(handler)
    handler.close()


@contextlib.contextmanager
def native_stderr_to(path: Path | None) -> Iterator[None]:
    """Point file descriptor 2 at `path` (appended to) meanwhile: what Ray's native code and its
    child processes print as Ray starts or stops. None leaves it alone (``-v``)."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.dup2(target, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def exit_on_sigterm() -> None:
    """SIGTERM ends the driver by SystemExit (exit 143), so that Ray is shut down on the way out:
    set after ``ray.init``, whose native handler would print a crash banner (off the main
    thread, where none can be set, Ray's stays)."""

    def stop(signum: int, frame: Any) -> None:
        sys.exit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, stop)


#: This file as a script, without the current folder on sys.path (nor this package's folder):
#: stdlib and psutil only, and nothing that the folder it runs in could shadow.
_RUN_WATCHER = (
    "import sys; sys.path.pop(0); import runpy; runpy.run_path(sys.argv[1], None, '__main__')"
)


class Watcher:
    """The driver's side of the watcher: start it before Ray starts, `close` it after
    ``ray.shutdown`` (it then kills what is left of what Ray started)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        with contextlib.suppress(OSError):  # no watcher: Ray's own fate-sharing only
            self.process = subprocess.Popen(
                [sys.executable, "-c", _RUN_WATCHER, __file__, str(os.getpid())],
                stdin=subprocess.PIPE,  # its only writer is this process
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def watch(driver: int) -> None:
    """The watcher: note `driver`'s descendants that are Ray's until the pipe on stdin closes,
    then kill every one still running (the same process: pid and start time)."""
    import psutil

    me = os.getpid()
    seen: dict[int, float] = {}
    try:
        root = psutil.Process(driver)
    except psutil.Error:
        return
    while True:
        with contextlib.suppress(psutil.Error):
            for child in root.children(recursive=True):
                if child.pid == me or child.pid in seen:
                    continue
                with contextlib.suppress(psutil.Error):  # Ray's only: the driver may have others
                    if RAY_PROCESS.search(" ".join([child.name(), *child.cmdline()])):
                        seen[child.pid] = child.create_time()
        ready, _, _ = select.select([0], [], [], WATCH_EVERY)
        if ready and not os.read(0, 4096):
            break  # the driver closed it, or died
    for pid, started in seen.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if process.create_time() == started:
                process.kill()


if __name__ == "__main__":
    watch(int(sys.argv[-1]))
