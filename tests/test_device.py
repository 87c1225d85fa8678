"""`--device`: auto picks CUDA only when torch can use it; CPU output is unchanged; a GPU run
agrees with CPU within a stated tolerance (skipped where there is no GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from cli_run import mtqa

from mtqa import Scorer
from mtqa.core.errors import UsageError
from mtqa.models import PRECISIONS, check_device_spec, resolve_device
from mtqa.models.device import device_dtype

SEED = Path(__file__).parent / "data" / "seed_article.txt"
GPU_SCORE_TOLERANCE = 0.005  # GPU fp32 vs CPU fp32 on the sentence score (0-1)
# bf16 vs CPU fp32, measured on an H200 (benchmarks/gpu.py): seed max 0.066; MQM dev median
# 0.003, 99th percentile 0.033, max 0.21.
HALF_PRECISION_TOLERANCE = 0.1


def test_device_specs() -> None:
    for spec in ("auto", "cpu", "cuda", "cuda:0", "cuda:12"):
        assert check_device_spec(spec) == spec
    for spec in ("gpu", "CUDA", "cuda:", "cuda:x", "mps", ""):
        with pytest.raises(UsageError, match="use auto, cpu, cuda or cuda:N"):
            check_device_spec(spec)
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    for precision in PRECISIONS:  # the CPU is fp32 whatever is asked
        assert device_dtype("cpu", precision) == torch.float32
    with pytest.raises(UsageError, match="use fp32, bf16, fp16"):
        device_dtype("cuda", "int8")


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


def _gpu_texts() -> list[str]:
    texts = [SEED.read_text(encoding="utf-8")]
    docs = sorted((SEED.parent / "batch" / "docs").iterdir())
    return texts + [p.read_text(encoding="utf-8") for p in docs]


@pytest.mark.model
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_gpu_scores_agree_with_cpu(scorer: Scorer) -> None:
    """fp32 on the GPU (the default there): the CPU's scores within GPU_SCORE_TOLERANCE and
    the same flag decisions on the seed and tests/data."""
    on_gpu = Scorer.load(device="cuda")
    assert on_gpu.lm.device == "cuda" and "+cuda-float32" in on_gpu.signature.format()
    for text in _gpu_texts():
        cpu, gpu = scorer.score(text), on_gpu.score(text)
        for a, b in zip(cpu.sentences, gpu.sentences, strict=True):
            assert abs(a.score - b.score) <= GPU_SCORE_TOLERANCE, (a.text, a.score, b.score)
            assert a.flagged == b.flagged, (a.text, a.score, b.score)


@pytest.mark.model
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_gpu_half_precision_is_asked_for_and_said(scorer: Scorer) -> None:
    """bf16 only when asked: the signature says so, and scores stay near the CPU's (within
    HALF_PRECISION_TOLERANCE; flags may move near the threshold)."""
    on_gpu = Scorer.load(device="cuda", precision="bf16")
    assert "+cuda-bfloat16" in on_gpu.signature.format()
    text = _gpu_texts()[0]
    for a, b in zip(scorer.score(text).sentences, on_gpu.score(text).sentences, strict=True):
        assert abs(a.score - b.score) <= HALF_PRECISION_TOLERANCE, (a.text, a.score, b.score)


@pytest.mark.model
def test_batched_reading_matches_one_pass_a_document(scorer: Scorer) -> None:
    """The GPU path's padded, length-bucketed batches, run here on the CPU: the same tokens and
    the same log-probs as one pass a document (up to float reordering), long texts left out."""
    import numpy as np

    from mtqa.models import score_text, score_texts_batched

    seed = SEED.read_text(encoding="utf-8")
    docs = [
        p.read_text(encoding="utf-8") for p in sorted((SEED.parent / "batch" / "docs").iterdir())
    ]
    texts = [seed, *docs, "A short one.", seed + "\n" + seed + "\n" + seed]
    cfg = scorer.config
    batched = score_texts_batched(
        scorer.lm, texts, window=1024, top_k=cfg.top_k, keep_hidden=True, token_budget=2048
    )
    assert batched[-1] is None  # longer than the window: read with score_text instead
    for text, got in zip(texts[:-1], batched[:-1], strict=True):
        assert got is not None
        want = score_text(scorer.lm, text, 1024, cfg.overlap, cfg.top_k, keep_hidden=True)
        assert np.array_equal(got.ids, want.ids) and np.array_equal(got.starts, want.starts)
        assert np.allclose(got.logprob, want.logprob, atol=1e-3)
        assert np.array_equal(got.top_ids[:, 0], want.top_ids[:, 0])
        assert got.hidden is not None and want.hidden is not None
        assert np.allclose(got.hidden, want.hidden, atol=1e-3)
    one_by_one = [s.score for text in docs for s in scorer.score(text).sentences]
    scorer.prefetch(docs, token_budget=2048)
    prefetched = [s.score for text in docs for s in scorer.score(text).sentences]
    assert not scorer._prefetched  # each read-ahead is used once
    assert prefetched == pytest.approx(one_by_one, abs=1e-3)


def test_loading_the_model_makes_numpy_blas_serial(scorer: Scorer) -> None:
    """Once the model is loaded, numpy's OpenBLAS runs on one thread (its spinning threads
    slowed the CPU forward passes) and torch keeps its own pool. numpy's own library is the
    one in its wheel's folder: a BLAS another package (scipy) loads after the model is not
    numpy's, and other tests in the session may load one."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    site = Path(np.__file__).resolve().parent.parent
    numpy_dirs = {site / "numpy", site / "numpy.libs"}
    numpy_blas = [lib for lib in blas if Path(lib["filepath"]).resolve().parent in numpy_dirs]
    assert numpy_blas, blas
    assert all(lib["num_threads"] == 1 for lib in numpy_blas), numpy_blas
    torch_pools = [lib for lib in threadpool_info() if "torch" in Path(lib["filepath"]).parts]
    assert all(lib["num_threads"] == torch.get_num_threads() for lib in torch_pools)
