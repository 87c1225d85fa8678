"""Hostile files and process faults (issues 28 and 29): the batch output folder never holds the
user's files at risk, JSON nests only so deep in every reader, damaged caches are misses, empty
and `-` output names are refused, workers die with their driver, conversion leftovers are
cleaned, and errors name the real cause.

Refusals run in-process (click's CliRunner) in a workspace `w` that is snapshotted before and
after, with the current folder inside it, so that a stray write anywhere in it is seen; none of
them loads the model. Only real faults of a process (a kill, a closed pipe, a file-size limit)
run `python -m mtqa.cli` as a subprocess, with the real model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from input_files import write
from test_bad_input import SHORT, check, embedded_gguf, jsonl, mqm_rows, snapshot

from mtqa.batch import BatchOptions, run_batch
from mtqa.batch.store import RUN, SEGMENTS, ResultsLog, read_log
from mtqa.batch.summary import reusable_summary
from mtqa.cli import main
from mtqa.core.errors import InputError
from mtqa.core.files import MAX_JSON_DEPTH, JsonDepthError, describe_os_error, loads_bounded
from mtqa.corpus import open_corpus
from mtqa.models.checks import safetensors_problem
from mtqa.models.loading import STALE_SECONDS, clean_stale_conversions
from mtqa.models.registry import file_sha256

BATCH = Path(__file__).parent / "data" / "batch"
MT = (BATCH / "facebook.txt").read_text(encoding="utf-8")
ROW = {"doc": "d", "system": "s", "target": "The cat sat on the mat."}
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than Python's recursion limit allows to parse
REAL_CACHE = Path(os.environ.get("MTQA_CACHE") or Path.home() / ".cache" / "mtqa")


def mtqa_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mtqa.cli", *args]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "MTQA_CACHE")}
    env["MTQA_CACHE"] = str(REAL_CACHE)
    env.update(extra)
    return env


@pytest.fixture
def w(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace (also the current folder), with its own empty cache outside it."""
    monkeypatch.setenv("MTQA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COLUMNS", raising=False)
    root = tmp_path / "w"
    root.mkdir()
    (root / "in.txt").write_text(SHORT, encoding="utf-8")
    (root / "mt.txt").write_text(MT, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def refused(w: Path, args: list[str], code: int, *needle: str) -> Result:
    """A run that must fail with one line naming `needle`, leaving the workspace as it was."""
    before = snapshot(w)
    result = CliRunner().invoke(main, args)
    check(result, code, needle)
    assert "internal error" not in result.stderr
    assert snapshot(w) == before, "a refused run changed or left files in the workspace"
    return result


# ------------------------------------------------------- the output folder holds no input


def _corpus_in_output(w: Path) -> list[str]:
    write(w / "mycorpus" / "documents.jsonl", jsonl([ROW]))
    return ["batch", "-q", "mycorpus/documents.jsonl", "-o", "mycorpus"]


def _restart_over_input(w: Path) -> list[str]:
    write(w / "out" / SEGMENTS, jsonl([ROW]))
    write(w / "out" / RUN, '{"format": "mtqa-batch/2"}\n')
    return ["batch", "-q", f"out/{SEGMENTS}", "-o", "out", "--restart"]


def _symlink_to_output_name(w: Path) -> list[str]:
    write(w / "out" / "summary.json", jsonl([ROW]))
    (w / "rows.jsonl").symlink_to(w / "out" / "summary.json")
    return ["batch", "-q", "rows.jsonl", "-o", "out"]


def _hardlink_of_output_name(w: Path) -> list[str]:
    write(w / "out" / "failed.jsonl", MT)
    os.link(w / "out" / "failed.jsonl", w / "sys.txt")
    return ["batch", "-q", "-t", "sys.txt", "-o", "out"]


def _lock_name(w: Path) -> list[str]:
    write(w / "out" / ".lock", MT)
    return ["batch", "-q", "-t", "out/.lock", "-o", "out"]


def _report_index(w: Path) -> list[str]:
    write(w / "html" / "index.html", jsonl([ROW]))
    return ["batch", "-q", "html/index.html", "-o", "out", "--report-dir", "html"]


def _report_page(w: Path) -> list[str]:
    write(w / "html" / "00001-s-d.html", jsonl([ROW]))
    return ["batch", "-q", "html/00001-s-d.html", "-o", "out", "--report-dir", "html"]


def _folder_under_output_name(w: Path) -> list[str]:
    (w / "out" / "summary.json").mkdir(parents=True)
    return ["batch", "-q", "-t", "mt.txt", "-o", "out"]


OUTPUT_FOLDER_CASES = {
    "corpus-inside-output-folder": (_corpus_in_output, ("mycorpus/documents.jsonl",)),
    "restart-over-its-input": (_restart_over_input, ("out/segments.jsonl",)),
    "symlink-to-an-output-name": (_symlink_to_output_name, ("rows.jsonl", "summary.json")),
    "hardlink-of-an-output-name": (_hardlink_of_output_name, ("sys.txt", "failed.jsonl")),
    "input-named-like-the-lock": (_lock_name, (".lock",)),
    "input-named-like-the-report-index": (_report_index, ("index.html", "--report-dir")),
    "input-named-like-a-report-page": (_report_page, ("00001-s-d.html", "--report-dir")),
    "folder-where-an-output-goes": (_folder_under_output_name, ("summary.json", "folder")),
}


@pytest.mark.parametrize("name", list(OUTPUT_FOLDER_CASES))
def test_input_in_the_output_folder_is_refused(w: Path, name: str) -> None:
    prepare, needle = OUTPUT_FOLDER_CASES[name]
    refused(w, prepare(w), 2, *needle)


def test_restart_without_a_run_record_removes_nothing(w: Path) -> None:
    """A segments.jsonl no run recorded (no run.json, or one that is not a run's) stays."""
    write(w / "out" / SEGMENTS, "the user's own notes\n")
    write(w / "out" / ".lock", "")  # a run takes the folder's lock file (kept afterwards)
    refused(w, ["batch", "-q", "-t", "mt.txt", "-o", "out", "--restart"], 1, "run.json", "stays")
    write(w / "out" / RUN, "[1, 2]\n")
    refused(w, ["batch", "-q", "-t", "mt.txt", "-o", "out", "--restart"], 1, "run.json", "stays")


def test_restart_refused_later_keeps_the_results(w: Path) -> None:
    """--restart with an option refused after the corpus is read removes nothing."""
    write(w / "out" / SEGMENTS, "{}\n")
    write(w / "out" / RUN, '{"format": "mtqa-batch/2"}\n')
    write(w / "out" / ".lock", "")
    args = ["batch", "-q", "-t", "mt.txt", "-o", "out", "--restart", "--baseline", "nope"]
    refused(w, args, 1, "nope")


def test_restart_removes_only_what_the_run_recorded(scorer: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    corpus = open_corpus(targets=[str(BATCH / "facebook.txt")])
    first = run_batch(corpus, BatchOptions(output_dir=out), scorer=scorer)
    recorded = json.loads((out / RUN).read_text())["files"]
    assert SEGMENTS in recorded and first.scored > 0
    (out / "notes.md").write_text("mine\n")
    again = run_batch(corpus, BatchOptions(output_dir=out, restart=True), scorer=scorer)
    assert again.scored == first.scored and again.resumed == 0  # everything was removed
    # A record that names only summary.json: the results log stays, and the run resumes.
    info = json.loads((out / RUN).read_text())
    (out / RUN).write_text(json.dumps({**info, "files": ["summary.json", "../notes.md"]}))
    third = run_batch(corpus, BatchOptions(output_dir=out, restart=True), scorer=scorer)
    assert third.scored == 0 and third.resumed == first.scored
    assert (out / "notes.md").read_text() == "mine\n" and (tmp_path / "out").is_dir()


def test_run_batch_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    """The Python API is guarded too, not only the CLI."""
    rows = write(tmp_path / "out" / "documents.jsonl", jsonl([ROW]))
    with pytest.raises(InputError, match="is an input of this run"):
        run_batch(open_corpus(str(rows)), BatchOptions(output_dir=tmp_path / "out"))
    assert rows.read_text() == jsonl([ROW])


# ---------------------------------------------------------------- empty and `-` outputs

EMPTY_OR_DASH = {
    "score-o-empty": (["score", "-q", "in.txt", "-o", ""], ("--output", "empty")),
    "score-report-empty": (["score", "-q", "in.txt", "--report", ""], ("--report", "empty")),
    "score-report-dash": (["score", "-q", "in.txt", "--report", "-"], ("--report -",)),
    "batch-o-empty": (["batch", "-q", "-t", "mt.txt", "-o", ""], ("--output-dir", "empty")),
    "batch-o-dash": (["batch", "-q", "-t", "mt.txt", "-o", "-"], ("--output-dir -",)),
    "batch-report-dir-empty": (
        ["batch", "-q", "-t", "mt.txt", "-o", "out", "--report-dir", ""],
        ("--report-dir", "empty"),
    ),
    "batch-report-dir-dash": (
        ["batch", "-q", "-t", "mt.txt", "-o", "out", "--report-dir", "-"],
        ("--report-dir -",),
    ),
    "evaluate-o-empty": (["evaluate", "in.txt", "-o", ""], ("--output", "empty")),
    "calibrate-o-empty": (
        ["calibrate", "--train", "in.txt", "--dev", "in.txt", "-o", ""],
        ("--output", "empty"),
    ),
}


@pytest.mark.parametrize("name", list(EMPTY_OR_DASH))
def test_empty_or_dash_output_name_is_refused(w: Path, name: str) -> None:
    args, needle = EMPTY_OR_DASH[name]
    refused(w, args, 2, *needle)
    assert not (w / "-").exists()


# ------------------------------------------------------------------- JSON nesting depth


@pytest.mark.parametrize("data", [DEEP, DEEP.encode(), '{"a":' * 65 + "1" + "}" * 65])
def test_loads_bounded_refuses_deep_json(data: str | bytes) -> None:
    with pytest.raises(JsonDepthError, match="nested deeper than 64"):
        loads_bounded(data)


def test_loads_bounded_keeps_what_is_not_deep() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads_bounded(at_limit) is not None
    brackets_in_a_string = json.dumps({"text": "[" * 1000, "list": [[1, 2]] * 100})
    assert loads_bounded(brackets_in_a_string) == json.loads(brackets_in_a_string)


def _deep_mqm() -> str:
    return jsonl(mqm_rows()[:1]) + DEEP + "\n"


DEEP_READERS = {
    "batch-config": (
        {"deep.json": DEEP},
        ["batch", "-q", "-t", "mt.txt", "-c", "deep.json", "-o", "out"],
        ("deep.json", "nested deeper"),
    ),
    "score-config": (
        {"deep.json": DEEP},
        ["score", "-q", "in.txt", "-c", "deep.json", "-m", "/nonexistent/m.gguf"],
        ("deep.json", "nested deeper"),
    ),
    "batch-jsonl-row": (
        {"rows.jsonl": jsonl([ROW]) + '{"doc": ' + DEEP + ', "target": "x"}\n'},
        ["batch", "-q", "rows.jsonl", "-o", "out"],
        ("rows.jsonl line 2", "nested deeper"),
    ),
    "evaluate-line": (
        {"dev.jsonl": _deep_mqm()},
        ["evaluate", "dev.jsonl", "-m", "/nonexistent/m.gguf"],
        ("dev.jsonl line 2", "nested deeper"),
    ),
    "calibrate-train-row": (
        {"train.jsonl": _deep_mqm(), "dev.jsonl": jsonl(mqm_rows())},
        ["calibrate", "--train", "train.jsonl", "--dev", "dev.jsonl", "-o", "c.json"],
        ("train.jsonl line 2", "nested deeper"),
    ),
    "run-json-of-earlier-results": (
        {"out/segments.jsonl": "{}\n", "out/run.json": DEEP, "out/.lock": ""},
        ["batch", "-q", "-t", "mt.txt", "-o", "out"],
        ("run.json", "nested deeper"),
    ),
}


@pytest.mark.parametrize("name", list(DEEP_READERS))
def test_deep_json_is_one_line_in_each_reader(w: Path, name: str) -> None:
    files, args, needle = DEEP_READERS[name]
    for path, content in files.items():
        write(w / path, content)
    refused(w, args, 1, *needle)


def test_deep_json_in_a_model_folder_is_one_line(w: Path) -> None:
    folder = w / "model"
    write(folder / "config.json", DEEP)
    write(folder / "model.safetensors", (2).to_bytes(8, "little") + b"{}")
    refused(w, ["score", "-q", "in.txt", "-m", str(folder)], 1, "model")


def test_deep_safetensors_header_is_not_safetensors(tmp_path: Path) -> None:
    header = DEEP.encode()
    path = write(tmp_path / "m.safetensors", len(header).to_bytes(8, "little") + header)
    assert "not a safetensors file" in str(safetensors_problem(path))


def test_deep_line_in_the_results_log_ends_its_usable_part(tmp_path: Path) -> None:
    log = write(tmp_path / SEGMENTS, DEEP + "\n")
    blocks, good_end, size = read_log(log)
    assert blocks == {} and good_end == 0 and size == len(DEEP) + 1


def test_deep_or_misshapen_summary_is_written_again(tmp_path: Path) -> None:
    corpus = open_corpus(targets=[str(BATCH / "facebook.txt")])
    write(tmp_path / "documents.jsonl", "")
    for content in (DEEP, "[1]", '{"totals": 3}'):
        write(tmp_path / "summary.json", content)
        assert reusable_summary(tmp_path, corpus, BatchOptions(tmp_path), {}, 1) is None


# ------------------------------------------------------------------------- damaged caches

DAMAGED_HASHES = {
    "a-list": "[1, 2]",
    "model-maps-to-a-number": None,  # filled in with the file's own key
    "nested-values": '{"k": {"a": [1]}}',
    "deep": DEEP,
    "not-json": "{not json",
}


@pytest.mark.parametrize("name", list(DAMAGED_HASHES))
def test_damaged_hash_memo_is_rebuilt(w: Path, tmp_path: Path, name: str) -> None:
    data = write(tmp_path / "data.bin", b"some model bytes")
    memo = tmp_path / "cache" / "hashes.json"
    info = data.stat()
    key = f"{data.resolve()}|{info.st_size}|{info.st_mtime_ns}"  # how the memo names a file
    write(memo, DAMAGED_HASHES[name] or json.dumps({key: 3}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        digest = file_sha256(data)
    assert digest == hashlib.sha256(b"some model bytes").hexdigest()
    assert len(caught) == 1 and "hashes.json" in str(caught[0].message), caught
    assert "rebuilding" in str(caught[0].message)
    assert json.loads(memo.read_text()) == {key: digest}


@pytest.mark.parametrize("content", [b"\x80\x04garbage", pickle.dumps({"not": "evidence"})])
def test_damaged_evidence_cache_is_a_miss(tmp_path: Path, content: bytes) -> None:
    from mtqa.calibration.evidence import _read_evidence

    cache = write(tmp_path / "dev-abc.pkl", content)
    with pytest.warns(RuntimeWarning, match="dev-abc.pkl is damaged"):
        assert _read_evidence(cache) is None
    assert _read_evidence(tmp_path / "missing.pkl") is None


def test_source_cache_of_another_kind_is_a_miss(w: Path, tmp_path: Path) -> None:
    from mtqa.source.encoder import _cached

    key = "some texts"
    name = hashlib.sha256(key.encode()).hexdigest()[:32]
    path = tmp_path / "cache" / "source" / f"cosines-{name}.npy"
    path.parent.mkdir(parents=True)
    np.save(path, np.array(["a", "b"]))
    result = _cached("cosines", key, lambda: np.array([0.5, 0.25]))
    assert result.tolist() == [0.5, 0.25]
    assert np.load(path).tolist() == [0.5, 0.25]


# ------------------------------------------------------------------ conversion leftovers


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_stale_conversion_folders_are_cleaned(tmp_path: Path) -> None:
    models = tmp_path / "models"
    now = time.time()
    folders = {
        "dead-owner": f".convert-{_dead_pid()}-a1b2",
        "live-owner": f".convert-{os.getpid()}-c3d4",
        "live-owner-but-old": f".convert-{os.getpid()}-e5f6",
        "unknown-owner-old": ".convert-k3j2_a9x",
        "unknown-owner-young": ".convert-z9y8_w7v",
        "a-converted-model": "0123456789abcdef",
    }
    for name in folders.values():
        write(models / name / "model.safetensors", b"partial")
    for key, age in (("live-owner-but-old", STALE_SECONDS + 60), ("unknown-owner-old", 7200)):
        old = now - age
        os.utime(models / folders[key], (old, old))
    removed = clean_stale_conversions(models, now=now)
    gone = {key for key, name in folders.items() if not (models / name).exists()}
    assert gone == {"dead-owner", "live-owner-but-old", "unknown-owner-old"}
    assert sorted(p.name for p in removed) == sorted(folders[k] for k in gone)
    assert clean_stale_conversions(tmp_path / "no-such-folder") == []


def _cache_beside_the_real_model(tmp_path: Path) -> Path:
    """A new cache whose models/ links to the real cache's conversion of the default model."""
    digest = hashlib.sha256(embedded_gguf().read_bytes()).hexdigest()
    converted = REAL_CACHE / "models" / digest[:16]
    if not (converted / "config.json").is_file():
        pytest.skip("no converted default model in the real cache")
    cache = tmp_path / "cache2"
    (cache / "models").mkdir(parents=True)
    (cache / "models" / converted.name).symlink_to(converted)
    return cache


@pytest.mark.model
def test_damaged_cache_and_leftovers_at_the_next_start(scorer: Any, tmp_path: Path) -> None:
    """`mtqa score` with a hashes.json that is a list and a killed conversion's folder: one
    warning, the hash memo rebuilt, the leftover gone, the text scored."""
    cache = _cache_beside_the_real_model(tmp_path)
    write(cache / "hashes.json", "[1, 2, 3]")
    leftover = write(cache / "models" / f".convert-{_dead_pid()}-x1y2" / "model.safetensors", "")
    text = write(tmp_path / "in.txt", SHORT)
    proc = subprocess.run(
        mtqa_cmd("score", "-q", str(text), "-f", "json"),
        capture_output=True,
        env=subprocess_env(MTQA_CACHE=str(cache)),
        timeout=600,
    )
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mtqa: warning:"), err
    assert "hashes.json" in lines[0] and "Traceback" not in err
    assert json.loads(proc.stdout)["n_sentences"] == 3
    assert isinstance(json.loads((cache / "hashes.json").read_text()), dict)
    assert not leftover.parent.exists()


# ------------------------------------------------------------------------ process faults


def _children(pid: int) -> list[int]:
    """The pids of `pid`'s child processes that are multiprocessing workers."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat_file.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(stat_file.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a reparented worker may wait for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.model
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_driver_takes_its_workers_with_it(scorer: Any, tmp_path: Path) -> None:
    segments = [line for line in MT.split("\n")[:8] if line]
    rows = [{"doc": f"d{n}", "system": "s", "target": t} for n in range(40) for t in segments]
    corpus = write(tmp_path / "rows.jsonl", jsonl(rows))
    out = tmp_path / "out"
    driver = subprocess.Popen(
        mtqa_cmd("batch", "-q", str(corpus), "-o", str(out), "-j", "2", "--threads", "1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=subprocess_env(),
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            len(workers) == 2 and (out / SEGMENTS).is_file() and (out / SEGMENTS).stat().st_size
        ):
            workers = _children(driver.pid) or workers
            assert driver.poll() is None, "the run ended before it could be killed"
            time.sleep(0.2)
        assert len(workers) == 2, workers
        driver.kill()  # SIGKILL: the driver can clean nothing up
        driver.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_running(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_running(pid) for pid in workers), "workers outlived their driver"
    finally:
        driver.kill()
        for pid in workers:
            with contextlib.suppress(OSError):
                if _running(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.mark.model
def test_closed_pipe_exits_141_quietly(scorer: Any, tmp_path: Path) -> None:
    """`mtqa score FILE | head`: the text view's reader is gone; exit 141, as docs/cli.md says."""
    text = write(tmp_path / "in.txt", SHORT)
    proc = subprocess.Popen(
        mtqa_cmd("score", "-q", str(text)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode(errors="replace")
    assert proc.wait(timeout=600) == 141, err
    assert not err.strip(), err


def test_full_disk_names_the_results_log(tmp_path: Path) -> None:
    """A write that fails without a file name (as a full disk does) names the log's path."""
    log = ResultsLog(Path("/dev/full"))
    with pytest.raises(OSError) as caught:
        log.append([{"text": "x" * 10_000}])
    assert describe_os_error(caught.value) == "/dev/full: no space left on device"
    with contextlib.suppress(OSError):
        log.close()


@pytest.mark.model
def test_file_size_limit_mid_batch_names_the_file(scorer: Any, tmp_path: Path) -> None:
    """A real write fault mid-batch (RLIMIT_FSIZE: EFBIG, as a full disk gives ENOSPC): the
    one line names segments.jsonl, not standard output."""
    out = tmp_path / "out"
    limit = 4096

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        mtqa_cmd("batch", "-q", "-t", str(BATCH / "facebook.txt"), "-o", str(out)),
        capture_output=True,
        env=subprocess_env(),
        preexec_fn=small_files,  # noqa: PLW1509
        timeout=600,
    )
    err = proc.stderr.decode(errors="replace")
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, err
    assert lines[0] == f"mtqa: error: {out / SEGMENTS}: file too large", err


# ------------------------------------------------------- property: hostile batch JSONL rows

SENTENCES = ["The cat sat on the mat.", "Prices rose 3.5% in May.", "北京 hosted talks.", ""]
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(SENTENCES),
)
value = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
field_value = st.one_of(st.sampled_from(SENTENCES), st.text(max_size=40), value)
name = st.one_of(st.text(min_size=1, max_size=12), st.integers(), st.sampled_from(["A", "sysB"]))
# Rows a reader accepts, with hostile content: any names, Unicode targets, extra fields of any
# shape. A run of such rows scores; one hostile line anywhere refuses the whole corpus.
scoreable = st.fixed_dictionaries(
    {
        "doc": name,
        "target": st.one_of(
            st.sampled_from(SENTENCES[:3]),
            st.text(min_size=1, max_size=60).filter(lambda t: "\n" not in t and "\r" not in t),
        ),
    },
    optional={"system": st.text(min_size=1, max_size=12), "extra": value, "source": st.text()},
)
row = st.fixed_dictionaries(
    {},
    optional={
        "doc": field_value,
        "system": field_value,
        "target": st.one_of(st.sampled_from(SENTENCES), field_value),
        "source": field_value,
        "reference": field_value,
        "id": value,
    },
)
hostile = st.one_of(
    row.map(lambda r: json.dumps(r, ensure_ascii=False)),
    row.map(json.dumps),
    value.map(json.dumps),
    st.integers(1, 100_000).map(lambda d: '{"target": ' + "[" * d + "]" * d + "}"),
    st.text(max_size=30).filter(lambda t: "\n" not in t and "\r" not in t),
)
good = scoreable.map(lambda r: json.dumps(r, ensure_ascii=False))
corpora = st.one_of(st.lists(good, min_size=1, max_size=4), st.lists(good | hostile, max_size=4))


@settings(
    max_examples=30,
    deadline=None,
    database=None,  # nothing written into the repository
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=corpora)
def test_batch_rows_never_reach_an_internal_error(scorer: Any, w: Path, lines: list[str]) -> None:
    work = Path(tempfile.mkdtemp(dir=w))
    with contextlib.chdir(work):
        write(work / "rows.jsonl", "".join(line + "\n" for line in lines))
        before = snapshot(work)
        result = CliRunner().invoke(main, ["batch", "-q", "rows.jsonl", "-o", "out"])
        after = {k: v for k, v in snapshot(work).items() if k != "out" and not k.startswith("out/")}
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    assert after == before, "a batch run changed files outside its output folder"
    if result.exit_code == 0:
        assert (work / "out" / SEGMENTS).is_file()
    else:
        check(result, 1)
    shutil.rmtree(work)
