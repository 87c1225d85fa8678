"""Every benchmark script still starts: `--help` of each, because they reach into internals of
many subpackages and nothing else runs them between reruns. One process reads them all (so
torch is imported once); none may load a model or read data before parsing its arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "common.py")

DRIVER = """
import contextlib, io, json, runpy, sys
out = {}
for name in sys.argv[1:]:
    sys.argv = [name, "--help"]
    shown = io.StringIO()
    try:
        with contextlib.redirect_stdout(shown):
            runpy.run_path(name, run_name="__main__")
        out[name] = "ran without stopping at --help"
    except SystemExit as stop:
        usage = shown.getvalue().startswith("usage: ")
        out[name] = "ok" if stop.code in (0, None) and usage else f"exit {stop.code}"
    except BaseException as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def test_every_benchmark_script_answers_help() -> None:
    assert len(SCRIPTS) >= 20  # the index in benchmarks/README.md lists them all
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *SCRIPTS],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert {name: a for name, a in answers.items() if a != "ok"} == {}


def test_the_index_lists_every_script() -> None:
    index = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    assert [name for name in SCRIPTS + ["common.py"] if f"`{name}`" not in index] == []
