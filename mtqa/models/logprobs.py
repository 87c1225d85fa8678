"""Token log-probabilities from a causal LM, reading each text as running prose.

A text is read in one forward pass when it fits the window; longer texts are read in
overlapping windows where every token is scored exactly once, with at least `overlap` tokens of
preceding context. Logits are projected in chunks so a large vocabulary never needs a
[tokens x vocab] matrix for a whole window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.timing import timed
from .loading import LoadedModel

#: Rows a softmax reads at once, and rows the output head projects at once (at most 1024 x
#: vocab floats, 200 MB for a 49k vocabulary).
LOGIT_CHUNK = 256
HEAD_CHUNK = 1024
#: `top_entries` looks for the best blocks of this many vocabulary entries first.
TOPK_BLOCK = 128


@dataclass
class TokenScores:
    """Per-token evidence for one text; arrays are aligned, one row per text token."""

    ids: np.ndarray  # token ids
    starts: np.ndarray  # character offset where each token starts (may include a leading space)
    ends: np.ndarray  # character offset where it ends
    logprob: np.ndarray  # natural-log P(token | everything before it)
    top_ids: np.ndarray  # [n, k] the model's most likely tokens at each position
    top_logprob: np.ndarray  # [n, k] their log-probabilities
    hidden: np.ndarray | None = None  # [n, d] final hidden state after reading the token

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@timed("tokenize")
def tokenize(lm: LoadedModel, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    enc = lm.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]


@timed("model")
def score_text(
    lm: LoadedModel,
    text: str,
    window: int = 2048,
    overlap: int = 512,
    top_k: int = 5,
    keep_hidden: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> TokenScores:
    """Score every token of `text` given all (or, past the window, `overlap`) preceding text."""
    import torch

    ids, offsets = tokenize(lm, text)
    n = len(ids)
    window = max(8, min(window, lm.max_context))
    overlap = max(0, min(overlap, window // 2))
    logprob = np.zeros(n, dtype=np.float32)
    top_ids = np.zeros((n, top_k), dtype=np.int64)
    top_lp = np.zeros((n, top_k), dtype=np.float32)
    hidden: np.ndarray | None = None
    sequence = [lm.start_token_id] + ids  # position p predicts sequence[p + 1] = ids[p]
    scored = 0  # text tokens scored so far
    while scored < n:
        # Past the first window, `overlap` tokens of context, and at least the one token that
        # predicts the next (an overlap of 0 reads the text in disjoint windows).
        ctx_start = 0 if scored == 0 else max(0, scored + 1 - max(1, overlap))
        stop = min(n, ctx_start + window - 1)  # window covers sequence[ctx_start : stop + 1]
        chunk = torch.tensor([sequence[ctx_start : stop + 1]], dtype=torch.long, device=lm.device)
        with torch.inference_mode():
            states = lm.model.base_model(input_ids=chunk).last_hidden_state[0]
        first = scored - ctx_start  # row in `states` that predicts ids[scored]
        rows = states[first : stop - ctx_start]
        targets = torch.tensor(ids[scored:stop], device=lm.device)
        lp, tid, tlp = project_states(lm, rows, targets, top_k)
        logprob[scored:stop], top_ids[scored:stop], top_lp[scored:stop] = lp, tid, tlp
        if keep_hidden:
            after = states[first + 1 : stop - ctx_start + 1].float().cpu().numpy()
            if hidden is None:
                hidden = np.zeros((n, after.shape[1]), dtype=np.float32)
            hidden[scored:stop] = after
        scored = stop
        if on_progress:
            on_progress(scored, n)
    return _token_scores(ids, offsets, logprob, top_ids, top_lp, hidden)


def _token_scores(
    ids: list[int],
    offsets: list[tuple[int, int]],
    logprob: np.ndarray,
    top_ids: np.ndarray,
    top_lp: np.ndarray,
    hidden: np.ndarray | None,
) -> TokenScores:
    starts = np.array([o[0] for o in offsets], dtype=np.int64)
    ends = np.array([o[1] for o in offsets], dtype=np.int64)
    return TokenScores(
        np.array(ids, dtype=np.int64), starts, ends, logprob, top_ids, top_lp, hidden
    )


def project_states(lm: LoadedModel, rows, targets, top_k: int):  # type: ignore[no-untyped-def]
    """Hidden states -> log-probs of the actual next tokens and the top-k alternatives.

    The output head runs on up to `HEAD_CHUNK` rows at a time and the softmax on `LOGIT_CHUNK`
    of them: each matrix product repacks the [vocab x hidden] head, so fewer, larger products
    are faster (the seed: about 9% of this step), while the softmax stays on a block that fits
    the cache. The numbers do not depend on the softmax's chunk, nor on the head's while its
    products have hundreds of rows; BLAS may take another kernel for a product of a few rows,
    which moves the last bits (tests/test_llama.py). The top-k are `top_entries`."""
    import torch

    head = lm.model.get_output_embeddings()
    softcap = getattr(lm.model.config, "final_logit_softcapping", None)
    out_lp, out_ids, out_tlp = [], [], []
    with torch.inference_mode():
        for outer in range(0, rows.shape[0], HEAD_CHUNK):
            block = head(rows[outer : outer + HEAD_CHUNK]).float()
            if softcap:
                block = torch.tanh(block / softcap) * softcap
            for begin in range(0, block.shape[0], LOGIT_CHUNK):
                logp = torch.log_softmax(block[begin : begin + LOGIT_CHUNK], dim=-1)
                tgt = targets[outer + begin : outer + begin + logp.shape[0]]
                out_lp.append(logp.gather(1, tgt[:, None])[:, 0])
                values, indices = top_entries(logp, top_k)
                out_ids.append(indices)
                out_tlp.append(values)
    if not out_lp:
        return (np.zeros(0), np.zeros((0, top_k)), np.zeros((0, top_k)))
    return (
        torch.cat(out_lp).cpu().numpy(),
        torch.cat(out_ids).cpu().numpy(),
        torch.cat(out_tlp).cpu().numpy(),
    )


def top_entries(logp, k: int):  # type: ignore[no-untyped-def]
    """`logp.topk(k, dim=-1)`, the same values and indices, in half its time on a 49k vocabulary.

    Each row's `k + 1` best entries lie in its `k + 1` blocks of `TOPK_BLOCK` entries with the
    largest maxima (an entry outside them is beaten by those `k + 1` maxima), so the top entries
    of those blocks are the row's. Where they hold no ties (and no NaN), the row's top `k` are
    unique and this is exactly what `topk` returns; a row with a tie is given to `topk` itself,
    so its order of equal values stays `topk`'s."""
    import torch

    rows, vocab = logp.shape
    blocks = vocab // TOPK_BLOCK
    if k < 1 or vocab % TOPK_BLOCK or blocks < 4 * (k + 1):
        return logp.topk(k, dim=-1)
    best = logp.reshape(rows, blocks, TOPK_BLOCK).amax(-1).topk(k + 1, dim=-1).indices
    offsets = torch.arange(TOPK_BLOCK, device=logp.device)
    columns = (best[:, :, None] * TOPK_BLOCK + offsets).reshape(rows, -1)
    values, at = logp.gather(1, columns).topk(k + 1, dim=-1)
    indices = columns.gather(1, at)
    unsure = (values[:, 1:] == values[:, :-1]).any(-1) | values.isnan().any(-1)
    values, indices = values[:, :k].contiguous(), indices[:, :k].contiguous()
    if bool(unsure.any()):
        again = unsure.nonzero()[:, 0]
        values[again], indices[again] = logp[again].topk(k, dim=-1)
    return values, indices


