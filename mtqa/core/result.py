"""Result objects shared by every output: spans, sentence judgements, documents, signature."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .text import dump_json

#: Reasons a span or sentence can carry. "fluency": reads unlike English news; "mistranslation":
#: likely wrong word choice; "grammar": a rule-found grammar error (stacked modals);
#: "number"/"name"/"untranslated"/"repetition"/"punctuation"/"length"/"omission"/"addition":
#: deterministic or source-aware checks; "consistency": one thing written in several forms
#: across the document ("Mr Putin" / "Mr. Putin"); "missing-word"/"added-word": a source
#: word no target word translates, target words no source word supports (the dictionary).
REASONS = (
    "fluency",
    "mistranslation",
    "grammar",
    "number",
    "name",
    "untranslated",
    "repetition",
    "punctuation",
    "length",
    "omission",
    "addition",
    "consistency",
    "missing-word",
    "added-word",
)
SEVERITIES = ("major", "minor")
#: Reasons of the spans an editor sees whether or not their sentence is flagged, and which never
#: flag it: what the document itself suggests checking (a name, a term written two ways), and
#: the source dictionary's word-level evidence (`mtqa.source.lexical`).
CHECK_REASONS = ("name", "consistency", "missing-word", "added-word")
#: How every `name` check begins, whichever evidence raised it (the document, peers, the source).
NAME_MESSAGE = "check this name against the source"


@dataclass(frozen=True)
class Suggestion:
    """One replacement for a span, with why it is offered.

    `by`: who proposed it: "peers" (the other systems' translations), "reader" (the source
    reader), "lm" (the target-only language model) or "check" (a check's deterministic fix).
    `gain`: how much likelier the proposing model finds it than the span's own word at that
    position (natural log, nats); None for the peers' and the checks' suggestions. `support`:
    how many other translations write it (peers only).
    """

    text: str
    by: str = "check"
    gain: float | None = None
    support: int | None = None

    def why(self, original: str) -> str:
        """One line for an editor: who proposes it and how strongly (the report's hover)."""
        if self.by == "peers":
            n = self.support or 0
            return f"{n} other translation{'s' if n != 1 else ''} write “{self.text}” here"
        if self.by in ("reader", "lm") and self.gain is not None:
            who = "Given the source" if self.by == "reader" else "Reading the English alone"
            ratio = math.exp(self.gain)
            times = f"{ratio:.1f}× as likely as" if ratio < 10 else f"{ratio:.0f}× as likely as"
            return f"{who}, “{self.text}” is {times} “{original}” here (gain {self.gain:+.2f} nats)"
        return "the check's own fix"

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"text": self.text, "by": self.by}
        if self.gain is not None:
            record["gain"] = round(self.gain, 2)
        if self.support is not None:
            record["support"] = self.support
        return record


def fixes(*texts: str) -> list[Suggestion]:
    """A check's deterministic fixes as suggestions."""
    return [Suggestion(text) for text in texts]


@dataclass
class Span:
    """A suspicious stretch of the document, like a LanguageTool match.

    `start`/`end` are character offsets into the whole document; `document[start:end] == text`.
    """

    start: int
    end: int
    text: str
    severity: str
    reason: str
    message: str
    suggested: list[Suggestion] = field(default_factory=list)
    surprisal: float = 0.0  # frequency-corrected surprisal in bits (0 for rule-based checks)
    probability: float | None = None  # the detector's P(a reviewer marks an error here)

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def suggestions(self) -> list[str]:
        """The suggested replacements' texts, best first."""
        return [item.text for item in self.suggested]

    def suggestion_record(self) -> dict[str, Any]:
        """The suggestions as every output writes them: the texts, and the records."""
        return {
            "suggestions": self.suggestions,
            "suggested": [item.to_record() for item in self.suggested],
        }

    def to_record(self, offset: int = 0) -> dict[str, Any]:
        """As a results-log record, with offsets relative to `offset` (its segment's start)."""
        return {
            "start": self.start - offset,
            "end": self.end - offset,
            "text": self.text,
            "severity": self.severity,
            "reason": self.reason,
            "message": self.message,
            **self.suggestion_record(),
            "surprisal": round(self.surprisal, 3),
            **({} if self.probability is None else {"probability": round(self.probability, 3)}),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], offset: int = 0) -> Span:
        """The inverse of `to_record` (`offset`: where its segment starts); a record from before
        0.7.0 has only the texts."""
        skip = ("suggestions", "suggested", "start", "end")
        fields = {k: v for k, v in record.items() if k not in skip}
        if "suggested" in record:
            suggested = [Suggestion(**item) for item in record["suggested"]]
        else:
            suggested = fixes(*record.get("suggestions", []))
        return cls(
            **fields,
            suggested=suggested,
            start=record["start"] + offset,
            end=record["end"] + offset,
        )


