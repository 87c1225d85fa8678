"""What a model span says to an editor: how sure, what was odd, what the model expected.

The wording follows the probability ("likely" at 0.5 or above, "possible" below) and names the
word that surprised the model, with its alternatives only when the suggestion gate passed them
(an ungated alternative is right about 1 time in 20 on MQM dev: not worth an editor's time).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.result import Suggestion

LIKELY = 0.5
#: Below this surprisal (bits, 1 in 64) a word is not called unusual.
SURPRISING_BITS = 6.0
#: Past this (about 1 in a billion) odds mean nothing to a reader, and 2**bits can overflow.
RAREST_BITS = 30.0


def band(probability: float) -> str:
    """'likely' from 0.5 up, else 'possible'."""
    return "likely" if probability >= LIKELY else "possible"


def chance(bits: float) -> str:
    """A surprisal in bits as odds a reader can picture: "1 in 1,400"."""
    if bits > RAREST_BITS:
        return "under 1 in a billion"
    odds = 2.0 ** max(0.0, bits)
    if odds < 10:
        return f"1 in {odds:.1f}"
    digits = max(0, len(str(int(odds))) - 2)  # two significant figures
    return f"1 in {int(round(odds, -digits)):,}"


def model_message(
    probability: float,
    content: bool,
    word: str,
    surprisal_bits: float,
    suggested: Sequence[Suggestion] = (),
) -> str:
    """E.g. "possible mistranslation (0.33): “passionate” is unusual here; the model expected
    “close relationship”". `word`: the span's most surprising word; `content`: a content word
    (mistranslation) rather than function words (wording)."""
    what = "mistranslation" if content else "wording error"
    if surprisal_bits < SURPRISING_BITS:  # the detector's doubt is not about this word's odds
        return (
            f"{band(probability)} {what} ({probability:.2f}): reviewers often mark wording "
            "like this; reread it"
        )
    head = f"{band(probability)} {what} ({probability:.2f}): “{word}” is unusual here"
    if suggested:
        expected = ", ".join(f"“{item.text}”" for item in suggested[:3])
        return f"{head}; the model expected {expected}"
    return f"{head} (the model gave it {chance(surprisal_bits)})"
