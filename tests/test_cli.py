"""The `mtqa` command as a user runs it: outputs, exit codes and bad inputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_run import mtqa

DATA = Path(__file__).parent / "data"
SEED = str(DATA / "seed_article.txt")
ROOT = Path(__file__).parent.parent


def _one_line_error(proc: subprocess.CompletedProcess, needle: str) -> None:
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("mtqa: error:")]
    assert len(lines) == 1 and needle in lines[0], err


def test_text_view_ranks_flagged_sentences() -> None:
    proc = mtqa("score", SEED, "--quiet")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "sentences flagged" in out and " 1. [" in out
    assert proc.stderr.decode() == ""


def test_json_output_file_and_gates(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    proc = mtqa("score", SEED, "-q", "-f", "json", "-o", str(out), "--fail-over-flagged", "0")
    assert proc.returncode == 3, proc.stderr.decode()
    assert "gate failed" in proc.stderr.decode()
    data = json.loads(out.read_text())
    assert data["n_flagged"] > 0
    proc = mtqa(
        "score", SEED, "-q", "-f", "json", "--fail-over-flagged", "1000", "--fail-under", "0"
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["signature"]["preset"] == "standard"
    assert mtqa("score", SEED, "-q", "-f", "json", "--fail-under", "1").returncode == 3


def test_jsonl_and_tsv_have_one_row_per_sentence(tmp_path: Path) -> None:
    jsonl = mtqa("score", SEED, "-q", "-f", "jsonl").stdout.decode().splitlines()
    assert len(jsonl) == 40 and all("signature" in json.loads(line) for line in jsonl)
    # The default gate shows no LM suggestion on the seed: let the LM suggest for every span.
    config = json.loads((ROOT / "mtqa/configs/default.json").read_text())
    every = tmp_path / "every-span.json"
    every.write_text(json.dumps({**config, "lm_suggestions": "all"}))
    tsv = mtqa("score", SEED, "-q", "-f", "tsv", "-c", str(every)).stdout.decode().splitlines()
    assert len(tsv) == 41 and tsv[0].startswith("doc_id\tindex")
    header = tsv[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in tsv[1:]]
    suggested = [r for r in rows if r["suggestions"].strip(";")]
    assert suggested, "no TSV row carries a suggestion"
    for row in suggested:  # one entry per span, in the spans' order
        assert len(row["suggestions"].split(";")) == len(row["spans"].split(";"))


def test_stdin_is_read() -> None:
    proc = mtqa("score", "-", "-q", "-f", "json", stdin=b"The cat sat on the mat. It was happy.")
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["n_sentences"] == 2


def test_usage_error_exits_2() -> None:
    proc = mtqa("score", SEED, "--preset", "nope")
    assert proc.returncode == 2
    assert mtqa("score").returncode == 2


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        ("caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
        (b"word " * 210_000, "characters long"),
    ],
    ids=["empty", "blank", "binary", "latin1", "one-megabyte-line"],
)
def test_bad_input_gives_one_line(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    _one_line_error(mtqa("score", str(path)), needle)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    _one_line_error(mtqa("score", str(tmp_path / "nope.txt")), "file not found")
    _one_line_error(mtqa("score", str(tmp_path)), "is a folder")


def test_missing_model_says_how(tmp_path: Path) -> None:
    _one_line_error(mtqa("score", SEED, "--model", str(tmp_path / "m.gguf")), "not found")


def test_non_english_text_warns(tmp_path: Path) -> None:
    path = tmp_path / "zh.txt"
    path.write_text("波兰将退出欧洲防止对女子施暴的条约。俄罗斯军队正在前进。", encoding="utf-8")
    proc = mtqa("score", str(path), "-q", "-f", "json")
    assert proc.returncode == 0
    assert "does not look like English" in proc.stderr.decode()
    assert json.loads(proc.stdout)["warnings"]


def test_source_document_exposes_an_omission() -> None:
    proc = mtqa(
        "score",
        str(DATA / "align_zh_en.txt"),
        "--source",
        str(DATA / "align_zh.txt"),
        "-q",
        "-f",
        "json",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    text = data["text"]
    omissions = [
        span
        for sentence in data["sentences"]
        for span in sentence["spans"]
        if span["reason"] == "omission"
    ]
    assert omissions and all(text[s["start"] : s["end"]] == s["text"] for s in omissions)
    assert "央行可能在下个月进一步下调利率" in omissions[0]["message"]
    assert all(sentence["source"] for sentence in data["sentences"])


AT_EXIT = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("interpreter finalized\\n"))
sys.argv = ["mtqa", *sys.argv[1:]]
from mtqa.cli import run
run()
"""


@pytest.mark.model
def test_score_ends_without_finalizing_yet_writes_everything(tmp_path: Path) -> None:
    """`mtqa score` skips the interpreter's slow teardown (torch's) once its output is flushed:
    the JSON on stdout and the report on disk are whole, the exit code kept; other commands
    exit normally, their clean-up run."""
    import sys

    report = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-c", AT_EXIT, "score", SEED, "-f", "json", "--report", str(report)],
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["sentences"]) > 20
    assert report.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert b"interpreter finalized" not in proc.stderr
    gate = subprocess.run(
        [sys.executable, "-c", AT_EXIT, "score", SEED, "--fail-over-flagged", "0", "-q"],
        capture_output=True,
        timeout=600,
    )
    assert gate.returncode == 3 and b"interpreter finalized" not in gate.stderr
    other = subprocess.run(
        [sys.executable, "-c", AT_EXIT, "batch", "--help"], capture_output=True, timeout=600
    )
    assert other.returncode == 0 and b"interpreter finalized" in other.stderr
