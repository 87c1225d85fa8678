"""Which torch device scores, and in which precision.

CPU keeps fp32 (the calibrated numerics; other CPU runtimes and bf16 were measured slower or
less exact). A CUDA device runs fp32 too unless asked otherwise (`--precision`): measured on an
H200 with the default model, the LM's forward pass is about 5% of a document's scoring time
there, and bf16 moved 1% of dev flag decisions and one of the seed's (benchmarks/gpu.py), so
half precision is for larger models. Documents are batched by length under a token budget
(`models.logprobs.score_texts_batched`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from ..core.errors import UsageError

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
PRECISIONS = ("fp32", "bf16", "fp16")  # the number format on a GPU (the CPU is always fp32)
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


def device_dtype(device: str, precision: str = "fp32") -> Any:
    """fp32 on the CPU whatever was asked; on a GPU the asked precision (bf16 only where the
    GPU supports it)."""
    import torch

    if precision not in PRECISIONS:
        raise UsageError(f"--precision {precision}: use {', '.join(PRECISIONS)}")
    if not device.startswith("cuda") or precision == "fp32":
        return torch.float32
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise UsageError("--precision bf16: this GPU does not support bf16 (use fp16)")
    return torch.bfloat16 if precision == "bf16" else torch.float16


@cache
def serial_numpy_blas() -> None:
    """Run numpy's BLAS on one thread, leaving torch's own pools as they are (once a process;
    any other BLAS loaded by then, outside torch, is made serial too).

    After a multithreaded call, OpenBLAS's threads spin waiting for more work; on a CPU the next
    forward pass then shares its cores with them. Measured on 2 cores, 300 MQM dev rows: the
    model's passes took 14.2-14.7 s inside `score_segments` against 12.6-12.9 s alone, and
    12.3-12.8 s with numpy's BLAS serial. mtqa's own matrices (the PCA of a document's hidden
    states) are too small for threads to pay.
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    numpy_blas = [
        lib.filepath
        for lib in controller.lib_controllers
        if lib.user_api == "blas" and "torch" not in Path(lib.filepath).parts
    ]
    if numpy_blas:
        controller.select(filepath=numpy_blas).limit(limits=1)
