"""A Llama checkpoint read with plain torch, `safetensors` and `tokenizers`: the fast start-up path.

Importing transformers' model stack (`AutoModelForCausalLM`: torch._dynamo, torch.distributed,
accelerate, scipy) and building the model through `from_pretrained` cost about 3 s of every
`mtqa score`, several times the forward pass on a short file. A converted checkpoint of a plain
Llama model (the embedded SmolLM2) needs none of it: `plain_llama_config` accepts only the
configurations this module computes exactly like transformers' `LlamaForCausalLM` (same torch
ops in the same order, SDPA attention, fp32), and everything else is loaded by transformers.
`tests/test_llama.py` checks hidden states, tokens and decoding are identical to transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..core.files import loads_bounded

#: Keys of config.json (besides sizes and token ids) whose values this module implements.
_REQUIRED = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_act": "silu",
}
_FALSE_OR_ABSENT = ("attention_bias", "mlp_bias")
_ABSENT_OR = {"pretraining_tp": 1, "rope_scaling": None, "final_logit_softcapping": None}


@dataclass(frozen=True)
class PlainConfig:
    """What the forward pass reads from config.json (attribute names as in transformers)."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float
    rope_theta: float
    max_position_embeddings: int
    tie_word_embeddings: bool
    final_logit_softcapping: float | None = None


def plain_llama_config(folder: Path) -> PlainConfig | None:
    """The folder's config when this module reads the checkpoint exactly as transformers does
    (a Llama with default RoPE, one fp32 safetensors file, a `tokenizers` tokenizer.json used
    as is), else None."""
    try:
        raw = loads_bounded((folder / "config.json").read_bytes())
        tok_cfg = loads_bounded((folder / "tokenizer_config.json").read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(tok_cfg, dict):
        return None
    if any(raw.get(key) != value for key, value in _REQUIRED.items()):
        return None
    if any(raw.get(key, False) is not False for key in _FALSE_OR_ABSENT):
        return None
    if any(raw.get(key, value) != value for key, value in _ABSENT_OR.items()):
        return None
    rope = raw.get("rope_parameters")
    if not isinstance(rope, dict) or set(rope) != {"rope_type", "rope_theta"}:
        return None
    if rope["rope_type"] != "default" or raw.get("dtype", "float32") != "float32":
        return None
    # transformers wraps tokenizer.json unchanged only for the generic backend; other classes
    # may rebuild parts of it or clean up decoded text.
    if tok_cfg.get("tokenizer_class") != "TokenizersBackend" or tok_cfg.get(
        "clean_up_tokenization_spaces", False
    ):
        return None
    if not (folder / "tokenizer.json").is_file() or not (folder / "model.safetensors").is_file():
        return None
    if [p.name for p in folder.glob("*.safetensors")] != ["model.safetensors"]:
        return None
    try:
        heads = int(raw["num_attention_heads"])
        hidden = int(raw["hidden_size"])
        config = PlainConfig(
            vocab_size=int(raw["vocab_size"]),
            hidden_size=hidden,
            intermediate_size=int(raw["intermediate_size"]),
            num_hidden_layers=int(raw["num_hidden_layers"]),
            num_attention_heads=heads,
            num_key_value_heads=int(raw.get("num_key_value_heads") or heads),
            head_dim=int(raw.get("head_dim") or hidden // heads),
            rms_norm_eps=float(raw["rms_norm_eps"]),
            rope_theta=float(rope["rope_theta"]),
            max_position_embeddings=int(raw["max_position_embeddings"]),
            tie_word_embeddings=bool(raw.get("tie_word_embeddings", False)),
        )
    except (KeyError, TypeError, ValueError):
        return None
    # transformers' SDPA path passes `enable_gqa` only for head sizes up to 256.
    if config.head_dim > 256 or heads % config.num_key_value_heads:
        return None
    return config


class _Linear(nn.Linear):
    """A Linear layer built without initialising its weights (they are loaded next): random
    init of 540 MB costs a second, and on the meta device it imports torch._dynamo."""

    def reset_parameters(self) -> None:
        pass


class _Embedding(nn.Embedding):
    def reset_parameters(self) -> None:
        pass


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: PlainConfig) -> None:
        super().__init__()
        self.head_dim = cfg.head_dim
        self.groups = cfg.num_attention_heads // cfg.num_key_value_heads
        self.scaling = cfg.head_dim**-0.5
        q_size = cfg.num_attention_heads * cfg.head_dim
        kv_size = cfg.num_key_value_heads * cfg.head_dim
        self.q_proj = _Linear(cfg.hidden_size, q_size, bias=False)
        self.k_proj = _Linear(cfg.hidden_size, kv_size, bias=False)
        self.v_proj = _Linear(cfg.hidden_size, kv_size, bias=False)
        self.o_proj = _Linear(q_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        shape = (*x.shape[:-1], -1, self.head_dim)
        q = self.q_proj(x).view(shape).transpose(1, 2)
        k = self.k_proj(x).view(shape).transpose(1, 2)
        v = self.v_proj(x).view(shape).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = (q * cos) + (_rotate_half(q) * sin)
        k = (k * cos) + (_rotate_half(k) * sin)
        # transformers passes keys and values through its (empty) cache: contiguous copies.
        k, v = k.contiguous(), v.contiguous()
        length = q.shape[2]
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=None,
            dropout_p=0.0,
            scale=self.scaling,
            is_causal=length > 1,
            **({"enable_gqa": True} if self.groups > 1 else {}),
        )
        out = out.reshape(out.shape[0], -1, length, v.shape[-1]).transpose(1, 2).contiguous()
        return self.o_proj(out.reshape(*x.shape[:-1], -1).contiguous())  # type: ignore[no-any-return]


class MLP(nn.Module):
    def __init__(self, cfg: PlainConfig) -> None:
        super().__init__()
        self.gate_proj = _Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = _Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = _Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # type: ignore[no-any-return]


class DecoderLayer(nn.Module):
    def __init__(self, cfg: PlainConfig) -> None:
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))  # type: ignore[no-any-return]


