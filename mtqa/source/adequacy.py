"""Optional adequacy scoring: does the English say what the source says?

A multilingual chat LM (default: the embedded Qwen2.5-Coder-0.5B-Instruct, `qwen2.5-0.5b` in
`mtqa.models.REGISTRY`) is asked to translate the source, and instead of letting it write we
read the given English as its answer: log P(target | source) per target token. Tokens the model
finds very unlikely while it strongly prefers another word become "mistranslation" spans, with
its preferred word as the suggestion. The reverse direction, log P(source | target), is low when
the English leaves part of the source out (an omission shows there, not in the forward score).

This is slow on a CPU (a 0.5B model in fp32, two forward passes per sentence) and therefore a
config choice, never the default: see benchmarks/source.py for what it measured.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.language import lang_code, source_language
from ..core.result import Span, Suggestion
from ..models import LoadedModel, TokenScores, load_model, project_states

__all__ = [
    "ADEQUACY_FEATURES",
    "ADEQUACY_MODEL",
    "PairScores",
    "adequacy_features",
    "adequacy_spans",
    "chat_prompt",
    "load_adequacy_model",
    "score_pair",
]

ADEQUACY_MODEL = "qwen2.5-0.5b"
SUGGEST_TOP_K = 20  # the reader's likeliest tokens kept per target token: suggestion candidates
PRIOR_INSTRUCTION = "Write a sentence of English news."
LANGUAGE_NAMES = {
    "zh": "Chinese",
    "ru": "Russian",
    "de": "German",
    "ja": "Japanese",
    "ko": "Korean",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pl": "Polish",
    "cs": "Czech",
    "uk": "Ukrainian",
    "en": "English",
}
#: Feature names (natural-log probabilities; `adequacy_features` returns these keys).
ADEQUACY_FEATURES = (
    "adq_fwd_sum",  # log P(target | source), summed over target tokens
    "adq_fwd_mean",  # ... per target token
    "adq_fwd_min",  # the least likely target token
    "adq_fwd_low",  # target tokens with P < LOW_PROB
    "adq_end",  # log P(end of answer | source, target): low for a truncated translation
    "adq_rev_sum",  # log P(source | target), summed over source tokens
    "adq_rev_mean",  # ... per source token
    "adq_pmi_sum",  # log P(target | source) - log P(target | no source); 0 unless `prior`
    "adq_pmi_mean",  # ... per target token
)

LOW_PROB = 0.02
#: A target word becomes a span when its first token has P < SPAN_MAX_PROB while the model's
#: preferred token is at least SPAN_MIN_RATIO times likelier; "major" below MAJOR_MAX_PROB.
#: Chosen on 120 train rows (40 items; benchmarks/source.py): at these cut-offs 22% of spans
#: overlap an annotated error span, against 9% for a word picked at random (19% at P < 0.02).
#: The severity cut is a guess, not a measurement.
SPAN_MAX_PROB = 0.002
SPAN_MIN_RATIO = 20.0
MAJOR_MAX_PROB = 0.0002
MAX_SPANS = 3
_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# Where the model would have started with a function word, the translation usually just orders
# the sentence differently ("Data released ..." vs "The data ..."): not a mistranslation.
FUNCTION_WORDS = frozenset(
    "a an the this that these those it its he she they we you i his her their our and or but "
    "nor so yet if as at by for from in into of on onto to with without about after before "
    "over under between during than then there here is are was were be been being has have "
    "had do does did will would shall should can could may might must not no also which who "
    "whom whose what when where while how all any each some such very more most".split()
)


@dataclass
class PairScores:
    """Evidence for one (source, target) pair.

    `target` holds the target's tokens, with offsets into the target string, their
    log-probabilities given the source and the model's top alternatives; `reverse_logprob` the
    source tokens' log-probabilities given the target (empty when not computed); with `prior`,
    `prior_logprob` the target tokens' log-probabilities when the model is asked for English
    news with no source (what the source adds is the difference: a pointwise mutual information).
    """

    target: TokenScores
    end_logprob: float
    reverse_logprob: np.ndarray
    prior_logprob: np.ndarray | None = None  # target tokens with no source (when `prior`)


def load_adequacy_model(
    spec: str = ADEQUACY_MODEL, threads: int | None = None, device: str = "cpu"
) -> LoadedModel:
    """Load the adequacy LM once per process (the embedded Qwen checks its SHA-256 first)."""
    return load_model(spec, threads, device)


def language_name(lang: str | None, text: str = "") -> str:
    code = source_language(text, lang) if text else lang_code(lang)
    return LANGUAGE_NAMES.get(code or "", "source-language")


def chat_prompt(tokenizer: Any, instruction: str, answer: str) -> tuple[str, str]:
    """(text before the answer, text after it) of a one-turn chat whose reply is `answer`.

    Uses the tokenizer's chat template when it has one, else a plain "instruction, blank line,
    answer" layout. The answer itself is tokenized on its own so its offsets stay exact.
    """
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return f"{instruction}\n\n", ""
    marker = "\x00ANSWER\x00"
    messages = [
        {"role": "user", "content": instruction},
        {"role": "assistant", "content": marker},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    before, _, after = str(text).partition(marker)
    return before, after


def _score_answer(
    lm: LoadedModel, instruction: str, answer: str, top_k: int
) -> tuple[TokenScores, float]:
    """Token log-probs of `answer` as the model's reply to `instruction`, and of the turn end."""
    import torch

    tokenizer = lm.tokenizer
    before, after = chat_prompt(tokenizer, instruction, answer)
    prefix = list(tokenizer(before, add_special_tokens=False)["input_ids"])
    enc = tokenizer(answer, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    suffix = list(tokenizer(after, add_special_tokens=False)["input_ids"])[:1] if after else []
    if not ids:
        empty = np.zeros(0, dtype=np.int64)
        no_top = np.zeros((0, top_k))
        scores = TokenScores(
            empty, empty, empty, np.zeros(0, np.float32), no_top.astype(np.int64), no_top
        )
        return scores, 0.0
    sequence = prefix + ids + suffix
    window = lm.max_context
    if len(sequence) > window:  # keep the answer whole, shorten the prompt from the left
        prefix = prefix[len(sequence) - window :]
        sequence = prefix + ids + suffix
    with torch.inference_mode():
        inputs = torch.tensor([sequence], device=lm.device)
        states = lm.model.base_model(input_ids=inputs).last_hidden_state[0]
    first = len(prefix) - 1  # row predicting ids[0]
    predicted = ids + suffix
    rows = states[first : first + len(predicted)]
    lp, top_ids, top_lp = project_states(lm, rows, torch.tensor(predicted, device=lm.device), top_k)
    n = len(ids)
    tokens = TokenScores(
        ids=np.array(ids, dtype=np.int64),
        starts=np.array([o[0] for o in offsets], dtype=np.int64),
        ends=np.array([o[1] for o in offsets], dtype=np.int64),
        logprob=np.asarray(lp[:n], dtype=np.float32),
        top_ids=np.asarray(top_ids[:n], dtype=np.int64),
        top_logprob=np.asarray(top_lp[:n], dtype=np.float32),
    )
    end = float(lp[n]) if suffix else 0.0
    return tokens, end


def score_pair(
    lm: LoadedModel,
    source: str,
    target: str,
    lang: str | None = None,
    reverse: bool = True,
    top_k: int = 3,
    prior: bool = False,
) -> PairScores:
    """Score the English `target` as a translation of `source` (and, with `reverse`, back;
    with `prior`, also without the source). One forward pass per direction."""
    name = language_name(lang, source)
    forward = f"Translate this {name} news sentence into English:\n{source}"
    tokens, end = _score_answer(lm, forward, target, top_k)
    back = np.zeros(0, dtype=np.float32)
    if reverse:
        backward = f"Translate this English news sentence into {name}:\n{target}"
        back = _score_answer(lm, backward, source, 1)[0].logprob
    alone = None
    if prior:
        alone = _score_answer(lm, PRIOR_INSTRUCTION, target, 1)[0].logprob
    return PairScores(tokens, end, back, alone)


def adequacy_features(scores: PairScores) -> dict[str, float]:
    """`adq_` features of one scored pair (natural logs; 0 where nothing was scored)."""
    lp = scores.target.logprob.astype(np.float64)
    back = scores.reverse_logprob.astype(np.float64)
    pmi = np.zeros(0)
    if scores.prior_logprob is not None and scores.prior_logprob.size == lp.size:
        pmi = lp - scores.prior_logprob.astype(np.float64)
    return {
        "adq_fwd_sum": float(lp.sum()),
        "adq_fwd_mean": float(lp.mean()) if lp.size else 0.0,
        "adq_fwd_min": float(lp.min()) if lp.size else 0.0,
        "adq_fwd_low": float((lp < math.log(LOW_PROB)).sum()),
        "adq_end": scores.end_logprob,
        "adq_rev_sum": float(back.sum()),
        "adq_rev_mean": float(back.mean()) if back.size else 0.0,
        "adq_pmi_sum": float(pmi.sum()),
        "adq_pmi_mean": float(pmi.mean()) if pmi.size else 0.0,
    }


def adequacy_spans(
    target: str,
    tokens: TokenScores,
    decode: Callable[[int], str],
    offset: int = 0,
    max_spans: int = MAX_SPANS,
    max_prob: float = SPAN_MAX_PROB,
    min_ratio: float = SPAN_MIN_RATIO,
) -> list[Span]:
    """Spans (reason "mistranslation") on the target words least expected given the source.

    A word is judged by its first token (what the model predicts before committing to a word);
    it is flagged when that token has P < `max_prob` and the model's top alternative is
    `min_ratio` times likelier, unless either is a function word (a reordering, not a
    wrong word). At most `max_spans` per sentence, least likely first; the
    suggestion is the alternative token, decoded (often a whole word, sometimes its first part).
    """
    found: list[tuple[float, Span]] = []
    for word in _WORD_RE.finditer(target):
        inside = np.where((tokens.ends > word.start()) & (tokens.starts < word.end()))[0]
        if inside.size == 0:
            continue
        k = int(inside[0])
        logprob = float(tokens.logprob[k])
        alternatives = [
            (int(t), float(p))
            for t, p in zip(tokens.top_ids[k], tokens.top_logprob[k], strict=True)
            if int(t) != int(tokens.ids[k])
        ]
        if not alternatives or logprob >= math.log(max_prob):
            continue
        alt_id, alt_lp = alternatives[0]
        suggestion = decode(alt_id).strip()
        if alt_lp - logprob < math.log(min_ratio) or not _WORD_RE.fullmatch(suggestion):
            continue
        if suggestion.lower() == word.group().lower():
            continue
        if suggestion.lower() in FUNCTION_WORDS or word.group().lower() in FUNCTION_WORDS:
            continue
        severity = "major" if logprob < math.log(MAJOR_MAX_PROB) else "minor"
        bits = -logprob / math.log(2)
        message = (
            f"Given the source, the model expected “{suggestion}” here "
            f"(P = {math.exp(alt_lp):.0%}) rather than “{word.group()}” "
            f"(P = {math.exp(logprob):.2%}): possible mistranslation."
        )
        span = Span(
            offset + word.start(),
            offset + word.end(),
            word.group(),
            severity,
            "mistranslation",
            message,
            [Suggestion(suggestion, "reader", round(alt_lp - logprob, 2))],
            round(bits, 3),
        )
        found.append((logprob, span))
    found.sort(key=lambda item: item[0])
    return sorted((span for _, span in found[:max_spans]), key=lambda s: s.start)
