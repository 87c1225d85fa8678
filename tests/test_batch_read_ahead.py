"""`mtqa batch`'s read-ahead: forward passes in a reading thread, judged in order here, the
reader's failures met again (and reported) by the judging thread, and an early stop ends it."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from mtqa.batch import scoring
from mtqa.batch.scoring import read_ahead
from mtqa.corpus import Document


class FakeScorer:
    """Records which thread read each text and which texts were judged with a read ready."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.lm = SimpleNamespace(device="cpu")
        self.read: dict[str, str] = {}
        self.judged: list[tuple[str, bool]] = []
        self.fail_on = fail_on

    def prefetch(self, texts: list[str]) -> None:
        for text in texts:
            if text == self.fail_on:
                raise RuntimeError("reader failed")
            self.read[text] = threading.current_thread().name

    def score(self, text: str, doc_id: str | None = None) -> Any:
        if text == "bad":
            raise ValueError("bad document")
        self.judged.append((text, text in self.read))
        return SimpleNamespace(sentences=[])


@pytest.fixture(autouse=True)
def a_core_to_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine with a core more than torch's threads, where a CPU reads ahead."""
    import torch

    monkeypatch.setattr(scoring, "available_cores", lambda: torch.get_num_threads() + 1)


def tasks(*texts: str) -> list[tuple[int, Document]]:
    return [(i, Document(f"d{i}", "sys", f"line {i}", text=t)) for i, t in enumerate(texts)]


def test_documents_are_judged_in_order_with_their_reads_done_by_the_reader() -> None:
    scorer = FakeScorer()
    out = [index for index, _ in read_ahead(scorer, tasks("a", "b", "c", "d"))]
    assert out == [0, 1, 2, 3]
    assert scorer.judged == [(t, True) for t in "abcd"]
    assert set(scorer.read.values()) == {"mtqa-read-ahead"}


def test_a_failed_read_is_read_again_by_the_judge_and_an_error_there_is_raised() -> None:
    scorer = FakeScorer(fail_on="b")
    assert [i for i, _ in read_ahead(scorer, tasks("a", "b", "c"))] == [0, 1, 2]
    assert ("b", False) in scorer.judged
    with pytest.raises(ValueError, match="bad document"):
        list(read_ahead(FakeScorer(), tasks("a", "bad", "c")))
    assert threading.active_count() < 10  # no reader left behind


def test_stopping_early_ends_the_reader() -> None:
    before = {t.name for t in threading.enumerate()}
    results = read_ahead(FakeScorer(), tasks(*"abcdefgh"))
    next(results)
    results.close()
    assert "mtqa-read-ahead" not in {t.name for t in threading.enumerate()} - before


def test_a_cpu_reads_ahead_only_with_a_core_to_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from mtqa.batch.scoring import worth_reading_ahead

    monkeypatch.setattr(scoring, "available_cores", torch.get_num_threads)
    scorer = FakeScorer()
    assert [i for i, _ in read_ahead(scorer, tasks("a", "b", "c"))] == [0, 1, 2]
    assert scorer.read == {} and scorer.judged == [(t, False) for t in "abc"]
    assert worth_reading_ahead("cuda", torch_threads=2, cores=2)
    assert worth_reading_ahead("cpu", torch_threads=1, cores=2)
    assert not worth_reading_ahead("cpu", torch_threads=2, cores=2)
    assert not worth_reading_ahead("cpu", torch_threads=8, cores=4)
