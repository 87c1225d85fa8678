"""Which reason a risk-flagged sentence gets: the signal that pushed its risk up most."""

from __future__ import annotations

from collections.abc import Callable

from mtqa.core.config import Config
from mtqa.core.result import Span
from mtqa.core.segment import Segment
from mtqa.scoring.judge import driving_reason, judge_sentence, reason_of

CONFIG = Config(
    features=["n_words", "total_surprisal", "src_length_z", "src_number_mismatch", "peer_chrf"],
    means=[20.0, 100.0, 0.0, 0.0, 0.6],
    scales=[10.0, 50.0, 1.0, 0.1, 0.1],
    weights=[2.0, 0.5, -0.8, 0.6, -0.7],
    intercept=0.0,
)
TYPICAL = {"n_words": 20.0, "total_surprisal": 100.0, "src_length_z": 0.0, "peer_chrf": 0.6}


def test_reason_of_each_kind_of_feature() -> None:
    assert reason_of("n_words", 50) is None  # length says how much, not what
    assert reason_of("max_anomaly", 14.0) == "fluency"
    assert reason_of("rel_max_anomaly", 2.0) == "fluency"
    assert reason_of("src_length_z", -3.0) == "omission"
    assert reason_of("peer_length_z", 2.5) == "addition"
    assert reason_of("src_missing_numbers", 1.0) == "number"
    assert reason_of("src_untranslated", 2.0) == "untranslated"
    assert reason_of("rel_peer_chrf", -0.2) == "mistranslation"


def test_driving_reason_names_the_largest_push() -> None:
    assert driving_reason({**TYPICAL, "total_surprisal": 250.0}, CONFIG) == "fluency"
    assert driving_reason({**TYPICAL, "src_length_z": -4.0}, CONFIG) == "omission"
    assert driving_reason({**TYPICAL, "src_number_mismatch": 1.0}, CONFIG) == "number"
    assert driving_reason({**TYPICAL, "peer_chrf": 0.2}, CONFIG) == "mistranslation"
    # A long sentence alone pushes the risk up, but names no reason: fluency by default.
    assert driving_reason({**TYPICAL, "n_words": 80.0}, CONFIG) == "fluency"


def test_judge_sentence_adds_the_driver_unless_it_is_only_fluency() -> None:
    seg = Segment(0, 0, 12, "Some words.", 0)
    short = {**TYPICAL, "src_length_z": -6.0}
    judged = judge_sentence(seg, short, [], CONFIG, threshold=0.5)
    assert judged.flagged and judged.reasons == ["omission"]
    span = Span(0, 4, "Some", "minor", "mistranslation", "odd word")
    odd = {**TYPICAL, "total_surprisal": 400.0}
    judged = judge_sentence(seg, odd, [span], CONFIG, threshold=0.5)
    assert judged.flagged and judged.reasons == ["mistranslation"]
    assert judge_sentence(seg, odd, [], CONFIG, threshold=0.5).reasons == ["fluency"]
    assert judge_sentence(seg, TYPICAL, [span], CONFIG, threshold=0.99).reasons == []


def test_word_candidates_are_whole_words_never_the_original() -> None:
    """No sub-word piece, empty string, original word (in any case) or, for a content word,
    function word is ever suggested."""
    import numpy as np

    from mtqa.scoring.judge import whole_words

    def word_candidates(
        ids: np.ndarray, decode: Callable[[int], str], original: str, after_space: bool
    ) -> list[str]:
        return [word for _, word in whole_words(ids, decode, original, after_space)][:5]

    pieces = [" close", "uster", " Passionate", " the", " warm", " attr", "", " ", " close"]
    decode = pieces.__getitem__
    ids = np.arange(len(pieces))
    assert word_candidates(ids, decode, "passionate", after_space=True) == ["close", "warm"]
    # At the start of a text no space precedes the word: pieces without one are words too.
    assert word_candidates(np.array([1, 4]), decode, "passionate", after_space=False) == ["warm"]
    # Case is kept as the model writes it: a name may be the fix of a lower-case word.
    cased = [" Close", " close", " Warm"].__getitem__
    assert word_candidates(np.arange(3), cased, "Passionate", after_space=True) == ["Close", "Warm"]


def test_word_suggestions_replace_their_word_inside_the_span() -> None:
    from mtqa.core.result import Suggestion
    from mtqa.scoring.judge import in_place

    close = [Suggestion("close", "reader", 2.0)]
    got = in_place(close, "passionate relationship", 0, 10)
    assert got == [Suggestion("close relationship", "reader", 2.0)]
    assert in_place(close, "a passionate one", 2, 12)[0].text == "a close one"
    # One changed word does not mend a long stretch: nothing is offered for it.
    assert in_place(close, "Take an inch in battle, Russia asks", 0, 4) == []


def test_no_language_model_suggestion_for_a_name() -> None:
    """Reading the English alone the LM cannot know which name is meant: it suggests none (the
    source reader and the peers still can); a lower-case word gets its whole words."""
    import numpy as np

    from mtqa.models import TokenScores
    from mtqa.scoring.judge import suggestions
    from mtqa.scoring.signals import Word

    pieces = [" Trump", " Mike", " close", " ant"]
    one = np.zeros(1, dtype=np.int64)
    scores = TokenScores(
        ids=one + 3, starts=one, ends=one, logprob=np.full(1, -2.5, np.float32),
        top_ids=np.array([[0, 1, 2]]), top_logprob=np.array([[-1.0, -2.0, -3.0]]),
    )  # fmt: skip
    # The original's own first token is never a suggestion, though it decodes as a word: the
    # model predicting " ant" at "antelope" means "antelope".
    own_piece = TokenScores(
        ids=one + 3, starts=one, ends=one, logprob=np.full(1, -0.5, np.float32),
        top_ids=np.array([[3, 2]]), top_logprob=np.array([[-0.5, -3.0]]),
    )  # fmt: skip
    antelope = Word(0, 8, "antelope", 4.0, 16.0, 1.0, "lower", 0)
    assert [s.text for s in suggestions(antelope, own_piece, pieces.__getitem__)] == ["close"]
    name = Word(0, 5, "Vance", 12.0, 18.0, 3.0, "name", 0)
    assert suggestions(name, scores, pieces.__getitem__) == []
    word = Word(0, 10, "passionate", 12.0, 16.0, 3.0, "lower", 0)
    got = suggestions(word, scores, pieces.__getitem__)
    assert [(s.text, s.by, s.gain) for s in got] == [
        ("Trump", "lm", 1.5), ("Mike", "lm", 0.5), ("close", "lm", -0.5)
    ]  # fmt: skip
    # A margin shows only what the model finds that much likelier than the original word.
    assert [s.text for s in suggestions(word, scores, pieces.__getitem__, margin=0.0)] == [
        "Trump", "Mike"
    ]  # fmt: skip
    assert suggestions(word, scores, pieces.__getitem__, margin=2.0) == []
    assert "4.5× as likely as “passionate”" in got[0].why("passionate")
    # The shipped scope: the LM's words only for a function word (right 9.5% of the time on
    # MQM dev, against 3.7% for content words), or never.
    assert suggestions(word, scores, pieces.__getitem__, scope="function_words") == []
    article = Word(0, 1, "a", 12.0, 5.0, 3.0, "lower", 0)
    assert len(suggestions(article, scores, pieces.__getitem__, scope="function_words")) == 3
    assert suggestions(article, scores, pieces.__getitem__, scope="none") == []
