"""`models.logprobs.top_entries` is `torch.topk` (the same values and indices), found through the
best blocks first: on rows of real log-probs, on random rows with and without ties, and on the
rows where the shortcut must hand over to `topk` (ties, NaN, -inf, vocabularies it cannot cut)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from mtqa.models import logprobs
from mtqa.models.logprobs import top_entries

pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def same_as_topk(logp: torch.Tensor, k: int) -> None:
    values, indices = top_entries(logp, k)
    expected_values, expected_indices = logp.topk(k, dim=-1)
    assert torch.equal(values.view(torch.int32), expected_values.view(torch.int32))  # bit for bit
    assert torch.equal(indices, expected_indices)


def test_real_log_probs_of_the_seed(scorer: Any, seed_text: str) -> None:
    lm = scorer.lm
    ids, _ = logprobs.tokenize(lm, seed_text)
    with torch.inference_mode():
        states = lm.model.base_model(input_ids=torch.tensor([[lm.start_token_id, *ids]]))
        logits = lm.model.get_output_embeddings()(states.last_hidden_state[0]).float()
        logp = torch.log_softmax(logits, dim=-1)
    assert logp.shape[1] % logprobs.TOPK_BLOCK == 0  # the shortcut, not the hand-over, is tested
    for k in (1, 5, 20):
        same_as_topk(logp, k)


@pytest.mark.parametrize("vocab", [49152, 12800, 1000, 256])
@pytest.mark.parametrize("k", [1, 20])
def test_random_rows(vocab: int, k: int) -> None:
    generator = torch.Generator().manual_seed(vocab + k)
    logits = torch.randn(64, vocab, generator=generator) * 4
    same_as_topk(torch.log_softmax(logits, dim=-1), k)


def test_rows_the_shortcut_hands_to_topk() -> None:
    generator = torch.Generator().manual_seed(7)
    logp = torch.log_softmax(torch.randn(6, 49152, generator=generator), dim=-1)
    logp[0, [5, 900, 40000]] = 0.0  # a three-way tie at the top
    logp[1, torch.arange(21) * 1000] = -0.5  # the 20th and the 21st are equal
    logp[2] = -1.0  # every entry equal
    logp[3, 123] = float("nan")
    logp[4, 10:] = float("-inf")  # fewer finite entries than k + 1
    for k in (1, 20):
        same_as_topk(logp, k)


@settings(max_examples=300, deadline=None)
@given(
    k=st.integers(1, 6),
    extra_blocks=st.integers(0, 6),
    rows=st.integers(1, 4),
    spread=st.sampled_from([3, 50, 10_000]),
    data=st.data(),
)
def test_small_vocabularies_with_many_ties(
    k: int, extra_blocks: int, rows: int, spread: int, data: Any
) -> None:
    """Small blocks, so small rows reach the shortcut; values from a narrow range tie often."""
    vocab = 4 * (4 * (k + 1) + extra_blocks)
    values = data.draw(
        st.lists(st.integers(-spread, 0), min_size=rows * vocab, max_size=rows * vocab)
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logprobs, "TOPK_BLOCK", 4)
        same_as_topk(torch.tensor(values, dtype=torch.float32).reshape(rows, vocab) / 7, k)
