"""The target-only LM's suggestions: the learned gate and whole-sentence re-ranking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtqa.core.errors import ModelError
from mtqa.core.result import Suggestion
from mtqa.core.segment import Segment
from mtqa.models import score_text
from mtqa.scoring import Scorer
from mtqa.scoring.lm_suggestions import (
    GATE_FEATURES,
    GATE_PATH,
    by_whole_sentence,
    lm_suggestions,
    load_suggestion_gate,
)

SENTENCE = "The children is playing in the garden."


def candidates() -> list[Suggestion]:
    # In left-context order, "was" first: after "The children" alone either could follow.
    return [Suggestion("was", "lm", 1.0), Suggestion("are", "lm", 0.5)]


def test_the_right_context_decides(scorer: Scorer) -> None:
    start = SENTENCE.index("is")
    got = by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, candidates(), 2048)
    assert [s.text for s in got] == ["are", "was"]
    assert all(s.by == "lm" for s in got)


def test_gain_is_the_whole_sentence_log_probability_difference(scorer: Scorer) -> None:
    start = SENTENCE.index("is")
    got = by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, candidates(), 2048)
    own = float(score_text(scorer.lm, SENTENCE).logprob.sum())
    fixed = float(score_text(scorer.lm, SENTENCE.replace(" is ", " are ")).logprob.sum())
    assert got[0].gain is not None and abs(got[0].gain - (fixed - own)) < 0.05
    assert got[0].gain > 0
    again = by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, candidates(), 2048)
    assert again == got  # deterministic


def test_margin_and_limit(scorer: Scorer) -> None:
    start = SENTENCE.index("is")
    got = by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, candidates(), 2048)
    assert got[0].gain is not None and got[1].gain is not None
    between = (got[0].gain + got[1].gain) / 2
    gated = by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, candidates(), 2048, between)
    assert [s.text for s in gated] == ["are"]
    best = by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, candidates(), 2048, limit=1)
    assert best == [got[0]]
    assert by_whole_sentence(scorer.lm, SENTENCE, start, start + 2, [], 2048) == []


def test_a_sentence_longer_than_the_window_keeps_the_lm_order(scorer: Scorer) -> None:
    long = "word " * 40 + SENTENCE
    start = long.index(" is ") + 1
    got = by_whole_sentence(scorer.lm, long, start, start + 2, candidates(), 16)
    assert got == candidates()


def test_the_gate_artefact_matches_its_features() -> None:
    gate = load_suggestion_gate()
    assert gate.meta["features"] == list(GATE_FEATURES)
    assert 0.0 < gate.threshold < 1.0
    assert len(gate.trees.feature) == gate.meta["settings"]["trees"]


def test_a_damaged_gate_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "gate"
    broken.with_suffix(".npz").write_bytes(GATE_PATH.with_suffix(".npz").read_bytes()[:3000])
    broken.with_suffix(".json").write_text(GATE_PATH.with_suffix(".json").read_text())
    with pytest.raises(ModelError) as err:
        load_suggestion_gate(broken)
    assert "\n" not in str(err.value) and "suggestion gate" in str(err.value)
    other = tmp_path / "other"
    other.with_suffix(".npz").write_bytes(GATE_PATH.with_suffix(".npz").read_bytes())
    meta = json.loads(GATE_PATH.with_suffix(".json").read_text())
    other.with_suffix(".json").write_text(json.dumps({**meta, "features": ["gain"]}))
    with pytest.raises(ModelError, match="missing or damaged"):
        load_suggestion_gate(other)


def gated_for(scorer: Scorer, text: str, word_text: str) -> list[Suggestion]:
    tokens, words = scorer.analyse(text, [Segment(0, 0, len(text), text, 0)])
    word = next(w for w in words[0] if w.text == word_text)
    decode = lambda i: scorer.lm.tokenizer.decode([i])  # noqa: E731
    return lm_suggestions(scorer.lm, word, tokens, decode, text, 0, 2048, "gated")


def test_the_gate_shows_a_confident_fix(scorer: Scorer) -> None:
    """An MQM dev translation (WMT 2021 zh-en) the reference fixes as the LM would: sure of
    "destinations" where it found "resorts" unlikely, the LM passes the gate."""
    text = (
        "Tourism is an important pillar industry in Spain, and Spain is one of the most popular"
        " resorts for British tourists."
    )
    got = gated_for(scorer, text, "resorts")
    assert got and got[0].text == "destinations" and got[0].by == "lm"
    assert got[0].gain is not None and got[0].gain > 0


def test_the_gate_says_nothing_when_the_lm_is_unsure(scorer: Scorer) -> None:
    text = "Many tourists flock to seaside resorts every summer."
    for word in ("tourists", "flock", "seaside", "resorts", "summer"):
        assert gated_for(scorer, text, word) == [], word
    assert gated_for(scorer, "Since the outbreak, Vance has spoken.", "Vance") == []
