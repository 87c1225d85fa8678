"""Scoring configuration: signal settings, the calibrated combiner and threshold presets.

Configs are JSON files in `configs/` (or any path). `configs/default.json` is written by
`mtqa calibrate` and is what `mtqa score` uses out of the box.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

PRESETS = ("strict", "standard", "lenient")


@dataclass
class Config:
    """Everything that changes a score, besides the model itself."""

    name: str = "default"
    model: str = "smollm2-135m"
    window: int = 2048  # tokens read in one pass; longer texts use overlapping windows
    overlap: int = 512  # context tokens carried into each following window
    alpha: float = 0.3  # share of a word's unigram surprisal discounted (0: raw, 1: SLOR)
    anomaly_threshold: float = 12.0  # bits: a word this anomalous is a candidate span
    major_anomaly: float = 16.0  # bits: a span this anomalous is Major
    phrase_threshold: float = 8.0  # bits: neighbours this anomalous join a span
    top_k: int = 20  # alternatives kept per token; up to 5 become suggestions
    features: list[str] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    intercept: float = 0.0
    # Optional learned head over the model's mean hidden state of the sentence (empty: unused).
    hidden_means: list[float] = field(default_factory=list)
    hidden_scales: list[float] = field(default_factory=list)
    hidden_weights: list[float] = field(default_factory=list)
    thresholds: dict[str, float] = field(
        default_factory=lambda: {"strict": 0.35, "standard": 0.5, "lenient": 0.65}
    )
    major_risk: float = 0.7  # risk at or above which a flagged sentence is Major
    calibration: dict[str, Any] = field(default_factory=dict)  # provenance of the fit

    def threshold(self, preset: str) -> float:
        if preset not in self.thresholds:
            raise InputError(f"unknown preset '{preset}': choose one of {', '.join(PRESETS)}")
        return self.thresholds[preset]

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def configs_dir() -> Path:
    """`$MTQA_CONFIG_DIR`, else the repository's `configs/` folder."""
    env = os.environ.get("MTQA_CONFIG_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "configs"


def load_config(spec: str | Path | None = None) -> Config:
    """A config by name (`default` -> configs/default.json) or by path."""
    spec = spec or "default"
    path = Path(spec)
    if not path.suffix:
        path = configs_dir() / f"{spec}.json"
    if not path.is_file():
        raise InputError(f"config not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = set(Config.__dataclass_fields__)
        return Config(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError) as exc:
        raise InputError(f"config {path} is not valid: {exc}") from exc
