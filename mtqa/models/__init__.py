"""Language models: which one to load and from where (registry, GGUF conversion cache), and
token log-probabilities read from them."""

from .device import DEVICE_CHOICES, PRECISIONS, check_device_spec, resolve_device
from .loading import LoadedModel, load_model, quiet_third_party
from .logprobs import TokenScores, project_states, score_text, score_texts_batched, tokenize
from .registry import DEFAULT_MODEL, REGISTRY, file_sha256

__all__ = [
    "DEFAULT_MODEL",
    "DEVICE_CHOICES",
    "REGISTRY",
    "LoadedModel",
    "TokenScores",
    "PRECISIONS",
    "check_device_spec",
    "file_sha256",
    "load_model",
    "project_states",
    "quiet_third_party",
    "resolve_device",
    "score_text",
    "score_texts_batched",
    "tokenize",
]
