"""Reader: a folder of ``.txt`` files, one document each (split into sentences by the scorer)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..core.errors import InputError
from ..core.files import read_text
from .base import Corpus, Document


def text_folder(folder: str, system: str | None = None) -> Corpus:
    """Every ``.txt`` file under `folder` (sorted by path) is one document."""
    root = Path(folder)
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.txt") if p.is_file())
    if not files:
        raise InputError(f"{folder} holds no .txt files")
    name = system or root.resolve().name

    def documents() -> Iterator[Document]:
        for rel in files:
            label = f"{folder.rstrip('/')}/{rel}"
            text = read_text(str(root / rel))
            if not text.strip():
                raise InputError(f"{label}: the document is empty")
            yield Document(doc_id=rel, system=name, origin=label, text=text)

    description = {"input": str(root.resolve()), "form": "text-folder", "system": name}
    return Corpus("text-folder", description, documents)
