"""Which words of one side the other side covers, through CC-CEDICT's glosses: a target's
stems against a source word's glosses (`covered`), and every stem a source sentence's words and
characters allow the target to write (`support`, `supported`)."""

from __future__ import annotations

from collections.abc import Sequence

from .dictionary import Lexicon, SourceWord, TargetWord, clean_gloss, is_content

__all__ = ["PREFIX", "Coverage", "covered", "gloss_texts", "support", "supported"]

PREFIX = 5  # stems sharing this many first letters count as the same word ("econom-")


class Coverage:
    """The target's stems, with their first letters, for coverage tests."""

    def __init__(self, words: Sequence[TargetWord], lexicon: Lexicon | None = None) -> None:
        self.stems = {w.stem for w in words}
        if lexicon is not None:  # "high-quality" covers "high" and "quality" too
            pieces = {p for w in words if "-" in w.text for p in w.text.split("-") if p}
            self.stems |= {lexicon.stem(p) for p in pieces}
        self.prefixes = {w.stem[:PREFIX] for w in words if len(w.stem) >= PREFIX}

    def covers(self, gloss: frozenset[str]) -> bool:
        return any(
            s in self.stems or (len(s) >= PREFIX and s[:PREFIX] in self.prefixes) for s in gloss
        )


def covered(word: str, target: Coverage, lexicon: Lexicon) -> bool | None:
    """Whether a target word covers a gloss of `word` (or of one of its characters); None
    where CEDICT has no gloss for it (no evidence either way)."""
    glosses = lexicon.gloss_stems(word)
    if not glosses:
        return None
    if any(target.covers(g) for g in glosses):
        return True
    return len(word) > 1 and any(target.covers(g) for ch in word for g in lexicon.gloss_stems(ch))


def gloss_texts(word: str, lexicon: Lexicon) -> tuple[str, ...]:
    texts = [clean_gloss(s)[0] for _, senses in lexicon.entries(word) for s in senses]
    return tuple(dict.fromkeys(t for t in texts if t))


def support(source: str, words: Sequence[SourceWord], lexicon: Lexicon) -> Coverage:
    """Every stem a gloss of a source word or character allows the target to write."""
    stems: set[str] = set()
    for piece in {w.text for w in words} | set(source):
        for gloss in lexicon.gloss_stems(piece):
            stems |= gloss
        for form in lexicon.proper_forms(piece):
            stems |= {lexicon.stem(p) for p in form.split()}
    for word in words:
        if not is_content(word) and word.text.isascii():
            stems.add(lexicon.stem(word.text))
    supported = Coverage([])
    supported.stems = stems
    supported.prefixes = {s[:PREFIX] for s in stems if len(s) >= PREFIX}
    return supported


def supported(word: TargetWord, support: Coverage, lexicon: Lexicon) -> bool:
    """A gloss allows the word, or both halves of a compound ("airspace": air + space)."""
    if support.covers(frozenset({word.stem})):
        return True
    text = word.text.lower()
    return any(
        lexicon.stem(text[:k]) in support.stems and lexicon.stem(text[k:]) in support.stems
        for k in range(3, len(text) - 2)
    )