@dataclass
class SentenceResult:
    """The judgement for one sentence (segment) of a document."""

    index: int
    start: int
    end: int
    text: str
    paragraph: int
    score: float  # quality in [0, 1]: 1 - estimated probability of a Major error
    flagged: bool
    severity: str | None  # "major", "minor" or None when not flagged
    spans: list[Span] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    segment_id: str | None = None
    source: str | None = None
    reference: str | None = None
    # The learned detector's words: (start, end, P(a reviewer marks it), P(Major)), document
    # offsets; empty under `span_model: surprisal`. Kept for every sentence, flagged or not, so
    # a later pass (`batch --peers`) can re-judge the words without another LM pass.
    word_probabilities: list[tuple[int, int, float, float]] = field(default_factory=list)

    @property
    def risk(self) -> float:
        """Estimated probability that a reviewer marks a Major error here."""
        return 1.0 - self.score


@dataclass
class Signature:
    """Everything that changes the numbers, in the spirit of sacrebleu's signature."""

    version: str
    model: str
    model_hash: str
    config: str
    config_hash: str
    preset: str
    threshold: float
    context: str

    @classmethod
    def parse(cls, text: str) -> Signature:
        """A signature back from its `format()` text (hashes come back shortened)."""
        fields = dict(part.split(":", 1) for part in text.split("|"))
        config, _, config_hash = fields["config"].partition("@")
        return cls(
            version=fields["mtqa"],
            model=fields["model"],
            model_hash=fields["hash"],
            config=config,
            config_hash=config_hash,
            preset=fields["preset"],
            threshold=float(fields["threshold"]),
            context=fields["context"],
        )

    def format(self) -> str:
        return (
            f"mtqa:{self.version}|model:{self.model}|hash:{self.model_hash[:12]}"
            f"|config:{self.config}@{self.config_hash[:8]}|preset:{self.preset}"
            f"|threshold:{self.threshold:.3f}|context:{self.context}"
        )


@dataclass
class DocumentResult:
    """One scored document: the text, its sentence judgements and the signature."""

    text: str
    sentences: list[SentenceResult]
    signature: Signature
    doc_id: str | None = None
    doc_hash: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Mean sentence quality (1.0 for a document with no sentences)."""
        if not self.sentences:
            return 1.0
        return sum(s.score for s in self.sentences) / len(self.sentences)

    @property
    def flagged(self) -> list[SentenceResult]:
        """Flagged sentences, most severe (lowest score) first."""
        return sorted((s for s in self.sentences if s.flagged), key=lambda s: (s.score, s.index))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for sentence, sentence_data in zip(self.sentences, data["sentences"], strict=True):
            for span, span_data in zip(sentence.spans, sentence_data["spans"], strict=True):
                span_data.update(span.suggestion_record())
        data["score"] = self.score
        data["n_sentences"] = len(self.sentences)
        data["n_flagged"] = len(self.flagged)
        data["signature"]["text"] = self.signature.format()
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return dump_json(self.to_dict(), indent=indent)
