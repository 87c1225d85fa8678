"""The real model on the seed article: flags, spans, invariants, determinism."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from mtqa import DocumentResult, Scorer, score_document
from mtqa.models import score_text

KNOWN_BAD = {
    "game skills": "game skills about peace negotiations",
    "progressive rate": "war of loss",
    "hard ball demand": "hard ball demand",
    "passionate": "passionate relationship",
    "116 directions": "moving in 116 directions",
    "intend": "we will intend to end them",
}


def _flagged_known(result: DocumentResult) -> set[str]:
    found = set()
    for sent in result.flagged:
        for key, phrase in KNOWN_BAD.items():
            if phrase in sent.text:
                found.add(key)
    return found


def test_seed_article_flags_most_known_errors_and_under_half(seed_result: DocumentResult) -> None:
    found = _flagged_known(seed_result)
    assert len(found) >= 4, f"only flagged {sorted(found)}"
    assert len(seed_result.flagged) < len(seed_result.sentences) / 2


def test_spans_point_at_the_bad_words(seed_result: DocumentResult) -> None:
    span_texts = " | ".join(sp.text for s in seed_result.flagged for sp in s.spans)
    hits = [w for w in ("game", "demand", "rate", "passionate", "intend") if w in span_texts]
    assert len(hits) >= 3, span_texts


def test_span_invariants(seed_result: DocumentResult, seed_text: str) -> None:
    for sent in seed_result.sentences:
        assert seed_text[sent.start : sent.end] == sent.text
        assert 0.0 <= sent.score <= 1.0
        assert sent.flagged == (sent.severity is not None)
        for span in sent.spans:
            assert seed_text[span.start : span.end] == span.text
            assert sent.start <= span.start < span.end <= sent.end
            assert span.severity in ("major", "minor")
            assert span.message


def test_suggestion_invariants(scorer: Scorer, seed_text: str) -> None:
    """With the LM suggesting for every span (`lm_suggestions: all`; the default gate shows
    none on the seed): whole words in the span's place, never the span itself, with a gain."""
    every = Scorer(scorer.lm, replace(scorer.config, lm_suggestions="all"), scorer.preset)
    result = every.score(seed_text, doc_id="seed_article.txt")
    with_suggestions = [sp for s in result.flagged for sp in s.spans if sp.suggestions]
    assert len(with_suggestions) >= 5, "few spans carry a suggestion"
    for span in with_suggestions:
        assert span.text.lower() not in [w.lower() for w in span.suggestions]
        for item in span.suggested:  # whole-span replacements: one word changed, the rest kept
            assert item.text and item.text == item.text.strip() and item.by in ("lm", "check")
            if item.by == "lm":
                assert len(item.text.split()) == len(span.text.split()) <= 3
                assert item.gain is not None


def test_scores_are_deterministic(scorer: Scorer, seed_text: str, seed_result) -> None:
    again = scorer.score(seed_text, doc_id="seed_article.txt")
    assert [s.score for s in again.sentences] == [s.score for s in seed_result.sentences]
    assert again.to_json() == seed_result.to_json()


def test_windowed_reading_scores_every_token_once(scorer: Scorer, seed_text: str) -> None:
    whole = score_text(scorer.lm, seed_text, window=4096)
    windowed = score_text(scorer.lm, seed_text, window=256, overlap=128)
    assert len(whole) == len(windowed)
    assert (whole.ids == windowed.ids).all()
    # With 128+ tokens of context the two readings agree closely on average.
    assert abs(float(whole.logprob.mean()) - float(windowed.logprob.mean())) < 0.15


def test_context_makes_a_repeated_name_less_surprising(scorer: Scorer) -> None:
    text = "Tatiana Stanovaya is a researcher. Later, Tatiana Stanovaya spoke again."
    tokens = score_text(scorer.lm, text)
    second = text.rindex("Stanovaya")
    first_bits = -tokens.logprob[(tokens.ends > 8) & (tokens.starts < 17)].sum()
    second_bits = -tokens.logprob[(tokens.ends > second) & (tokens.starts < second + 9)].sum()
    assert second_bits < first_bits / 3


def test_json_carries_the_signature(seed_result: DocumentResult) -> None:
    data = json.loads(seed_result.to_json())
    sig = data["signature"]
    assert sig["model"] == "smollm2-135m" and len(sig["model_hash"]) == 64
    assert sig["text"].startswith("mtqa:") and "preset:standard" in sig["text"]
    assert data["n_sentences"] == 40


def test_python_api_matches_scorer(seed_text: str, seed_result: DocumentResult) -> None:
    result = score_document(seed_text, doc_id="seed_article.txt")
    assert [s.score for s in result.sentences] == [s.score for s in seed_result.sentences]


def test_presets_order_the_number_of_flags(scorer: Scorer, seed_text: str) -> None:
    counts = {}
    for preset in ("strict", "standard", "lenient"):
        counts[preset] = len(Scorer(scorer.lm, scorer.config, preset).score(seed_text).flagged)
    assert counts["strict"] >= counts["standard"] >= counts["lenient"]
    assert counts["strict"] > counts["lenient"]


def test_empty_segment_is_a_major_omission(scorer: Scorer) -> None:
    result = scorer.score_segments(["The talks ended on Friday.", "", "Both sides left."])
    empty = result.sentences[1]
    assert empty.flagged and empty.severity == "major" and empty.reasons == ["omission"]
    assert empty.score == 0.0 and empty.spans == []
    assert result.sentences[0].text == "The talks ended on Friday."


def test_segment_tokens_match_the_overlap_rule(scorer: Scorer, seed_text: str) -> None:
    """The binary-search slice holds exactly the tokens overlapping each sentence."""
    from mtqa.core.segment import split_sentences
    from mtqa.scoring import segment_tokens

    segments = split_sentences(seed_text)
    tokens, _ = scorer.analyse(seed_text, segments)
    for seg in segments:
        mask = (tokens.ends > seg.start) & (tokens.starts < seg.end)
        assert list(np.flatnonzero(mask)) == list(range(len(tokens)))[segment_tokens(tokens, seg)]
