"""`--device`: auto picks CUDA only when torch can use it; CPU output is unchanged; a GPU run
agrees with CPU within a stated tolerance (skipped where there is no GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from cli_run import mtqa

from mtqa import Scorer
from mtqa.core.errors import UsageError
from mtqa.models import check_device_spec, resolve_device

SEED = Path(__file__).parent / "data" / "seed_article.txt"
GPU_SCORE_TOLERANCE = 0.02  # bf16 vs fp32 on the sentence score (0-1)


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