@timed("model")
def score_texts_batched(
    lm: LoadedModel,
    texts: Sequence[str],
    window: int = 2048,
    top_k: int = 5,
    keep_hidden: bool = False,
    token_budget: int = 16384,
) -> list[TokenScores | None]:
    """Score texts that fit one window in length-bucketed batches of at most `token_budget`
    tokens (padded), for a GPU; None for a text longer than the window (read it with
    `score_text`). Padding goes on the right, so a causal model's states for the real tokens
    do not see it; the numbers equal one text a pass up to floating-point reordering."""
    import torch

    window = max(8, min(window, lm.max_context))
    encoded = [tokenize(lm, text) for text in texts]
    out: list[TokenScores | None] = [None] * len(texts)
    fits = [i for i, (ids, _) in enumerate(encoded) if 0 < len(ids) <= window - 1]
    fits.sort(key=lambda i: -len(encoded[i][0]))  # longest first: each batch pads little
    while fits:
        width = len(encoded[fits[0]][0]) + 1
        size = max(1, min(len(fits), token_budget // width))
        batch, fits = fits[:size], fits[size:]
        rows = [[lm.start_token_id, *encoded[i][0]] for i in batch]
        padded = [row + [lm.start_token_id] * (width - len(row)) for row in rows]
        with torch.inference_mode():
            inputs = torch.tensor(padded, dtype=torch.long, device=lm.device)
            states = lm.model.base_model(input_ids=inputs).last_hidden_state
        for row, i in enumerate(batch):
            ids, offsets = encoded[i]
            n = len(ids)
            targets = torch.tensor(ids, device=lm.device)
            lp, tid, tlp = project_states(lm, states[row, :n], targets, top_k)
            hidden = states[row, 1 : n + 1].float().cpu().numpy() if keep_hidden else None
            out[i] = _token_scores(
                ids, offsets, lp.astype(np.float32), tid.astype(np.int64), tlp, hidden
            )
    return out
