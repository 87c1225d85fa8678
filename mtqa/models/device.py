"""Which torch device scores, and in which precision.

CPU keeps fp32 (the calibrated numerics; other CPU runtimes and bf16 were measured slower or
less exact). A CUDA device runs the LM in bf16 where the GPU supports it (fp16 otherwise), with
documents batched by length under a token budget (`models.logprobs.score_texts`).
"""

from __future__ import annotations

import re
from typing import Any

from ..core.errors import UsageError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
_SPEC = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def check_device_spec(spec: str) -> str:
    """The spec, checked for form only (no torch import): fails before anything loads."""
    if not _SPEC.match(spec):
        raise UsageError(f"--device {spec}: use {DEVICE_CHOICES}")
    return spec


def resolve_device(spec: str = "auto") -> str:
    """'auto' -> 'cuda' when a CUDA device is usable, else 'cpu'; 'cuda[:N]' is checked."""
    import torch

    check_device_spec(spec)
    if spec == "cpu":
        return "cpu"
    available = torch.cuda.is_available()
    if spec == "auto":
        return "cuda" if available else "cpu"
    if not available:
        raise UsageError(f"--device {spec}: no CUDA device is usable here (try --device cpu)")
    index = int(spec.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise UsageError(f"--device {spec}: this machine has {count} CUDA device(s)")
    return spec


def device_dtype(device: str) -> Any:
    """fp32 on CPU; bf16 on a GPU that supports it, else fp16."""
    import torch

    if not device.startswith("cuda"):
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
