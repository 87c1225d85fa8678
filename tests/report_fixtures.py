"""Hand-made DocumentResult fixtures for the report tests (no model needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from mtqa.core.result import DocumentResult, SentenceResult, Signature, Span, fixes

SIGNATURE = Signature(
    version="0.1.0",
    model="hand-made-fixture",
    model_hash="0123456789abcdef" * 4,
    config="news",
    config_hash="fedcba9876543210" * 4,
    preset="balanced",
    threshold=0.5,
    context="paragraph",
)
CLEAN_SCORE = 0.93


@dataclass(frozen=True)
class Flag:
    """Flag the first occurrence of `phrase` (after `after`, if given) as a span."""

    phrase: str
    severity: str
    reason: str
    message: str
    suggestions: tuple[str, ...] = ()
    score: float = 0.3
    after: str = ""


@dataclass(frozen=True)
class SentenceFlag:
    """Flag a whole sentence (by its position) without a span, e.g. an omission."""

    position: int
    severity: str
    reason: str
    score: float = 0.3


def _locate(text: str, paragraphs: Sequence[Sequence[str]]) -> list[SentenceResult]:
    out: list[SentenceResult] = []
    cursor = 0
    for p_no, sentences in enumerate(paragraphs):
        for sentence in sentences:
            start = text.index(sentence, cursor)
            out.append(
                SentenceResult(
                    index=len(out),
                    start=start,
                    end=start + len(sentence),
                    text=sentence,
                    paragraph=p_no,
                    score=CLEAN_SCORE,
                    flagged=False,
                    severity=None,
                )
            )
            cursor = start + len(sentence)
    return out


def _mark(sentence: SentenceResult, severity: str, reason: str, score: float) -> None:
    sentence.flagged = True
    if sentence.severity != "major":
        sentence.severity = severity
    sentence.score = min(sentence.score, score)
    if reason not in sentence.reasons:
        sentence.reasons.append(reason)


def _apply_flag(text: str, sentences: list[SentenceResult], flag: Flag) -> None:
    start = text.index(flag.phrase, text.index(flag.after) if flag.after else 0)
    end = start + len(flag.phrase)
    sentence = next(s for s in sentences if s.start <= start and end <= s.end)
    span = Span(
        start=start,
        end=end,
        text=flag.phrase,
        severity=flag.severity,
        reason=flag.reason,
        message=flag.message,
        suggested=fixes(*flag.suggestions),
        surprisal=12.5,
    )
    sentence.spans.append(span)
    sentence.spans.sort(key=lambda sp: sp.start)
    _mark(sentence, flag.severity, flag.reason, flag.score)


def build_doc(
    paragraphs: Sequence[Sequence[str]],
    flags: Sequence[Flag] = (),
    sentence_flags: Sequence[SentenceFlag] = (),
    *,
    seps: Sequence[str] | None = None,
    sentence_sep: str = " ",
    lead: str = "",
    tail: str = "\n",
    doc_id: str | None = "fixture",
    sources: dict[int, str] | None = None,
    references: dict[int, str] | None = None,
    signature: Signature = SIGNATURE,
    warnings: Sequence[str] = (),
) -> DocumentResult:
    """Join sentences into a document, then flag phrases / sentences by hand."""
    seps = list(seps) if seps is not None else ["\n"] * (len(paragraphs) - 1)
    body = ""
    for p_no, parts in enumerate(paragraphs):
        body += sentence_sep.join(parts)
        if p_no < len(paragraphs) - 1:
            body += seps[p_no]
    text = lead + body + tail
    sentences = _locate(text, paragraphs)
    for flag in flags:
        _apply_flag(text, sentences, flag)
    for sflag in sentence_flags:
        _mark(sentences[sflag.position], sflag.severity, sflag.reason, sflag.score)
    for pos, source in (sources or {}).items():
        sentences[pos].source = source
    for pos, reference in (references or {}).items():
        sentences[pos].reference = reference
    return DocumentResult(
        text=text,
        sentences=sentences,
        signature=signature,
        doc_id=doc_id,
        doc_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        warnings=list(warnings),
    )


SEED_PARAGRAPHS = [
    ["Take an inch in battle, Russia asks for miles in conversation"],
    [
        "President Vladimir V. Putin has been strengthening a clear message with his officials "
        "as the world waited to see if he appeared in Türkiye for ceasefire negotiations.",
        "They win on the battlefield, so they deserve what they want.",
    ],
    [
        "Mr Putin said in late March that Russian troops had an advantage throughout the front "
        "and suggested that Moscow approach the conquest of the Ukrainians – the argument used "
        "by the Kremlin to support the hard ball demand.",
    ],
    [
        "Andrei V. Kartapolov, head of the Russian Parliament's defense committee, reiterated "
        "the message on Tuesday, saying Ukraine needs to recognize that Russian troops are "
        "moving in 116 directions.",
        "He added that if Ukrainians don’t want to speak, they must listen to “the language of "
        "Russian bayonets.”",
    ],
    [
        "A tough approach is accompanied by game skills about peace negotiations.",
        "It is unclear whether Mr. Putin will participate in the talks proposed by his initial "
        "intermediate delegation in Türkiye.",
    ],
    ["Mr. Putin puts everyone in trouble."],
    [
        "Any success in the negotiations may depend on some way to convince Mr. Putin that he "
        "will benefit more from his passionate relationship with the United States rather than "
        "a costly step-by-step gain in the fight.",
    ],
    [
        "In the war of loss, a breakthrough in progressive rate can be proposed if the failed "
        "side exhausts the troops and ammunition and their defense lines eventually collapse.",
    ],
    [
        "It has huge weapons production capacity and it will be even worse if our supply to "
        "Ukraine drys up.",
    ],
]

SEED_FLAGS = [
    Flag(
        "hard ball demand",
        "minor",
        "fluency",
        "Unusual phrase for English news.",
        ("hardball demands",),
        0.55,
    ),
    Flag("116 directions", "minor", "number", "Check this number against the source.", (), 0.6),
    Flag(
        "game skills",
        "major",
        "mistranslation",
        "Likely a literal translation.",
        ("gamesmanship", "maneuvering"),
        0.18,
    ),
    Flag(
        "puts everyone in trouble",
        "minor",
        "fluency",
        "Reads unlike English news.",
        ("has put everyone in a bind",),
        0.45,
    ),
    Flag(
        "passionate relationship",
        "major",
        "mistranslation",
        "Wrong word choice for diplomatic ties.",
        ("warmer relationship", "closer relationship"),
        0.22,
    ),
    Flag(
        "war of loss",
        "major",
        "mistranslation",
        "Probably 'war of attrition'.",
        ("war of attrition",),
        0.12,
    ),
    Flag("drys up", "minor", "fluency", "Misspelled verb form.", ("dries up",), 0.5),
]

#: Reading positions of seed sentences, for readable tests.
SEED_POS = {
    "hard ball": 3,
    "116": 4,
    "game skills": 6,
    "trouble": 8,
    "passionate": 9,
    "war of loss": 10,
    "drys": 11,
    "omission": 7,
}
#: Flag positions in the order the side list ranks them (major first, then lowest score).
SEED_RANKED = [10, 6, 9, 8, 11, 3, 7, 4]


def seed_doc() -> DocumentResult:
    """A realistic excerpt of the seed article with hand-made flags and one source/reference."""
    return build_doc(
        SEED_PARAGRAPHS,
        SEED_FLAGS,
        [SentenceFlag(SEED_POS["omission"], "minor", "omission", 0.58)],
        seps=["\n\n"] + ["\n"] * (len(SEED_PARAGRAPHS) - 2),
        doc_id="seed-article",
        sources={SEED_POS["trouble"]: "普京先生让所有人都陷入了困境。"},
        references={SEED_POS["trouble"]: "Mr. Putin has put everyone in a bind."},
    )


def emoji_doc() -> DocumentResult:
    """Astral characters before two spans in one sentence (UTF-16 vs code-point offsets)."""
    return build_doc(
        [["Fans 😀🎉 said the team scored tree goals in the the match.", "It was 𝒻un."]],
        [
            Flag("tree goals", "major", "number", "Spelling of a number.", ("three goals",)),
            Flag("the the", "minor", "repetition", "Repeated word.", ("the",), 0.4),
        ],
        lead="  ",
        tail="\n\n",
        doc_id="emoji",
    )


ATTACKS = [
    "<script>window.__pwned = 1; alert(1)</script> was printed in the paper.",
    'An image <img src=x onerror="window.__pwned=2;alert(2)"> appeared.',
    "Quotes \" and ' and & and javascript:alert(3) then </script><script>window.__pwned=3"
    "</script> end.",
    "Comment <!-- open and ]]> and {{ 7*7 }} and ${x} and \u2028 line sep.",
]


def injection_doc() -> DocumentResult:
    """Hostile markup everywhere: text, spans, messages, suggestions, ids, signature."""
    signature = Signature(
        version="0.1.0",
        model='<img src=x onerror="window.__pwned=7">',
        model_hash="<script>window.__pwned=8</script>",
        config="</script><script>window.__pwned=9</script>",
        config_hash="x" * 12,
        preset="\"'><svg onload=alert(10)>",
        threshold=0.5,
        context="<!--",
    )
    return build_doc(
        [ATTACKS[:2], ATTACKS[2:]],
        [
            Flag(
                '<img src=x onerror="window.__pwned=2;alert(2)">',
                "major",
                'x" onmouseover="window.__pwned=11',
                "<script>window.__pwned=12</script> message",
                ('<b onmouseover="window.__pwned=13">bold</b>', "javascript:alert(14)"),
                0.1,
            ),
            Flag("javascript:alert(3)", "minor", "untranslated", "</script>", ("</script>",), 0.4),
        ],
        doc_id='"><script>window.__pwned=15</script>',
        sources={1: "<svg onload=alert(16)>source</svg>"},
        references={1: "</script><script>window.__pwned=17</script>"},
        signature=signature,
        warnings=["<script>window.__pwned=18</script> warning"],
    )


def large_doc(n_sentences: int = 2000, every: int = 5) -> DocumentResult:
    """A long document: `n_sentences` sentences, every `every`-th one flagged."""
    paragraphs: list[list[str]] = []
    flags: list[Flag] = []
    for n in range(n_sentences):
        if n % 8 == 0:
            paragraphs.append([])
        marker = f"s{n:04d}"
        if n % every == 0:
            paragraphs[-1].append(f"Sentence {marker} has a hard ball demand about {n} troops.")
            severity = "major" if n % (every * 2) == 0 else "minor"
            score = round(0.05 + (n % 97) / 200, 3)
            flags.append(
                Flag("hard ball", severity, "fluency", "Odd.", ("hardball",), score, marker)
            )
        else:
            paragraphs[-1].append(f"Sentence {marker} reads normally about {n} troops.")
    return build_doc(paragraphs, flags, doc_id="large")
