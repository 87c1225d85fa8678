"""What the target-only LM suggests for a span, and whether to show it.

Reading the English alone the LM's likeliest word at a span is rarely the fix (its first word
matched the reference's for 4.5% of MQM dev spans), so showing it everywhere teaches editors to
ignore suggestions. Two ways to say less, chosen by `lm_suggestions` in the config:

- "gated" (default since 0.9.0): a learned gate (`data/suggestion-gate.npz`, trained on MQM
  train spans by `benchmarks/suggestion_gate.py`) shows the LM's words only where they look like
  a fix: the LM is confident of another word where it found the span's word unlikely ("new
  crown" -> "COVID", "epidemic" -> "pandemic"). Its threshold was chosen on train, grouped by
  document, for a first-suggestion precision of 0.30.
- "function_words" / "all": the LM's words for function-word spans or every span, re-ranked by
  the whole sentence with each in place (`by_whole_sentence`): at the position the LM reads only
  the left context, and the right context decides between "the" and "a".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import package_data
from ..core.result import Suggestion
from ..core.timing import timed
from ..models import LoadedModel, TokenScores, score_texts_batched
from .detector import Trees, head_probabilities, read_trees_artefact
from .judge import suggestions as next_token_suggestions
from .signals import FUNCTION_WORD_BITS, Word, unigram_bits

# Candidates read per span: the LM's likeliest whole words at the position.
RERANK_POOL = 8
GATE_FEATURES = (
    "gain",  # log P(first candidate) - log P(the span's first token), at the position
    "own_logprob",  # log P(the span's first token)
    "top_logprob",  # log P(the LM's likeliest token there)
    "candidate_rarity",  # unigram surprisal of the first candidate (bits)
    "word_is_function",
    "candidate_is_function",
    "same_first_letters",  # the candidate starts as the word does (its first three letters)
    "shared_prefix",  # letters in common at the start, when it does
    "word_lower",
    "word_initial",
    "candidates",  # whole-word candidates found (up to RERANK_POOL)
)
GATE_PATH = package_data("scoring", "data", "suggestion-gate")


def gate_features(word: Word, scores: TokenScores, found: list[Suggestion]) -> list[float]:
    """The gate's inputs (GATE_FEATURES) for `word` and the LM's candidates there, best first."""
    first = found[0]
    own, their = word.text.lower(), first.text.lower()
    same = own[:3] == their[:3]
    shared = sum(1 for a, b in zip(own, their, strict=False) if a == b) if same else 0
    rarity = unigram_bits(their)
    return [
        float(first.gain or 0.0),
        float(scores.logprob[word.first_token]),
        float(scores.top_logprob[word.first_token][0]),
        rarity,
        float(word.unigram < FUNCTION_WORD_BITS),
        float(rarity < FUNCTION_WORD_BITS),
        float(same),
        float(shared),
        float(word.kind == "lower"),
        float(word.kind == "initial"),
        float(len(found)),
    ]


@dataclass
class SuggestionGate:
    """Boosted trees giving P(the LM's first word is the fix), and the threshold to show it."""

    trees: Trees
    threshold: float
    meta: dict[str, Any]

    def probability(self, features: list[float]) -> float:
        x = np.asarray([features], dtype=np.float64)
        return float(head_probabilities({"fix": self.trees}, x)["fix"][0])

    def shows(self, features: list[float]) -> bool:
        return self.probability(features) >= self.threshold


def _gate(
    arrays: Mapping[str, np.ndarray], meta: dict[str, Any], heads: dict[str, Trees]
) -> SuggestionGate:
    if list(meta["features"]) != list(GATE_FEATURES):
        raise ValueError("the gate was trained on other features")
    return SuggestionGate(heads["fix"], float(meta["threshold"]), meta)


@lru_cache(maxsize=4)
def load_suggestion_gate(path: str | Path = GATE_PATH) -> SuggestionGate:
    return read_trees_artefact(path, "suggestion gate", _gate, heads=("fix",))


@timed("suggestion gate")
def lm_suggestions(
    lm: LoadedModel,
    word: Word,
    scores: TokenScores,
    decode: Callable[[int], str],
    sentence: str,
    sentence_start: int,
    window: int,
    scope: str,
    margin: float | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """The LM's suggestions for the span that starts at `word` (document offsets; `sentence`
    starts at `sentence_start`), as `scope` says which to show; `margin` gates on the gain."""
    if scope == "gated":
        found = next_token_suggestions(word, scores, decode, limit=RERANK_POOL)
        if not found or not load_suggestion_gate().shows(gate_features(word, scores, found)):
            return []
        return at_least(found, margin)[:limit]
    found = next_token_suggestions(word, scores, decode, limit=RERANK_POOL, scope=scope)
    start, end = word.start - sentence_start, word.end - sentence_start
    return by_whole_sentence(lm, sentence, start, end, found, window, margin, limit)


def by_whole_sentence(
    lm: LoadedModel,
    sentence: str,
    start: int,
    end: int,
    candidates: list[Suggestion],
    window: int,
    margin: float | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """`candidates` for `sentence[start:end]`, best first by the log-probability of the whole
    sentence with each in that place minus the sentence's own (nats: the new `gain`), in one
    batched pass; those below `margin` left out. Unchanged (left-context order, at most `limit`)
    when the sentence does not fit one window."""
    if not candidates:
        return []
    variants = [sentence] + [sentence[:start] + c.text + sentence[end:] for c in candidates]
    scored = score_texts_batched(lm, variants, window, top_k=1)
    totals = [None if s is None else float(s.logprob.sum()) for s in scored]
    own = totals[0]
    if own is None or any(t is None for t in totals):
        return candidates[:limit]
    gained = [
        replace(c, gain=round(float(t or 0.0) - own, 2))
        for c, t in zip(candidates, totals[1:], strict=True)
    ]
    ranked = sorted(gained, key=lambda c: -(c.gain or 0.0))  # stable: ties keep the LM's order
    return at_least(ranked, margin)[:limit]


def at_least(items: list[Suggestion], margin: float | None) -> list[Suggestion]:
    """Those whose gain reaches `margin` (all when it is None)."""
    return [s for s in items if margin is None or (s.gain or 0.0) >= margin]
