"""The corpus readers (`mtqa.corpus`): rows, tables, line-aligned files and folders, and the one
clear error each kind of bad input gets, naming the file and the line. Pure: no model loads
(every error comes before it would)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from input_files import write

from mtqa.batch import BatchOptions, run_batch
from mtqa.core.errors import InputError
from mtqa.corpus import open_corpus


def write_file(path: Path, content: str | bytes) -> str:
    return str(write(path, content))


def jsonl_rows(*rows: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


GOOD = {"doc": "d1", "system": "A", "target": "A storm hit the coast."}


def corpus_error(
    tmp_path: Path,
    name: str,
    content: str | bytes,
    input: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> str:
    """The InputError a run raises (always before the model loads)."""
    path = write_file(tmp_path / name, content)
    if rows is not None:  # a saved Hugging Face dataset instead of a file
        from datasets import Dataset

        Dataset.from_list(rows).save_to_disk(input)
    with pytest.raises(InputError) as info:
        corpus = open_corpus(input or path, **kwargs)
        run_batch(corpus, BatchOptions(output_dir=tmp_path / "out"))
    return str(info.value)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "data.jsonl",
            jsonl_rows(*[GOOD] * 6, {"doc": "d1", "system": "A"}),
            "data.jsonl line 7: missing field 'target'",
        ),
        (
            "data.jsonl",
            jsonl_rows(GOOD) + '{"target": oops}\n',
            "data.jsonl line 2: not valid JSON",
        ),
        ("data.jsonl", jsonl_rows(GOOD, [1, 2]), "data.jsonl line 2: expected a JSON object"),
        (
            "data.jsonl",
            jsonl_rows(GOOD, {**GOOD, "target": "two\nlines"}),
            "data.jsonl line 2: segment contains a newline",
        ),
        (
            "data.jsonl",
            jsonl_rows(GOOD, {**GOOD, "target": 7}),
            "data.jsonl line 2: field 'target' must be a string, not int",
        ),
        (
            "data.jsonl",
            jsonl_rows({**GOOD, "id": "x"}, {**GOOD, "id": "x"}),
            "data.jsonl line 2: segment id 'x' appears twice",
        ),
        ("data.jsonl", b'{"target": "caf\xe9"}\n', "data.jsonl line 1: not UTF-8 text"),
        ("data.jsonl", "\n\n", "data.jsonl has no rows"),
        (
            "data.jsonl",
            jsonl_rows({**GOOD, "target": " "}, {**GOOD, "target": ""}),
            "data.jsonl lines 1-2: every target segment of document 'd1' is empty",
        ),
        (
            "data.tsv",
            'doc\ttarget\nd1\tFine.\nd1\t"Two\nlines."\n',
            "data.tsv line 3: segment contains a newline",
        ),
        ("data.tsv", "doc\ttarget\nd1\tFine.\td2\n", "data.tsv line 2: 3 columns, but the header"),
        (
            "data.tsv",
            "doc\ttext\nd1\tFine.\n",
            "data.tsv line 1: no 'target' column in the header line",
        ),
        (
            "data.csv",
            'doc,target\nd1,Fine.\nd1,"Two\nlines."\n',
            "data.csv line 3: segment contains a newline",
        ),
        ("corpus.xml", "<x/>", "cannot tell what"),
    ],
)
def test_bad_rows_name_file_and_line(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    assert message in corpus_error(tmp_path, name, content)


def test_field_mapping_and_its_errors(tmp_path: Path) -> None:
    path = write_file(tmp_path / "data.tsv", "doc\tmt_output\nd1\tFine.\n")
    corpus = open_corpus(path, fields={"target": "mt_output"})
    assert [s.target for d in corpus.documents() for s in d.segments or []] == ["Fine."]
    with pytest.raises(InputError, match="no column 'output' \\(for --field target\\)"):
        list(open_corpus(path, fields={"target": "output"}).documents())


def test_line_aligned_errors(tmp_path: Path) -> None:
    src = write_file(tmp_path / "src.txt", "一\n二\n三\n")
    mt = write_file(tmp_path / "mt.txt", "One.\nTwo.\n")
    with pytest.raises(InputError, match=r"mt\.txt has 2 lines but .*src\.txt has 3"):
        open_corpus(sources=src, targets=[mt])
    good = write_file(tmp_path / "good.txt", "One.\nTwo.\nThree.")  # no final newline: still 3
    ref = write_file(tmp_path / "ref.txt", "One.\nTwo.\n")
    with pytest.raises(InputError, match=r"ref\.txt has 2 lines but .*src\.txt has 3"):
        open_corpus(sources=src, targets=[good], references=[ref])
    bad = write_file(tmp_path / "bad.txt", b"One.\nT\xffo.\nThree.\n")
    with pytest.raises(InputError, match=r"bad\.txt line 2: not UTF-8"):
        list(open_corpus(sources=src, targets=[bad]).documents())
    with pytest.raises(InputError, match="file not found"):
        open_corpus(sources=src, targets=[str(tmp_path / "missing.txt")])
    with pytest.raises(InputError, match="need at least one -t"):
        open_corpus(sources=src)


def test_other_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no .txt files and no dataset files"):
        open_corpus(str(tmp_path / "empty"))
    write_file(tmp_path / "docs" / "a.txt", "  \n")
    with pytest.raises(InputError, match="a.txt: the document is empty"):
        list(open_corpus(str(tmp_path / "docs")).documents())
    with pytest.raises(InputError, match="file not found"):
        open_corpus(str(tmp_path / "nope.jsonl"))
