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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError, ConfigNotFound, InputError
from .files import atomic_write, parse_json_object

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
    # A suggestion is shown only when the model proposing it finds it at least this much likelier
    # than the span's word (nats; None: no gate): the source reader at the position, the LM at the
    # position ("gated") or over the whole sentence with it in place (the other scopes). Chosen
    # on MQM train by benchmarks/suggestions.py: "say nothing rather than something wrong".
    reader_margin: float | None = None
    lm_margin: float | None = None
    # Which spans the target-only LM suggests words for (scoring/lm_suggestions.py): "gated"
    # (where a learned gate finds its first word likely the fix), "function_words" (a span
    # starting with one: "a" -> "the"), "all" or "none"; the last three re-rank by the whole
    # sentence. Measured on MQM dev by benchmarks/suggestions.py.
    lm_suggestions: str = "gated"
    # Which words become spans: "detector" (the learned word-level detector) or "surprisal"
    # (0.3.0: words whose anomaly passes `anomaly_threshold`).
    span_model: str = "surprisal"
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
        atomic_write(path, json.dumps(asdict(self), indent=2) + "\n")


def configs_dir() -> Path:
    """`$MTQA_CONFIG_DIR`, else the repository's `configs/` folder."""
    env = os.environ.get("MTQA_CONFIG_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "configs"


class ConfigSchema(BaseModel):
    """What a config file may say: types, ranges and lengths checked before anything scores."""

    model_config = ConfigDict(extra="forbid", strict=False)

    name: str = "default"
    model: str = Field(default="smollm2-135m", min_length=1)
    window: int = Field(default=2048, ge=8)
    overlap: int = Field(default=512, ge=0)
    alpha: float = Field(default=0.3, ge=0.0, le=1.0)
    anomaly_threshold: float = 12.0
    major_anomaly: float = 16.0
    phrase_threshold: float = 8.0
    top_k: int = Field(default=20, ge=1, le=100)
    reader_margin: float | None = Field(default=None, ge=-20.0, le=20.0)
    lm_margin: float | None = Field(default=None, ge=-20.0, le=20.0)
    lm_suggestions: Literal["gated", "function_words", "all", "none"] = "gated"
    span_model: Literal["surprisal", "detector"] = "surprisal"
    features: list[str] = Field(min_length=1)
    means: list[float]
    scales: list[float]
    weights: list[float]
    intercept: float = 0.0
    hidden_means: list[float] = Field(default_factory=list)
    hidden_scales: list[float] = Field(default_factory=list)
    hidden_weights: list[float] = Field(default_factory=list)
    thresholds: dict[str, float]
    major_risk: float = Field(default=0.7, ge=0.0, le=1.0)
    calibration: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ConfigSchema:
        n = len(self.features)
        for name in ("means", "scales", "weights"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {n} features")
        if len(set(self.features)) != n:
            raise ValueError("features: a feature is listed twice")
        hidden = {len(self.hidden_means), len(self.hidden_scales), len(self.hidden_weights)}
        if len(hidden) != 1:
            raise ValueError("hidden_means, hidden_scales and hidden_weights differ in length")
        unknown = sorted(set(self.thresholds) - set(PRESETS))
        missing = [p for p in PRESETS if p not in self.thresholds]
        if unknown or missing:
            what = f"unknown preset {unknown[0]!r}" if unknown else f"no {missing[0]!r} preset"
            raise ValueError(f"thresholds: {what} (presets: {', '.join(PRESETS)})")
        for preset, value in self.thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"thresholds: {preset} is {value}, outside 0-1")
        if self.overlap > self.window // 2:
            raise ValueError("overlap: more than half the window")
        return self


def _schema_problem(exc: ValidationError) -> str:
    """The first problem of a failed validation, naming its field."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "the file"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"


def load_config(spec: str | Path | None = None) -> Config:
    """A config by name (`default` -> configs/default.json) or by path, validated.

    A config given by path is named after its file (what the signature shows), so a copy of
    `default.json` saved as `mine.json` never passes for the default.
    """
    spec = spec or "default"
    path = Path(spec)
    by_path = bool(path.suffix)
    if not by_path:
        path = configs_dir() / f"{spec}.json"
    if not path.is_file():
        raise ConfigNotFound(f"config not found: {path}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    data = parse_json_object(raw, f"config {path}", ConfigError)
    try:
        checked = ConfigSchema.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"config {path}: {_schema_problem(exc)}") from None
    fields = checked.model_dump()
    if by_path:
        fields["name"] = path.stem
    return Config(**fields)