@dataclass
class ModelOutput:
    last_hidden_state: torch.Tensor | None = None
    logits: torch.Tensor | None = None


class PlainLlamaModel(nn.Module):
    def __init__(self, cfg: PlainConfig) -> None:
        super().__init__()
        self.config = cfg
        self.embed_tokens = _Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.inv_freq = torch.zeros(0)  # set by `load_plain_llama`, off the meta device

    def forward(self, input_ids: torch.Tensor) -> ModelOutput:
        x = self.embed_tokens(input_ids)
        positions = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
        freqs = positions[..., None].float() * self.inv_freq.to(x.device, dtype=torch.float)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = (emb.cos() * 1.0).to(x.dtype), (emb.sin() * 1.0).to(x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return ModelOutput(last_hidden_state=self.norm(x))


class PlainLlamaForCausalLM(nn.Module):
    """The parts of transformers' `LlamaForCausalLM` mtqa calls: `base_model(input_ids=…)`,
    `get_output_embeddings()`, `config`, and a forward that returns `.logits`."""

    def __init__(self, cfg: PlainConfig) -> None:
        super().__init__()
        self.config = cfg
        self.model = PlainLlamaModel(cfg)
        self.lm_head = _Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    @property
    def base_model(self) -> PlainLlamaModel:
        return self.model

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def forward(self, input_ids: torch.Tensor) -> ModelOutput:
        hidden = self.model(input_ids=input_ids).last_hidden_state
        return ModelOutput(last_hidden_state=hidden, logits=self.lm_head(hidden))


def load_plain_llama(folder: Path, cfg: PlainConfig) -> PlainLlamaForCausalLM:
    """Build the model on the meta device (no random init) and assign the stored tensors."""
    from safetensors.torch import load_file

    with torch.device("meta"):
        model = PlainLlamaForCausalLM(cfg)
    tensors = load_file(str(folder / "model.safetensors"))
    if any(t.dtype != torch.float32 for t in tensors.values()):
        raise ValueError("model.safetensors holds tensors that are not fp32")
    result = model.load_state_dict(tensors, strict=False, assign=True)
    tied = ["lm_head.weight"] if cfg.tie_word_embeddings else []
    if cfg.tie_word_embeddings and "lm_head.weight" in tensors:
        raise ValueError("model.safetensors holds an lm_head.weight but the config ties it")
    if result.unexpected_keys or sorted(result.missing_keys) != tied:
        missing = sorted(set(result.missing_keys) - set(tied))
        raise ValueError(
            f"model.safetensors does not match the config (missing {missing[:3]}, "
            f"unexpected {sorted(result.unexpected_keys)[:3]})"
        )
    if cfg.tie_word_embeddings:
        model.lm_head.weight = model.model.embed_tokens.weight
    dim = cfg.head_dim
    model.model.inv_freq = 1.0 / (
        cfg.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float) / dim)
    )
    return model.eval()


class PlainTokenizer:
    """tokenizer.json through `tokenizers`, with the calls mtqa makes on a transformers
    tokenizer: `tok(text, add_special_tokens=…, return_offsets_mapping=…)`, `decode`,
    `convert_tokens_to_ids`, `bos_token`, `eos_token`."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok_cfg = loads_bounded((folder / "tokenizer_config.json").read_bytes())
        self.bos_token: str | None = _token_text(tok_cfg.get("bos_token"))
        self.eos_token: str | None = _token_text(tok_cfg.get("eos_token"))
        self.unk_token: str | None = _token_text(tok_cfg.get("unk_token"))

    def __call__(
        self, text: str, add_special_tokens: bool = True, return_offsets_mapping: bool = False
    ) -> dict[str, Any]:
        enc = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": enc.ids, "attention_mask": enc.attention_mask}
        if return_offsets_mapping:
            out["offset_mapping"] = enc.offsets
        return out

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)

    def convert_tokens_to_ids(self, token: str) -> int | None:
        """A token's id; an unknown token reads as the unknown token's id (as in transformers)."""
        token_id = self._tokenizer.token_to_id(token)
        if token_id is None and self.unk_token is not None:
            return self._tokenizer.token_to_id(self.unk_token)
        return token_id


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):  # an AddedToken written out in full
        value = value.get("content")
    return value if isinstance(value, str) else None
