"""`--device`: auto picks CUDA only when torch can use it; CPU output is unchanged; a GPU run
agrees with CPU within a stated tolerance (skipped where there is no GPU)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mtqa import Scorer
from mtqa.core.errors import UsageError
from mtqa.models import check_device_spec, resolve_device

SEED = Path(__file__).parent / "data" / "seed_article.txt"
GPU_SCORE_TOLERANCE = 0.02  # bf16 vs fp32 on the sentence score (0-1)


def mtqa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mtqa.cli", *args], capture_output=True, timeout=600
    )


def test_device_specs() -> None:
    for spec in ("auto", "cpu", "cuda", "cuda:0", "cuda:12"):
        assert check_device_spec(spec) == spec
    for spec in ("gpu", "CUDA", "cuda:", "cuda:x", "mps", ""):
        with pytest.raises(UsageError, match="use auto, cpu, cuda or cuda:N"):
            check_device_spec(spec)
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without")
def test_cuda_without_a_gpu_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no CUDA device is usable here"):
        resolve_device("cuda")
    for args in (
        ["score", str(SEED), "--device", "cuda"],
        [
            "batch",
            str(SEED.parent / "batch" / "docs"),
            "-o",
            str(tmp_path / "o"),
            "--device",
            "cuda:1",
        ],  # fmt: skip
        ["score", str(SEED), "--device", "gpu"],
    ):
        proc = mtqa(*args)
        err = proc.stderr.decode().strip().splitlines()
        assert proc.returncode == 2 and err[-1].startswith("mtqa: error: --device"), err
        assert "Traceback" not in proc.stderr.decode()
    assert not (tmp_path / "o").exists()


@pytest.mark.model
def test_cpu_device_is_the_default_path(scorer: Scorer) -> None:
    """--device cpu (what auto is here) gives the same bytes as the session scorer's run."""
    proc = mtqa("score", str(SEED), "--device", "cpu", "-f", "json", "-q")
    assert proc.returncode in (0, 3), proc.stderr.decode()
    on_cpu = Scorer.load(device="cpu")
    assert on_cpu.lm.device == "cpu"
    assert next(on_cpu.lm.model.parameters()).dtype == torch.float32
    assert on_cpu.signature.format() == scorer.signature.format()  # no device tag on CPU
    text = SEED.read_text(encoding="utf-8")
    assert [s.score for s in on_cpu.score(text).sentences] == [
        s.score for s in scorer.score(text).sentences
    ]


@pytest.mark.model
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_gpu_scores_agree_with_cpu(scorer: Scorer) -> None:
    on_gpu = Scorer.load(device="cuda")
    assert on_gpu.lm.device == "cuda" and "+cuda-" in on_gpu.signature.format()
    texts = [SEED.read_text(encoding="utf-8")]
    texts += [
        p.read_text(encoding="utf-8") for p in sorted((SEED.parent / "batch" / "docs").iterdir())
    ]
    for text in texts:
        cpu, gpu = scorer.score(text), on_gpu.score(text)
        for a, b in zip(cpu.sentences, gpu.sentences, strict=True):
            assert abs(a.score - b.score) <= GPU_SCORE_TOLERANCE, (a.text, a.score, b.score)
            assert a.flagged == b.flagged, a.text
