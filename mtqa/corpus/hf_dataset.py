"""Reader: a Hugging Face ``datasets`` set (saved folder, parquet/arrow files, or hf:NAME)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from .base import DEFAULT_DOC_SIZE, HF_PREFIX, Corpus, Document
from .rows import grouped, resolve_columns


def is_saved_dataset(path: Path) -> bool:
    return any((path / name).exists() for name in ("dataset_info.json", "dataset_dict.json"))


def _pick_split(splits: list[str], split: str | None, name: str) -> str:
    if split is not None:
        if split not in splits:
            raise InputError(f"{name} has no split '{split}' (splits: {', '.join(splits)})")
        return split
    if len(splits) == 1:
        return splits[0]
    raise InputError(f"{name} has several splits ({', '.join(splits)}): choose one with --split")


def _hf_rows(
    name: str, config: str | None, split: str | None
) -> tuple[Iterable[dict[str, Any]], list[str] | None]:
    """Rows of a dataset and its column names (None where streaming does not know them)."""
    import datasets

    from ..core.quiet import quiet_third_party

    quiet_third_party()
    path = Path(name)
    try:
        if path.is_dir() and is_saved_dataset(path):
            loaded = datasets.load_from_disk(name)
            if isinstance(loaded, datasets.DatasetDict):
                loaded = loaded[_pick_split(list(loaded), split, name)]
            return loaded, list(loaded.column_names)
        if path.is_file():
            builder = "parquet" if path.suffix.lower() == ".parquet" else "arrow"
            stream = datasets.load_dataset(
                builder, data_files=name, split=split or "train", streaming=True
            )
        else:
            stream = datasets.load_dataset(name, config, split=split, streaming=True)
            if isinstance(stream, datasets.IterableDatasetDict):
                stream = stream[_pick_split(list(stream), split, name)]
    except InputError:
        raise
    except Exception as exc:  # datasets raises many kinds: not found, offline, bad config
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot load dataset {name}: {message}") from exc
    columns = list(stream.column_names) if stream.column_names else None
    return stream, columns


def hf_dataset(
    name: str,
    config: str | None = None,
    split: str | None = None,
    fields: dict[str, str] | None = None,
    doc_size: int = DEFAULT_DOC_SIZE,
    system: str | None = None,
) -> Corpus:
    """A `datasets` set: saved folder, data files, or a hub name (where a hub is reachable)."""
    fields = dict(fields or {})
    label = name.rstrip("/")
    _, known = _hf_rows(name, config, split)  # fail early: missing set, split or column
    if known is not None:
        resolve_columns(known, fields, label)

    def documents() -> Iterator[Document]:
        rows, columns = _hf_rows(name, config, split)

        def columns_for(row: dict[str, Any]) -> dict[str, Any]:
            return resolve_columns(columns or list(row), fields, label)

        numbered = ((n, dict(row)) for n, row in enumerate(rows, 1))
        yield from grouped(numbered, columns_for, False, label, "row", doc_size, system)

    is_local = Path(name).exists()
    description = {
        "form": "hf-dataset",
        "input": str(Path(name).resolve()) if is_local else f"{HF_PREFIX}{name}",
        "config": config,
        "split": split,
        "fields": fields,
        "doc_size": doc_size,
        "system": system,
    }
    return Corpus("hf-dataset", description, documents)
