"""Shared fixtures: the real model is loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtqa import DocumentResult, Scorer

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (DATA / "seed_article.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    # fp32 on the CPU on every machine: the calibrated numbers the tests compare with (a GPU
    # machine would otherwise pick CUDA and bf16; tests/test_device.py loads that one itself).
    return Scorer.load(device="cpu")


@pytest.fixture(scope="session")
def seed_result(scorer: Scorer, seed_text: str) -> DocumentResult:
    return scorer.score(seed_text, doc_id="seed_article.txt")
