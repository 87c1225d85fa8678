"""Language models: which one to load and from where (registry, GGUF conversion cache), and
token log-probabilities read from them."""

from .loading import LoadedModel, load_model, quiet_third_party
from .logprobs import TokenScores, project_states, score_text, tokenize
from .registry import DEFAULT_MODEL, REGISTRY, file_sha256

__all__ = [
    "DEFAULT_MODEL",
    "REGISTRY",
    "LoadedModel",
    "TokenScores",
    "file_sha256",
    "load_model",
    "project_states",
    "quiet_third_party",
    "score_text",
    "tokenize",
]
