"""Document text and names are never markup and never raw control codes, in every output.

A document (or its file name, system name, document id) may carry terminal control sequences:
OSC 8 links, OSC 52 clipboard writes, CSI (as ESC [ and as the C1 byte), ESC c (reset), BEL,
DEL, and the right-to-left override. `mtqa score` in every format (text, tsv, json, jsonl; to
stdout and to a file) and `mtqa batch` (its summary tables and every file it writes) must show
them escaped; JSON escapes them as `\\uXXXX`, so the text reads back exactly. Rich markup in a
system name (`[/bold]`, `[link=…]`) shows as written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mtqa.cli import main
from mtqa.core.text import dump_json, printable

OSC8 = "\x1b]8;;https://evil.example/\x1b\\"
HOSTILE_TEXT = (
    f"The council approved the budget {OSC8}on Monday\x1b]8;;\x1b\\. "
    "Officials said \x1b]52;c;ZXZpbA==\x07the harbour would reopen next week.\x1b[2J\n"
    "Residents \x1bc welcomed \x9b31m the \u202edecision\u202c at once\x7f.\n"
)
HOSTILE_NAME = "evil\x1b]8;;https:evil.example\x07name\u202etxt.txt"  # no "/" in a file name
# Raw, none of these may reach an output: ESC, BEL, C1 CSI and OSC, RLO, PDF, DEL.
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\u202c", "\x7f")
MARKUP_SYSTEMS = ("[/bold]", "[link=https://evil.example/]x", "[bold red]:warning:")
SYSTEMS = (*MARKUP_SYSTEMS, "osc\x1b]8;;https://evil.example/\x07sys\u202e")
SENTENCES = (
    "The council approved the new budget on Monday.",
    "Officials said the harbour would reopen \x1b[2Jnext week.",
)


def raw_controls(text: str) -> list[str]:
    return [repr(c) for c in FORBIDDEN if c in text]


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(main, args)


@pytest.fixture
def hostile(scorer: Any, tmp_path: Path) -> Path:
    """The hostile document under a hostile name (`scorer`: the model is loaded once)."""
    path = tmp_path / HOSTILE_NAME
    path.write_text(HOSTILE_TEXT, encoding="utf-8")
    return path


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
@pytest.mark.parametrize("fmt", ["text", "tsv", "json", "jsonl"])
def test_score_outputs_escape_controls(hostile: Path, fmt: str, to_file: bool) -> None:
    out = hostile.parent / f"out.{fmt}"
    result = invoke(
        ["score", "-q", str(hostile), "-f", fmt, "--all", *(["-o", str(out)] if to_file else [])]
    )
    assert result.exit_code == 0, result.output
    shown = out.read_text(encoding="utf-8") if to_file else result.stdout
    assert not raw_controls(shown + result.stderr), raw_controls(shown + result.stderr)
    if fmt == "json":  # escaped as \uXXXX: the text and the name read back exactly
        doc = json.loads(shown)
        assert doc["text"] == HOSTILE_TEXT and doc["doc_id"] == str(hostile)
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in shown.splitlines()]
        assert all(HOSTILE_TEXT[r["start"] : r["end"]] == r["text"] for r in rows)
        assert any("\x1b]52;c;" in r["text"] for r in rows)
        assert {r["doc_id"] for r in rows} == {str(hostile)}
    else:  # what a person reads: the codes shown as escapes
        assert "\\x1b]8;;https:evil.example\\x07" in shown and "\\u202e" in shown, shown


def _rows() -> str:
    rows = [
        {"doc": f"d{i}\x1b[2J", "system": system, "target": sentence}
        for system in SYSTEMS
        for i, sentence in enumerate(SENTENCES)
    ]
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_batch_names_are_neither_markup_nor_controls(scorer: Any, tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text(_rows(), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke(
        [
            "batch",
            str(tmp_path / "rows.jsonl"),
            "-o",
            str(out),
            "--baseline",
            "[/bold]",
            "--bootstrap",
            "20",
        ]  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    assert not raw_controls(result.stdout + result.stderr), result.stdout + result.stderr
    for name in MARKUP_SYSTEMS:  # in the per-system and the comparison tables, as written
        assert result.stdout.count(name) >= 2, (name, result.stdout)
    assert "paired bootstrap against [/bold]" in result.stdout
    assert "osc\\x1b]8;;https://evil.example/\\x07sys\\u202e" in result.stdout
    for path in sorted(out.iterdir()):
        if path.is_file():
            content = path.read_text(encoding="utf-8")
            assert not raw_controls(content), (path.name, raw_controls(content))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["systems"]) == set(SYSTEMS)  # \uXXXX escapes read back exactly
    segments = [json.loads(line) for line in (out / "segments.jsonl").read_text().splitlines()]
    assert {r["target"] for r in segments} == set(SENTENCES)


@pytest.mark.parametrize(
    "value",
    [HOSTILE_TEXT, "\u009b\u202e\u2066\u2028\u061c\x7f", {"k\x9b": ["\u202e", 1.5, None]}],
    ids=["text", "codes", "nested"],
)
def test_dump_json_escapes_and_round_trips(value: Any) -> None:
    text = dump_json(value, indent=2)
    assert not raw_controls(text) and "\u2028" not in text and "\u061c" not in text
    assert json.loads(text) == value
    assert "é北" in dump_json("é北")  # other non-ASCII stays readable


def test_printable_shows_every_code_escaped() -> None:
    shown = printable(HOSTILE_TEXT)
    assert not raw_controls(shown)
    assert shown.count("\n") == HOSTILE_TEXT.count("\n")  # line breaks and tabs kept
    assert "\\x9b31m" in shown and "\\x1bc" in shown
