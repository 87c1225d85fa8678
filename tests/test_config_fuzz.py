"""Property test over the config schema: every config it accepts scores a text with the real
model, or it is refused in one `ConfigError` naming the key, never anything else.

Configs are drawn mostly inside the schema's bounds (windows down to 8 tokens, overlaps of 0,
any feature subset, extreme but finite combiner numbers, every suggestion scope and span
model), sometimes just outside them (NaN, infinities, scales of 0, an overlap past half the
window, a hidden head of the wrong width).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mtqa import Scorer  # noqa: E402
from mtqa.core.config import PRESETS, config_from_data  # noqa: E402
from mtqa.core.errors import ConfigError  # noqa: E402
from mtqa.scoring.scorer import check_features, known_features  # noqa: E402

TEXT = (
    "The council approved the new budget on Monday. Officials said the harbour would "
    "reopened next week, and 3 ships waits outside.\n"
)
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
FEATURES = sorted(known_features())
# The whole-sentence scopes re-read each sentence per candidate (2 s here): drawn less often.
SCOPES = st.sampled_from(["gated", "gated", "none", "none", "function_words", "all"])


def number(low: float, high: float) -> st.SearchStrategy[float]:
    """A finite value in [low, high], its ends often."""
    return st.one_of(st.sampled_from([low, high]), st.floats(low, high))


#: Ways a config leaves the schema, one at a time: (key, value, or a list index to corrupt).
BREAKS = st.one_of(
    st.tuples(
        st.sampled_from(["alpha", "anomaly_threshold", "intercept", "major_risk", "lm_margin"]),
        st.one_of(NOT_FINITE, st.just(1e400), st.just(-2000.0)),
    ),
    st.tuples(
        st.sampled_from(["means", "weights"]),
        st.one_of(NOT_FINITE, st.just(1e300), st.just(-1e300)),
    ),
    st.tuples(st.just("scales"), st.one_of(NOT_FINITE, st.sampled_from([0.0, -1.0, 1e300]))),
    st.tuples(st.just("overlap"), st.just("past half")),
    st.tuples(st.just("thresholds"), st.one_of(NOT_FINITE, st.just(1.5))),
)


@st.composite
def configs(draw: st.DrawFn, hidden_size: int) -> tuple[dict[str, Any], bool]:
    """A config's content, and whether it was put out of bounds (then it must be refused)."""
    window = draw(st.one_of(st.sampled_from([8, 9, 12, 16, 2048]), st.integers(8, 64)))
    overlap = draw(st.one_of(st.sampled_from([0, window // 2]), st.integers(0, window // 2)))
    features = draw(st.lists(st.sampled_from(FEATURES), min_size=1, max_size=6, unique=True))
    n = len(features)
    width = draw(st.sampled_from([0, 0, 0, hidden_size, 3]))  # 3: no model is that narrow
    margin = st.one_of(st.none(), number(-20.0, 20.0))
    data = {
        "name": "fuzz",
        "model": "smollm2-135m",
        "window": window,
        "overlap": overlap,
        "alpha": draw(number(0.0, 1.0)),
        "anomaly_threshold": draw(number(-1000.0, 1000.0)),
        "major_anomaly": draw(number(-1000.0, 1000.0)),
        "phrase_threshold": draw(number(-1000.0, 1000.0)),
        "top_k": draw(st.integers(1, 100)),
        "reader_margin": draw(margin),
        "lm_margin": draw(margin),
        "lm_suggestions": draw(SCOPES),
        "span_model": draw(st.sampled_from(["surprisal", "detector"])),
        "features": features,
        "means": draw(st.lists(number(-1e6, 1e6), min_size=n, max_size=n)),
        "scales": draw(st.lists(number(1e-6, 1e6), min_size=n, max_size=n)),
        "weights": draw(st.lists(number(-1e3, 1e3), min_size=n, max_size=n)),
        "intercept": draw(number(-1e3, 1e3)),
        "hidden_means": draw(st.lists(st.floats(-10, 10), min_size=width, max_size=width)),
        "hidden_scales": draw(st.lists(st.floats(0.01, 10), min_size=width, max_size=width)),
        "hidden_weights": draw(st.lists(st.floats(-1, 1), min_size=width, max_size=width)),
        "thresholds": {p: draw(number(0.0, 1.0)) for p in PRESETS},
        "major_risk": draw(number(0.0, 1.0)),
    }
    broken = width == 3 or draw(st.booleans())
    if broken:  # half the configs: one value out of bounds (cheap: refused before scoring)
        key, value = draw(BREAKS)
        if key == "overlap":
            data["overlap"] = window // 2 + 1
        elif key == "thresholds":
            data["thresholds"][draw(st.sampled_from(PRESETS))] = value
        elif isinstance(data[key], list):
            data[key][draw(st.integers(0, n - 1))] = value
        else:
            data[key] = value
    return data, broken


def test_every_accepted_config_scores(scorer: Scorer) -> None:
    """Scored with scores in 0-1 and spans on the text, or refused in one line; a config put
    out of bounds is always refused."""
    hidden_size = int(scorer.lm.model.config.hidden_size)
    outcomes = {"scored": 0, "refused": 0}

    @settings(
        max_examples=100,
        deadline=None,
        database=None,  # nothing written into the repository
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(drawn=configs(hidden_size), preset=st.sampled_from(PRESETS))
    def check(drawn: tuple[dict[str, Any], bool], preset: str) -> None:
        data, broken = drawn
        try:
            config = config_from_data(data)
            check_features(config)
            fuzzed = Scorer(scorer.lm, config, preset)
        except ConfigError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith("config "), message
            outcomes["refused"] += 1
            return
        assert not broken, f"a config out of bounds was accepted: {data}"
        result = fuzzed.score(TEXT, doc_id="fuzz")
        outcomes["scored"] += 1
        assert result.sentences and 0.0 <= result.score <= 1.0
        for sentence in result.sentences:
            assert 0.0 <= sentence.score <= 1.0, (sentence.score, data)
            for span in sentence.spans:
                assert TEXT[span.start : span.end] == span.text
        assert result.signature.config_hash == config.digest()

    check()
    assert outcomes["scored"] >= 10 and outcomes["refused"] >= 10, outcomes


def test_window_of_eight_without_overlap_reads_every_token(scorer: Scorer) -> None:
    """The smallest window, read in disjoint pieces (it crashed once): every token is scored,
    the first window exactly as a whole reading scores it, and the sentences are the same."""
    from mtqa.models import score_text

    small = Scorer(scorer.lm, replace(scorer.config, window=8, overlap=0), scorer.preset)
    whole, pieces = score_text(scorer.lm, TEXT), score_text(scorer.lm, TEXT, 8, 0)
    assert len(pieces) == len(whole) > 16
    assert (pieces.logprob < 0).all()
    assert abs(pieces.logprob[:7] - whole.logprob[:7]).max() < 1e-4
    assert abs(pieces.logprob[7:] - whole.logprob[7:]).max() > 0.1  # read without context
    got = small.score(TEXT)
    assert [s.text for s in got.sentences] == [s.text for s in scorer.score(TEXT).sentences]
