"""`mtqa calibrate` and `mtqa evaluate` end to end on a small real MQM sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).parent / "data" / "mqm_small.jsonl"


def run(*args: str, env_cache: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "MTQA_CACHE": str(env_cache)}
    return subprocess.run(
        [sys.executable, "-m", "mtqa.cli", *args], capture_output=True, text=True, env=env
    )


def _shared_model_cache(tmp: Path) -> Path:
    """A fresh evidence cache that reuses the converted model (symlinked) to stay fast."""
    from mtqa.core.files import cache_dir

    cache = tmp / "cache"
    cache.mkdir()
    (cache / "models").symlink_to(cache_dir() / "models")
    if (cache_dir() / "hashes.json").exists():
        (cache / "hashes.json").write_text((cache_dir() / "hashes.json").read_text())
    return cache


def calibrate_sample(out: Path, cache: Path, *flags: str) -> None:
    """`mtqa calibrate` with the small sample as both train and dev."""
    proc = run(
        "calibrate",
        *flags,
        "--train",
        str(SAMPLE),
        "--dev",
        str(SAMPLE),
        "-o",
        str(out),
        env_cache=cache,
    )
    assert proc.returncode == 0, proc.stderr


def test_calibrate_is_reproducible_and_loadable(tmp_path: Path, scorer) -> None:
    cache = _shared_model_cache(tmp_path)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        calibrate_sample(out, cache)
    assert first.read_text() == second.read_text()
    config = json.loads(first.read_text())
    assert len(config["weights"]) == len(config["features"]) == len(config["means"])
    assert set(config["thresholds"]) == {"strict", "standard", "lenient"}
    assert config["calibration"]["train"]["rows"] == 60
    # The written config is usable by `mtqa score`.
    doc = tmp_path / "doc.txt"
    doc.write_text("The minister said the talks were useful. They will meet again.\n")
    proc = run("score", str(doc), "-q", "-f", "json", "-c", str(first), env_cache=cache)
    assert proc.returncode == 0, proc.stderr
    # A config given by path is named after its file: a copy never passes for another.
    assert json.loads(proc.stdout)["signature"]["config"] == first.stem


def test_evaluate_prints_mtqa_and_baselines(tmp_path: Path, scorer) -> None:
    cache = _shared_model_cache(tmp_path)
    out = tmp_path / "figures.json"
    proc = run("evaluate", str(SAMPLE), "-o", str(out), env_cache=cache)
    assert proc.returncode == 0, proc.stderr
    for label in ("mtqa", "length", "chrf", "whole_segment_baseline", "standard"):
        assert label in proc.stdout
    figures = json.loads(out.read_text())
    assert figures["rows"] == 60
    assert 0.0 <= figures["segment"]["mtqa"]["auroc_major"] <= 1.0


def test_evaluate_missing_file_is_one_line(tmp_path: Path) -> None:
    proc = run("evaluate", str(tmp_path / "nope.jsonl"), env_cache=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("mtqa: error: annotated data not found")


def test_calibrate_peers_and_evaluate_with_them(tmp_path: Path, scorer) -> None:
    cache = _shared_model_cache(tmp_path)
    out = tmp_path / "peers.json"
    calibrate_sample(out, cache, "--peers")
    config = json.loads(out.read_text())
    assert config["name"] == "default-peers" and config["calibration"]["base"] == "default"
    assert "rel_total_surprisal" in config["features"] and "peer_chrf" in config["features"]
    assert config["calibration"]["train"]["rows"] == 60  # 12 items x 5 systems: all have peers
    proc = run("evaluate", str(SAMPLE), "-c", str(out), env_cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "60 rows" in proc.stdout
