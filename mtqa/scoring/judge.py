"""Signals -> one sentence judgement: calibrated score, flag, severity, spans, reasons."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from ..core.config import Config
from ..core.result import CHECK_REASONS, SentenceResult, Span, Suggestion
from ..core.segment import Segment
from ..core.timing import timed
from ..models import TokenScores
from .signals import FUNCTION_WORD_BITS, Word, unigram_bits

# Words a span may be about: content words that are not names or sentence-initial capitals.
SPAN_KINDS = ("lower", "initial")
# A span starts only at a lowercase word: a capitalised sentence-initial word is too often a
# name ("Andrei", "Mr") to be worth an editor's attention on its own.
SEED_KINDS = ("lower",)


def risk(features: dict[str, float], config: Config, hidden: np.ndarray | None = None) -> float:
    """Estimated probability of a Major error: logistic model fitted by `mtqa calibrate`.

    `hidden` is the sentence's mean final hidden state, used when the config has a learned head.
    """
    z = config.intercept
    for name, mean, scale, weight in zip(
        config.features, config.means, config.scales, config.weights, strict=True
    ):
        z += weight * (features.get(name, 0.0) - mean) / (scale or 1.0)
    if config.hidden_weights:
        if hidden is None:
            raise ValueError("this config needs the sentence's hidden state")
        standard = (hidden - np.asarray(config.hidden_means)) / np.asarray(config.hidden_scales)
        z += float(standard @ np.asarray(config.hidden_weights))
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


# Which reason a calibrated feature speaks for when it pushes a sentence towards a flag; length
# features say how much there is to get wrong, not what is wrong, so they name no reason.
_LENGTH_FEATURES = frozenset({"n_words", "log_words"})
_FEATURE_REASONS = {
    "src_number_mismatch": "number",
    "src_missing_numbers": "number",
    "src_untranslated": "untranslated",
    "src_length_short": "omission",
}
_SIGNED_LENGTH = frozenset({"src_length_z", "peer_length_z"})  # short: omission; long: addition


def reason_of(name: str, value: float) -> str | None:
    """The reason one feature stands for (`value`: its raw value), or None."""
    base = name.removeprefix("rel_")
    if base in _LENGTH_FEATURES:
        return None
    if base in _SIGNED_LENGTH:
        return "omission" if value < 0 else "addition"
    if base in _FEATURE_REASONS:
        return _FEATURE_REASONS[base]
    if base.startswith(("src_", "peer_")):
        return "mistranslation"  # the source or the other systems say something else
    return "fluency"


def driving_reason(features: dict[str, float], config: Config) -> str:
    """The reason whose features add most to the calibrated risk of this sentence."""
    pushes: dict[str, float] = {}
    for name, mean, scale, weight in zip(
        config.features, config.means, config.scales, config.weights, strict=True
    ):
        raw = features.get(name, 0.0)
        push = weight * (raw - mean) / (scale or 1.0)
        reason = reason_of(name, raw)
        if reason is not None and push > 0:
            pushes[reason] = pushes.get(reason, 0.0) + push
    return max(pushes, key=lambda r: pushes[r]) if pushes else "fluency"


@timed("judgement")
def find_spans(
    text: str,
    words: list[Word],
    config: Config,
    suggest: Callable[[Word], list[Suggestion]] | None = None,
    offset: int = 0,
) -> list[Span]:
    """Anomalous words, grown into phrases with anomalous neighbours, with suggestions.

    `text` is what word offsets index (minus `offset`); spans get the same coordinates.
    """
    spans: list[Span] = []
    used: set[int] = set()
    ranked = sorted(range(len(words)), key=lambda i: -words[i].anomaly)
    for i in ranked:
        word = words[i]
        if word.anomaly < config.anomaly_threshold:
            break
        if i in used or word.kind not in SEED_KINDS:
            continue
        lo, hi = i, i
        while lo > 0 and _joins(words[lo - 1], config) and lo - 1 not in used:
            lo -= 1
        while hi + 1 < len(words) and _joins(words[hi + 1], config) and hi + 1 not in used:
            hi += 1
        used.update(range(lo, hi + 1))
        start, end = words[lo].start, words[hi].end
        severity = "major" if word.anomaly >= config.major_anomaly else "minor"
        content = word.unigram >= FUNCTION_WORD_BITS
        reason = "mistranslation" if content else "fluency"
        message = f"“{word.text}” is unexpected here ({word.anomaly:.1f} bits above its usual " + (
            "rarity): likely wrong word choice" if content else "rarity): reads unlike English"
        )
        spans.append(
            Span(
                start=start,
                end=end,
                text=text[start - offset : end - offset],
                severity=severity,
                reason=reason,
                message=message,
                suggested=(
                    in_place(
                        suggest(word),
                        text[start - offset : end - offset],
                        word.start - start,
                        word.end - start,
                    )
                    if suggest
                    else []
                ),
                surprisal=round(word.anomaly, 3),
            )
        )
    return sorted(spans, key=lambda s: s.start)


def _joins(word: Word, config: Config) -> bool:
    return word.kind in SPAN_KINDS and word.anomaly >= config.phrase_threshold


# A suggestion must be a word English text uses (about once in 8 million words or more):
# this keeps out sub-word pieces a tokenizer decodes on their own ("uster", "attr").
WHOLE_WORD_MAX_BITS = 23.0
# The longest span a one-word suggestion is offered for (as the peers' replacements).
MAX_PHRASE_WORDS = 3


def whole_words(
    top_ids: np.ndarray, decode: Callable[[int], str], original: str, after_space: bool
) -> Iterator[tuple[int, str]]:
    """(rank, word) for each of a model's likeliest tokens at a word's first position that is a
    whole-word replacement.

    A kept token starts a word (a leading space where the original has one), is a known English
    word, is not the original word in any case, and, for a content word, is not a function
    word: the editor wants a replacement of the same kind ("passionate" -> "close"), not a
    different construction.
    """
    content = unigram_bits(original.lower()) >= FUNCTION_WORD_BITS
    seen = {original.lower()}
    for rank, token_id in enumerate(top_ids):
        piece = decode(int(token_id))
        candidate = piece.strip()
        bits = unigram_bits(candidate.lower())
        if (
            len(candidate) > 1
            and candidate.replace("-", "").isalpha()
            and (piece[:1].isspace() or not after_space)
            and bits <= WHOLE_WORD_MAX_BITS
            and candidate.lower() not in seen
            and (not content or bits >= FUNCTION_WORD_BITS)
        ):
            seen.add(candidate.lower())
            yield rank, candidate


def gained_candidates(
    scores: TokenScores,
    row: int,
    decode: Callable[[int], str],
    original: str,
    after_space: bool,
    by: str,
    margin: float | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """`whole_words` at token `row` of `scores`, each with its gain over the original (log
    P(candidate) - log P(the original's token) there, in nats), those below `margin` left out.
    Never the original's own first token: for a word of several tokens it decodes as a word
    ("ant" of "antelope") but is the model predicting the original itself (gain 0)."""
    own = float(scores.logprob[row])
    own_id = int(scores.ids[row])
    out: list[Suggestion] = []
    for rank, word in whole_words(scores.top_ids[row], decode, original, after_space):
        if int(scores.top_ids[row][rank]) == own_id:
            continue
        gain = float(scores.top_logprob[row][rank]) - own
        if margin is None or gain >= margin:
            out.append(Suggestion(word, by, round(gain, 2)))
        if len(out) == limit:
            break
    return out


def suggestions(
    word: Word,
    scores: TokenScores,
    decode: Callable[[int], str],
    limit: int = 5,
    margin: float | None = None,
    scope: str = "all",
) -> list[Suggestion]:
    """The language model's likeliest words at the position of the word's first token (it
    reads the left context only). None for a name: reading the English alone it cannot know
    which name is meant (on MQM dev its first word was right for 1 of 165 capitalised spans, and
    its "names" are often pieces, "Vlad", "Stan"); the source reader and the peers can. `scope`
    "function_words": only for a function word ("a" -> "the"), "none": never."""
    if word.kind == "name" or scope == "none":
        return []
    if scope == "function_words" and word.unigram >= FUNCTION_WORD_BITS:
        return []
    after_space = word.first_token > 0 and scores.ends[word.first_token - 1] < word.start
    return gained_candidates(
        scores, word.first_token, decode, word.text, after_space, "lm", margin, limit
    )


def in_place(
    items: list[Suggestion], span: str, word_start: int, word_end: int
) -> list[Suggestion]:
    """Suggestions for one word of `span` (`span[word_start:word_end]`) as replacements of
    the whole span, the rest kept: "Use" on "passionate relationship" then gives "close
    relationship", not "close". None for a span of more than `MAX_PHRASE_WORDS` words: one
    changed word does not mend that much ("Ar an inch in battle, Russia asks ...")."""
    if len(span.split()) > MAX_PHRASE_WORDS:
        return []
    before, after = span[:word_start], span[word_end:]
    return [replace(item, text=before + item.text + after) for item in items]


def led_by(first: list[Suggestion], rest: list[Suggestion], limit: int = 5) -> list[Suggestion]:
    """`first`, then those of `rest` it does not already hold (in any case), at most `limit`."""
    taken = {item.text.lower() for item in first}
    return (first + [item for item in rest if item.text.lower() not in taken])[:limit]


def reader_suggestions(
    text: str,
    start: int,
    end: int,
    reading: TokenScores,
    decode: Callable[[int], str],
    limit: int = 5,
    margin: float | None = None,
) -> list[Suggestion]:
    """What the source reader (the adequacy model: it has read the source and the English up to
    here) would write at the first word of `text[start:end]`, likeliest first, each with its
    gain over the original word there; those under `margin` are left out. Measured on MQM dev
    (benchmarks/suggestions.py --reader) it finds the reference's word 2-4 times as often as
    the left-context LM."""
    inside = np.where(reading.ends > start)[0]
    span = text[start:end]
    words = span.split()
    if inside.size == 0 or not words:
        return []
    after_space = start > 0 and text[start - 1].isspace()
    found = gained_candidates(
        reading, int(inside[0]), decode, words[0], after_space, "reader", margin, limit
    )
    at = span.index(words[0])
    return in_place(found, span, at, at + len(words[0]))


#: Rule-found spans that flag their sentence at any severity (a sure grammar error).
FLAGGING_REASONS = ("grammar",)


def with_reader_suggestions(
    seg: Segment,
    spans: list[Span],
    reading: TokenScores,
    decode: Callable[[int], str],
    margin: float | None = None,
) -> list[Span]:
    """Word-choice spans suggest what the source reader would write first (those it prefers
    to the span's word by at least `margin`), then the LM's words; the checks keep their own
    deterministic fixes (the source's number)."""
    out = []
    for span in spans:
        if span.reason in ("mistranslation", "fluency"):
            read = reader_suggestions(
                seg.text, span.start - seg.start, span.end - seg.start, reading, decode, 5, margin
            )
            span = replace(span, suggested=led_by(read, span.suggested))
        out.append(span)
    return out


@timed("judgement")
def judge_sentence(
    seg: Segment,
    features: dict[str, float],
    spans: list[Span],
    config: Config,
    threshold: float,
    hidden: np.ndarray | None = None,
    *,
    by_risk: bool = True,
) -> SentenceResult:
    """Combine the calibrated risk and the spans into one flag decision with reasons.

    An empty segment (MT produced nothing for a source line) is a Major omission: risk 1.
    `by_risk` False: the risk alone does not flag (a headline; a sentence whose only evidence
    is names, unless the preset is strict); the spans still can.
    """
    empty = not seg.text.strip()
    p = 1.0 if empty else risk(features, config, hidden)
    rule_major = empty or any(
        s.severity == "major" and s.reason not in ("fluency", "mistranslation", *CHECK_REASONS)
        for s in spans
    )
    rule_minor = any(s.reason in FLAGGING_REASONS for s in spans)
    flagged = (p >= threshold and by_risk) or rule_major or rule_minor
    severity = None
    if flagged:
        severity = "major" if (p >= config.major_risk or rule_major) else "minor"
    if empty:
        spans, reasons = [], ["omission"]
    else:
        found = {s.reason for s in spans if s.reason not in CHECK_REASONS}
        if p >= threshold and by_risk:  # flagged by the calibrated risk: name what drove it,
            driver = driving_reason(features, config)  # unless that is fluency and spans
            if driver != "fluency" or not found:  # already say more
                found.add(driver)
        reasons = sorted(found) if flagged else []
    return SentenceResult(
        index=seg.index,
        start=seg.start,
        end=seg.end,
        text=seg.text,
        paragraph=seg.paragraph,
        score=round(1.0 - p, 4),
        flagged=flagged,
        severity=severity,
        spans=spans if flagged else [s for s in spans if s.reason in CHECK_REASONS],
        reasons=reasons,
        features={k: round(v, 4) for k, v in features.items()},
    )


def judge_segment(
    target: str,
    features: dict[str, float],
    spans: list[Span],
    config: Config,
    threshold: float,
    *,
    by_risk: bool = True,
) -> SentenceResult:
    """`judge_sentence` for one segment judged on its own (offsets relative to `target`): the
    judgement of annotated rows in calibration and of batch records re-judged with peers."""
    spans = sorted(spans, key=lambda s: (s.start, s.end))
    seg = Segment(0, 0, len(target), target, 0)
    return judge_sentence(seg, features, spans, config, threshold, by_risk=by_risk)
