"""Scoring configuration: signal settings, the calibrated combiner and threshold presets.

Configs are JSON files shipped in the package (`mtqa/configs/`, package data) or at any path.
`mtqa/configs/default.json` is written by `mtqa calibrate` and is what `mtqa score` uses out of
the box.

`Config` is both what the code passes around and the schema a config file is checked against
(through pydantic, in `load_config`): each field's bounds sit beside it. Every number must be
finite, and the combiner's numbers lie in ranges far beyond any fitted config but small enough
that no sum of them overflows (a NaN or an infinity would make every sentence score the same).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from .errors import ConfigError, ConfigNotFound, InputError
from .files import atomic_write, package_data, parse_json_object

PRESETS = ("strict", "standard", "lenient")

MAX_WINDOW = 1 << 20  # tokens; far beyond any model's context (the window is cut to it)
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Bits = Annotated[float, Field(ge=-1000.0, le=1000.0)]
Margin = Annotated[float, Field(ge=-20.0, le=20.0)]
Mean = Annotated[float, Field(ge=-1e6, le=1e6)]
Scale = Annotated[float, Field(ge=1e-6, le=1e6)]  # a scale of 0 would divide by zero
Weight = Annotated[float, Field(ge=-1e3, le=1e3)]


@dataclass
class Config:
    """Everything that changes a score, besides the model itself."""

    # How a config file is read: unknown keys refused, and no NaN or infinity anywhere.
    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", strict=False, allow_inf_nan=False
    )
    #: What a config file must give (the code's defaults are for building one).
    REQUIRED: ClassVar[tuple[str, ...]] = ("features", "means", "scales", "weights", "thresholds")

    name: str = "default"
    model: Annotated[str, Field(min_length=1)] = "smollm2-135m"
    # tokens read in one pass; longer texts use overlapping windows
    window: Annotated[int, Field(ge=8, le=MAX_WINDOW)] = 2048
    overlap: Annotated[int, Field(ge=0)] = 512  # context tokens carried into each next window
    alpha: Share = 0.3  # share of a word's unigram surprisal discounted (0: raw, 1: SLOR)
    anomaly_threshold: Bits = 12.0  # bits: a word this anomalous is a candidate span
    major_anomaly: Bits = 16.0  # bits: a span this anomalous is Major
    phrase_threshold: Bits = 8.0  # bits: neighbours this anomalous join a span
    top_k: Annotated[int, Field(ge=1, le=100)] = 20  # alternatives kept per token (up to 5 shown)
    # A suggestion is shown only when the model proposing it finds it at least this much likelier
    # than the span's word (nats; None: no gate): the source reader at the position, the LM at the
    # position ("gated") or over the whole sentence with it in place (the other scopes). Chosen
    # on MQM train by benchmarks/suggestions.py: "say nothing rather than something wrong".
    reader_margin: Margin | None = None
    lm_margin: Margin | None = None
    # Which spans the target-only LM suggests words for (scoring/lm_suggestions.py): "gated"
    # (where a learned gate finds its first word likely the fix), "function_words" (a span
    # starting with one: "a" -> "the"), "all" or "none"; the last three re-rank by the whole
    # sentence. Measured on MQM dev by benchmarks/suggestions.py.
    lm_suggestions: Literal["gated", "function_words", "all", "none"] = "gated"
    # Which words become spans: "detector" (the learned word-level detector) or "surprisal"
    # (0.3.0: words whose anomaly passes `anomaly_threshold`).
    span_model: Literal["surprisal", "detector"] = "surprisal"
    features: Annotated[list[str], Field(min_length=1)] = field(default_factory=list)
    means: list[Mean] = field(default_factory=list)
    scales: list[Scale] = field(default_factory=list)
    weights: list[Weight] = field(default_factory=list)
    intercept: Weight = 0.0
    # Optional learned head over the model's mean hidden state of the sentence (empty: unused).
    hidden_means: list[Mean] = field(default_factory=list)
    hidden_scales: list[Scale] = field(default_factory=list)
    hidden_weights: list[Weight] = field(default_factory=list)
    thresholds: dict[str, Share] = field(
        default_factory=lambda: {"strict": 0.35, "standard": 0.5, "lenient": 0.65}
    )
    major_risk: Share = 0.7  # risk at or above which a flagged sentence is Major
    calibration: dict[str, Any] = field(default_factory=dict)  # provenance of the fit

    def threshold(self, preset: str) -> float:
        if preset not in self.thresholds:
            raise InputError(f"unknown preset '{preset}': choose one of {', '.join(PRESETS)}")
        return self.thresholds[preset]

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(asdict(self), indent=2) + "\n")

    @model_validator(mode="before")
    @classmethod
    def _given(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in cls.REQUIRED:
                if name not in data:
                    raise ValueError(f"{name}: missing (a config gives {', '.join(cls.REQUIRED)})")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Config:
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
        if self.overlap > self.window // 2:
            raise ValueError("overlap: more than half the window")
        return self


@cache
def _schema() -> TypeAdapter[Config]:
    return TypeAdapter(Config)


def configs_dir() -> Path:
    """`$MTQA_CONFIG_DIR`, else the configs shipped in the package (found as package data, so
    an installed wheel finds them as a checkout does)."""
    env = os.environ.get("MTQA_CONFIG_DIR")
    return Path(env) if env else package_data("configs")


def _schema_problem(exc: ValidationError) -> str:
    """The first problem of a failed validation, naming its field."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        message = "unknown key"
    return f"{field}: {message}" if field else message


def load_config(spec: str | Path | None = None) -> Config:
    """A config by name (`default` -> mtqa/configs/default.json) or by path, validated.

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
    config = config_from_data(parse_json_object(raw, f"config {path}", ConfigError), path)
    return replace(config, name=path.stem) if by_path else config


def config_from_data(data: dict[str, Any], where: str | Path = "the config") -> Config:
    """A config file's parsed content, checked against the schema, or one line naming the key."""
    try:
        return _schema().validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"config {where}: {_schema_problem(exc)}") from None
