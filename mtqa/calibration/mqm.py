"""Human MQM annotations as calibration data: reading the JSONL sets (every row checked, with
its file and line in any error) and regrouping rows into the documents they came from."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from ..core.errors import InputError
from ..core.files import parse_json_object


class MqmSpan(BaseModel):
    """One annotated error: character offsets into the row's target."""

    model_config = ConfigDict(extra="allow")

    start: Annotated[int, Strict()] = Field(ge=0)
    end: Annotated[int, Strict()] = Field(ge=0)
    severity: str

    @model_validator(mode="after")
    def _ordered(self) -> MqmSpan:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class MqmRow(BaseModel):
    """What mtqa reads of an annotated row; other fields pass through untouched."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[str, Strict()] | Annotated[int, Strict()]
    target: Annotated[str, Strict()]
    mqm: Annotated[float, Strict()]
    spans: list[MqmSpan] | None = None


def default_mqm_path(split: str) -> Path:
    """`$MTQA_MQM_DIR/<split>.jsonl`, else the workplace's shared MQM data beside the repo."""
    base = os.environ.get("MTQA_MQM_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[3] / "shared" / "data" / "mqm"
    return root / f"{split}.jsonl"


def _problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "row"
    return f"{field}: {str(error['msg']).removeprefix('Value error, ')}"


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of an MQM-style JSONL file, each checked (`MqmRow`); an `InputError` names the
    file and line of the first bad one."""
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "not found"
        raise InputError(f"annotated data {what}: {path}")
    data = file.read_bytes()
    if b"\x00" in data[:65536]:
        raise InputError(f"{path} looks binary (it contains NUL bytes), not JSONL")
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        row = parse_json_object(raw, f"{path} line {number}")
        try:
            MqmRow.model_validate(row)
        except ValidationError as exc:
            raise InputError(f"{path} line {number}: {_problem(exc)}") from None
        rows.append(row)
    if not rows:
        raise InputError(f"{path} has no rows")
    return rows


def check_rows(path: str | Path) -> None:
    """Read and check every row now (before a model loads), so a bad line fails fast."""
    load_rows(path)


def mqm_documents(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows regrouped into (system, doc) documents in reading order."""
    key = lambda r: (str(r.get("system")), str(r.get("doc")))  # noqa: E731
    for _, group in groupby(sorted(rows, key=key), key=key):
        yield sorted(group, key=lambda r: int(r.get("doc_seg_id") or 0))


def item_key(row: dict[str, Any]) -> str:
    return f"{row.get('year')}|{row.get('doc')}|{row.get('doc_seg_id')}"


def sample_documents(rows: list[dict[str, Any]], share: float) -> list[dict[str, Any]]:
    """A deterministic share of source documents (all systems' rows for each kept document)."""
    if share >= 1.0:
        return rows

    def keep(row: dict[str, Any]) -> bool:
        digest = hashlib.sha256(str(row.get("doc")).encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < share

    return [row for row in rows if keep(row)]
