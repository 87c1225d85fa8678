"""The plain-torch Llama path (`mtqa.models.llama`) reads the embedded checkpoint exactly as
transformers does, and keeps transformers off the `mtqa score` start-up path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from mtqa.models import DEFAULT_MODEL
from mtqa.models.llama import (
    PlainTokenizer,
    load_plain_llama,
    plain_llama_config,
)
from mtqa.models.loading import resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def folder() -> Path:
    location = resolve(DEFAULT_MODEL)[1]
    assert isinstance(location, Path)
    return location


def test_the_embedded_model_takes_the_plain_path(folder: Path) -> None:
    cfg = plain_llama_config(folder)
    assert cfg is not None
    assert cfg.tie_word_embeddings and cfg.num_key_value_heads < cfg.num_attention_heads


@pytest.mark.model  # loads the embedded model itself
def test_plain_path_matches_transformers_bit_for_bit(folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg = plain_llama_config(folder)
    assert cfg is not None
    plain, plain_tok = load_plain_llama(folder, cfg), PlainTokenizer(folder)
    ref = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    ref_tok = AutoTokenizer.from_pretrained(str(folder))

    texts = [
        (ROOT / "examples" / "article.txt").read_text(encoding="utf-8"),
        (ROOT / "tests" / "data" / "align_zh.txt").read_text(encoding="utf-8"),
        "",
        "  leading spaces\tand a tab\n\nnew paragraph \u00a0😀 <|endoftext|>",
    ]
    for text in texts:
        for special in (False, True):
            ours = plain_tok(text, add_special_tokens=special, return_offsets_mapping=True)
            theirs = ref_tok(text, add_special_tokens=special, return_offsets_mapping=True)
            assert list(ours["input_ids"]) == list(theirs["input_ids"])
            assert [tuple(o) for o in ours["offset_mapping"]] == [
                tuple(o) for o in theirs["offset_mapping"]
            ]
    assert all(plain_tok.decode([i]) == ref_tok.decode([i]) for i in range(0, cfg.vocab_size, 7))
    for token in ("<|endoftext|>", "<|im_start|>", "not-a-token"):
        assert plain_tok.convert_tokens_to_ids(token) == ref_tok.convert_tokens_to_ids(token)
    assert (plain_tok.bos_token, plain_tok.eos_token) == (ref_tok.bos_token, ref_tok.eos_token)

    ids = plain_tok(texts[0], add_special_tokens=False)["input_ids"][:300]
    for length in (2, 17, 300):
        batch = torch.tensor([[1, *ids[: length - 1]]])
        with torch.inference_mode():
            ours_h = plain.base_model(input_ids=batch).last_hidden_state
            theirs_h = ref.base_model(input_ids=batch).last_hidden_state
            assert torch.equal(ours_h, theirs_h)
            assert torch.equal(plain(input_ids=batch).logits, ref(input_ids=batch).logits)
    assert torch.equal(plain.get_output_embeddings().weight, ref.get_output_embeddings().weight)


@pytest.mark.parametrize(
    "change",
    [
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"},
        {"attention_bias": True},
        {"hidden_act": "gelu"},
        {"rope_parameters": {"rope_type": "linear", "rope_theta": 1e4, "factor": 2.0}},
        {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}},
        {"pretraining_tp": 2},
        {"dtype": "bfloat16"},
        {"head_dim": 512},
    ],
)
def test_other_configs_go_through_transformers(
    folder: Path, tmp_path: Path, change: dict[str, object]
) -> None:
    for name in ("config.json", "tokenizer_config.json"):
        (tmp_path / name).write_text((folder / name).read_text(encoding="utf-8"))
    (tmp_path / "tokenizer.json").touch()
    (tmp_path / "model.safetensors").touch()
    assert plain_llama_config(tmp_path) is not None
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    (tmp_path / "config.json").write_text(json.dumps({**config, **change}))
    assert plain_llama_config(tmp_path) is None


def test_other_tokenizer_classes_go_through_transformers(folder: Path, tmp_path: Path) -> None:
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (tmp_path / name).touch()
    (tmp_path / "config.json").write_text((folder / "config.json").read_text(encoding="utf-8"))
    tok_cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({**tok_cfg, "tokenizer_class": "LlamaTokenizer"})
    )
    assert plain_llama_config(tmp_path) is None


@pytest.mark.model  # loads the embedded model itself
def test_scoring_start_up_imports_no_heavy_libraries() -> None:
    """`mtqa score` pays for torch only: transformers' model stack cost 3 s a run."""
    code = (
        "import sys; from mtqa.scoring import Scorer; Scorer.load().score('A short text.'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'transformers', 'accelerate', 'sklearn', 'scipy', 'pandas', 'datasets'}))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_projection_gives_the_same_numbers_for_other_chunk_sizes(
    scorer: Any, seed_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output head's and the softmax's chunk sizes are a speed choice: every log-probability
    and every top-k alternative is bit-equal (1,000+ tokens of the seed) while each head product
    has hundreds of rows. A product of a few rows may take another BLAS kernel (a 15-row
    remainder differed by about 3e-6 on a Sapphire Rapids CPU with MKL), so there the numbers
    are only close."""
    import numpy as np

    from mtqa.models import logprobs

    lm = scorer.lm
    ids, _ = logprobs.tokenize(lm, seed_text)
    with torch.inference_mode():
        states = lm.model.base_model(input_ids=torch.tensor([[lm.start_token_id, *ids]]))
    rows, targets = states.last_hidden_state[0, :-1], torch.tensor(ids)
    assert rows.shape[0] > 1000
    chosen = logprobs.project_states(lm, rows, targets, 20)
    for head_chunk, logit_chunk in ((256, 256), (2048, 2048), (2048, 37), (256, 100)):
        monkeypatch.setattr(logprobs, "HEAD_CHUNK", head_chunk)
        monkeypatch.setattr(logprobs, "LOGIT_CHUNK", logit_chunk)
        other = logprobs.project_states(lm, rows, targets, 20)
        assert all(np.array_equal(a, b) for a, b in zip(chosen, other, strict=True))
    monkeypatch.setattr(logprobs, "HEAD_CHUNK", 100)  # ten products, then one of a few rows
    logprob, _, top_logprob = logprobs.project_states(lm, rows, targets, 20)
    assert np.allclose(logprob, chosen[0], rtol=0, atol=1e-4)
    assert np.allclose(top_logprob, chosen[2], rtol=0, atol=1e-4)
