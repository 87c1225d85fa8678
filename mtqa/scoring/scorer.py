"""The pipeline: text -> segments -> token log-probs -> signals -> sentence judgements."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..checks import check_quotes, run_checks
from ..checks.consistency import check_consistency
from ..core.config import Config, load_config
from ..core.errors import ConfigError, InputError
from ..core.language import english_warnings
from ..core.result import DocumentResult, SentenceResult, Signature, Span
from ..core.segment import Segment, paragraphs, split_sentences
from ..core.text import validate_text
from ..core.version import __version__
from ..models import (
    LoadedModel,
    TokenScores,
    load_model,
    resolve_device,
    score_text,
    score_texts_batched,
)
from ..source import (
    SOURCE_FEATURES,
    SourcePair,
    given_pairs,
    pair_document,
    pair_features,
    source_spans,
)
from .detector import DETECTOR_FEATURES, detector_features, learned_spans
from .judge import find_spans, judge_sentence, with_reader_suggestions
from .lm_suggestions import lm_suggestions
from .peers import PEER_FEATURES, rel_name
from .review import DocumentView, oddity_spans, review_sentence
from .signals import FEATURES, LN2, Word, segment_tokens, sentence_features, words_of
from .word_batch import detector_inputs


@dataclass
class Scorer:
    """A loaded model plus a config: scores documents, reusable across many calls."""

    lm: LoadedModel
    config: Config
    preset: str = "standard"
    # Optional multilingual LM reading the source (`mtqa.source.adequacy`): adds "mistranslation"
    # spans with its preferred word as the suggestion; scores are unchanged (not calibrated).
    adequacy: LoadedModel | None = None
    # Token scores read ahead in batches by `prefetch`, used once by `analyse`.
    _prefetched: dict[tuple[str, bool], TokenScores] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """A learned head must be as wide as the model's hidden state (the schema cannot know
        the model): refused here rather than failing on the first sentence."""
        width = len(self.config.hidden_weights)
        size = getattr(getattr(self.lm.model, "config", None), "hidden_size", None)
        if width and isinstance(size, int) and width != size:
            raise ConfigError(
                f"config {self.config.name}: hidden_weights has {width} values for a model "
                f"whose hidden state has {size}"
            )

    @classmethod
    def load(
        cls,
        model: str | None = None,
        config: str | None = None,
        preset: str = "standard",
        device: str = "auto",
        precision: str = "fp32",
    ) -> Scorer:
        """`device`: auto (CUDA when usable, else CPU), cpu, cuda or cuda:N; `precision`: the
        GPU's number format, fp32, bf16 or fp16 (the CPU is always fp32)."""
        cfg = check_config(config, preset)
        lm = load_model(model or cfg.model, device=resolve_device(device), precision=precision)
        return cls(lm, cfg, preset)

    @property
    def signature(self) -> Signature:
        return Signature(
            version=__version__,
            model=self.lm.name,
            model_hash=self.lm.file_hash,
            config=self.config.name,
            config_hash=self.config.digest(),
            preset=self.preset,
            threshold=self.config.threshold(self.preset),
            context=f"document/window{self.config.window}"
            + self._suggestion_tag()
            + self._adequacy_tag()
            + self._device_tag(),
        )

    def _device_tag(self) -> str:
        """Scores from a GPU differ from the CPU's in the last digits (more in bf16/fp16): say
        so, and never mix the two in one output folder."""
        if self.lm.device == "cpu":
            return ""
        dtype = next(self.lm.model.parameters()).dtype
        return f"+{self.lm.device}-" + str(dtype).removeprefix("torch.")

    def _adequacy_tag(self) -> str:
        if self.adequacy is None:
            return ""
        margin = self.config.reader_margin
        gate = "" if margin is None else f"/margin{margin:+g}"
        return f"+adequacy:{self.adequacy.name}@{self.adequacy.file_hash[:12]}{gate}"

    def _suggestion_tag(self) -> str:
        """The LM suggestions' margin (the config hash holds it too; said here for people)."""
        margin, scope = self.config.lm_margin, self.config.lm_suggestions
        tag = "" if scope == "gated" else f"+lm-suggestions:{scope}"
        return tag + ("" if margin is None else f"+lm-margin{margin:+g}")

    def load_adequacy(self, spec: str | None = None) -> None:
        """Also read the source with a multilingual LM (default: the embedded Qwen 0.5B)."""
        from ..source.adequacy import ADEQUACY_MODEL, load_adequacy_model

        self.adequacy = load_adequacy_model(spec or ADEQUACY_MODEL, device=self.lm.device)

    def score(
        self,
        text: str,
        doc_id: str | None = None,
        segments: list[Segment] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        source: str | None = None,
        sources: list[str | None] | None = None,
        source_lang: str | None = None,
    ) -> DocumentResult:
        """Score `text` as running prose; `segments` overrides sentence splitting (batch input).

        With `source` (the original document) sentences are aligned to it; with `sources` (one
        per segment, batch input) the given pairing is used. Either adds the source-aware checks:
        numbers, untranslated text, length, omissions and additions.
        """
        validate_text(text)
        segs = segments if segments is not None else split_sentences(text)
        pairs = self._pair(segs, source, sources, source_lang)
        cfg = self.config
        head = bool(cfg.hidden_weights)
        learned = cfg.span_model == "detector"
        tokens, all_words = self.analyse(
            text, segs, keep_hidden=self._reads_hidden, on_progress=on_progress
        )
        detector_words, probs = detector_inputs(text, tokens, all_words, segs, self._reads_detector)
        threshold = cfg.threshold(self.preset)
        decode = _decoder(self.lm)
        sentences: list[SentenceResult] = []
        # Quotations often span sentences: balance quotes per paragraph, not per sentence.
        quote_spans = [
            span
            for start, end in paragraphs(text)
            for span in check_quotes(text[start:end], offset=start)
        ]
        src_features = (
            pair_features(pairs[0], segs, source_lang)
            if pairs is not None and any(f.startswith("src_") for f in cfg.features)
            else None
        )
        bits = -tokens.logprob / LN2
        document_checks = check_consistency(text, segs)
        view = DocumentView.read(text, segs, document_checks)
        for seg, words in zip(segs, all_words, strict=True):
            features = sentence_features(words, bits[segment_tokens(tokens, seg)])
            if src_features is not None:
                features.update(src_features[seg.index])
            suggest = lambda w, seg=seg: lm_suggestions(  # noqa: E731
                self.lm,
                w,
                tokens,
                decode,
                seg.text,
                seg.start,
                cfg.window,
                cfg.lm_suggestions,
                cfg.lm_margin,
            )
            if detector_words is not None:
                seg_words = detector_words[seg.index]
                p_any, p_major = probs[seg.index]  # read for the whole document at once
                features.update(detector_features(p_any, p_major))
            oddities = []
            if learned:
                spans = learned_spans(text, seg_words, p_any, p_major, suggest)
                oddities = oddity_spans(text, seg_words, p_any, suggest)
            else:
                spans = find_spans(text, words, cfg, suggest)
            if pairs is None:
                spans += run_checks(seg.text, offset=seg.start, quotes=False)
            else:
                spans += pairs[1][seg.index]
            spans += [q for q in quote_spans if seg.start <= q.start < seg.end]
            if pairs is not None and self.adequacy is not None:
                reading = self._read_source(seg, pairs[0][seg.index].source, source_lang)
                if reading is not None:
                    from ..source.adequacy import adequacy_spans

                    decode_reader = _decoder(self.adequacy)
                    spans = with_reader_suggestions(
                        seg, spans, reading, decode_reader, cfg.reader_margin
                    )
                    spans += adequacy_spans(seg.text, reading, decode_reader, seg.start)
            spans += [c for c in document_checks if seg.start <= c.start < seg.end]
            seen = review_sentence(seg, spans, view, oddities)
            hidden = sentence_hidden(tokens, seg) if head else None
            judged = judge_sentence(
                seg,
                features,
                seen.spans,
                cfg,
                threshold,
                hidden,
                by_risk=seen.by_risk(self.preset == "strict"),
            )
            if detector_words is not None:
                judged.word_probabilities = [
                    (w.start, w.end, round(float(a), 4), round(float(m), 4))
                    for w, a, m in zip(seg_words, p_any, p_major, strict=True)
                ]
            if pairs is not None:
                judged.source = pairs[0][seg.index].source
            sentences.append(judged)
        return DocumentResult(
            text=text,
            sentences=sentences,
            signature=self.signature,
            doc_id=doc_id,
            doc_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            warnings=english_warnings(text),
        )

    def _read_source(
        self, seg: Segment, source: str | None, lang: str | None
    ) -> TokenScores | None:
        """The adequacy LM's reading of `seg` as the translation of its source sentence(s):
        per target token its probability and the words it would have written instead."""
        from ..source.adequacy import SUGGEST_TOP_K, score_pair

        if self.adequacy is None or not source or not source.strip() or not seg.text.strip():
            return None
        return score_pair(
            self.adequacy, source, seg.text, lang, reverse=False, top_k=SUGGEST_TOP_K
        ).target

    @staticmethod
    def _pair(
        segs: list[Segment],
        source: str | None,
        sources: list[str | None] | None,
        source_lang: str | None,
    ) -> tuple[list[SourcePair], list[list[Span]]] | None:
        """Source pairing and the source-aware spans of each segment, or None without a source."""
        if source is None and sources is None:
            return None
        if source is not None:
            if not source.strip():
                raise InputError("the source document is empty")
            pairs, omitted = pair_document(source, segs, source_lang)
        else:
            pairs, omitted = given_pairs(sources or [], segs), []
        return pairs, source_spans(segs, pairs, omitted, source_lang)

    def analyse(
        self,
        text: str,
        segments: list[Segment],
        keep_hidden: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> tuple[TokenScores, list[list[Word]]]:
        """Token log-probs for the whole text and the words of each segment."""
        cfg = self.config
        tokens = self._prefetched.pop((text, keep_hidden), None)
        if tokens is None:
            tokens = score_text(
                self.lm,
                text,
                cfg.window,
                cfg.overlap,
                cfg.top_k,
                keep_hidden=keep_hidden,
                on_progress=on_progress,
            )
        return tokens, words_of(text, tokens, segments, cfg.alpha)

    def prefetch(self, texts: list[str], token_budget: int = 16384) -> None:
        """Read many documents' tokens in padded, length-bucketed batches (worth it on a GPU);
        `score`/`score_segments` of the same texts then use them instead of a pass each."""
        cfg = self.config
        keep = self._reads_hidden
        scored = score_texts_batched(self.lm, texts, cfg.window, cfg.top_k, keep, token_budget)
        for text, tokens in zip(texts, scored, strict=True):
            if tokens is not None:
                self._prefetched[(text, keep)] = tokens

    @property
    def _reads_hidden(self) -> bool:
        """The hidden states are read when the combiner's head or the detector uses them."""
        return bool(self.config.hidden_weights) or self._reads_detector

    @property
    def _reads_detector(self) -> bool:
        """The detector runs for its spans or for the combiner's `det_` features."""
        cfg = self.config
        return cfg.span_model == "detector" or any(f in DETECTOR_FEATURES for f in cfg.features)

    def score_segments(
        self,
        segments: list[str],
        doc_id: str | None = None,
        sources: list[str | None] | None = None,
    ) -> DocumentResult:
        """Score pre-segmented text (one segment per line of a corpus) as one running document.

        Segments are joined with newlines, so each is read in the context of the ones before it,
        and each becomes exactly one sentence result (no re-splitting).
        """
        segs = join_segments(segments)
        text = "\n".join(segments)
        return self.score(text, doc_id=doc_id, segments=segs, sources=sources)


def known_features() -> set[str]:
    """Every feature name a config's combiner may read."""
    base = set(FEATURES) | set(SOURCE_FEATURES) | set(PEER_FEATURES) | set(DETECTOR_FEATURES)
    return base | {rel_name(name) for name in base}


def check_config(config: str | None, preset: str = "standard") -> Config:
    """Load and check a config without loading a model: schema, preset, features."""
    cfg = load_config(config)
    cfg.threshold(preset)  # fail early on an unknown preset
    check_features(cfg)
    return cfg


def check_features(config: Config) -> None:
    """Refuse a config whose combiner reads features nothing computes (they would all be 0)."""
    known = known_features()
    unknown = [name for name in config.features if name not in known]
    if unknown:
        raise ConfigError(
            f"config {config.name}: features: unknown feature {unknown[0]!r} "
            f"({len(unknown)} unknown of {len(config.features)})"
        )


def sentence_hidden(tokens: TokenScores, seg: Segment) -> np.ndarray:
    """Mean final hidden state over the tokens inside a segment (the learned head's input)."""
    assert tokens.hidden is not None
    rows = tokens.hidden[segment_tokens(tokens, seg)]
    if rows.shape[0] == 0:
        return np.zeros(tokens.hidden.shape[1], dtype=np.float32)
    return rows.mean(0)


def join_segments(segments: list[str]) -> list[Segment]:
    """Segments laid out one per line: offsets into `"\n".join(segments)`."""
    out: list[Segment] = []
    pos = 0
    for index, segment in enumerate(segments):
        if "\n" in segment:
            raise InputError(f"segment {index + 1} contains a newline")
        out.append(Segment(index, pos, pos + len(segment), segment, index))
        pos += len(segment) + 1
    return out


def _decoder(lm: LoadedModel) -> Callable[[int], str]:
    cache: dict[int, str] = {}

    def decode(token_id: int) -> str:
        if token_id not in cache:
            cache[token_id] = lm.tokenizer.decode([token_id])
        return cache[token_id]

    return decode


def score_document(
    text: str,
    model: str | None = None,
    config: str | None = None,
    preset: str = "standard",
    doc_id: str | None = None,
) -> DocumentResult:
    """Score one document with the default (or given) model and config."""
    return Scorer.load(model, config, preset).score(text, doc_id=doc_id)
