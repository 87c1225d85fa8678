"""The editor's view: names as checks, stacked modals, messages, headlines, the seed's damage.

Pure rules are tested alone; what the seed article shows is tested on the real model.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from mtqa import DocumentResult
from mtqa.checks import check_modals, run_checks
from mtqa.core.config import load_config
from mtqa.core.result import Span, Suggestion
from mtqa.core.segment import Segment
from mtqa.scoring.judge import judge_sentence
from mtqa.scoring.messages import band, chance, model_message
from mtqa.scoring.names import capitalised_mid_sentence, is_name_span, name_findings

SEED_DAMAGE = Path(__file__).resolve().parents[1] / "examples" / "article-damage.json"
SEED_NAMES = frozenset({"Putin", "Stanovaya", "Türkiye", "Russian", "Ukrainians", "Zelensky"})


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("V. Putin", 30, True),
        ("Ms. Stanovaya", 0, True),
        ("Türkiye", 50, True),
        ("JD Vance", 40, True),
        ("Russian", 12, True),
        ("Ukrainians", 70, True),
        ("Tatiana Stanovaya", 0, True),  # sentence-initial, but English has no word "tatiana"
        ("Vice President", 44, True),
        ("Charles de Gaulle", 10, True),
        ("passionate", 20, False),
        ("the Kremlin", 20, False),
        ("Although", 0, False),  # a capitalised first word that English uses in lowercase
        ("hard ball demand", 90, False),
        ("Mr Putin said", 0, False),
    ],
)
def test_which_spans_are_only_names(text: str, start: int, expected: bool) -> None:
    assert is_name_span(text, start, 0, SEED_NAMES) is expected


def test_names_mid_sentence_are_read_off_the_document() -> None:
    text = "Russia is not convinced. Mr. Putin met “Officials” in Kyiv."
    names = capitalised_mid_sentence(text, [0, 25])
    assert {"Putin", "Kyiv"} <= names
    assert "Russia" not in names and "Mr" not in names and "Officials" not in names


def _span(text: str, start: int, reason: str = "mistranslation") -> Span:
    return Span(start, start + len(text), text, "major", reason, "likely mistranslation (0.7)")


def test_a_name_span_is_dropped_without_evidence_and_a_check_with_it() -> None:
    spans = [_span("Ms. Stanovaya", 0), _span("passionate", 30)]
    mentions = Counter({"Stanovaya": 3, "Kartapolov": 1})
    kept, had_name = name_findings(spans, 0, SEED_NAMES, mentions, frozenset())
    assert had_name and [s.text for s in kept] == ["passionate"]
    kept, _ = name_findings(spans, 0, SEED_NAMES, mentions, frozenset({"Stanovaya"}))
    check = kept[0]
    assert (check.reason, check.severity) == ("name", "minor")
    assert check.message.startswith("check this name against the source")
    once = [_span("Kartapolov", 40)]
    kept, _ = name_findings(once, 0, frozenset({"Kartapolov"}), mentions, frozenset())
    assert kept and kept[0].reason == "name" and "only once" in kept[0].message


def test_peers_that_write_a_name_otherwise_are_evidence_that_may_flag() -> None:
    spans = [_span("Stanovaia", 4)]
    mentions = Counter({"Stanovaia": 3})  # mentioned often: no evidence from the document
    agree = ["Ms Stanovaia said so.", "Stanovaia said it.", "Ms. Stanovaia said."]
    kept, had_name = name_findings(spans, 0, SEED_NAMES, mentions, frozenset(), agree)
    assert had_name and kept == []  # the peers write it so too: nothing to check
    differ = ["Ms Stanovaya said so.", "Stanovaya said it.", "Ms. Stanovaia said."]
    kept, had_name = name_findings(spans, 0, SEED_NAMES, mentions, frozenset(), differ)
    assert not had_name  # the sentence may flag by its risk
    assert kept[0].reason == "name" and kept[0].message == (
        "check this name against the source: only 1 of the 3 other translations write “Stanovaia”"
    )
    alone = ["Stanovaya said so."]  # one other translation is too few to count
    assert name_findings(spans, 0, SEED_NAMES, mentions, frozenset(), alone)[1]


def test_a_sentence_with_only_a_name_is_not_flagged_by_its_risk() -> None:
    config = load_config(None)
    seg = Segment(0, 0, 20, "Mr. Kartapolov spoke.", 0)
    check = Span(0, 14, "Mr. Kartapolov", "minor", "name", "check this name against the source")
    features = dict.fromkeys(config.features, 0.0)
    always = 0.0  # every sentence passes a threshold of 0
    by_risk = judge_sentence(seg, features, [check], config, always)
    alone = judge_sentence(seg, features, [check], config, always, by_risk=False)
    assert by_risk.flagged and "name" not in by_risk.reasons
    assert not alone.flagged and alone.spans == [check]  # shown as a check, not flagged


@pytest.mark.parametrize(
    ("sentence", "found", "fix"),
    [
        ("We have reason to believe we will intend to end them.", "will intend to", "intend to"),
        ("They can able to win.", "can able to", "able to"),
        ("It would must happen.", "would must", "must"),
        ("He will not can go.", "will not can", "can"),
    ],
)
def test_stacked_modals_are_found(sentence: str, found: str, fix: str) -> None:
    spans = check_modals(sentence, offset=5)
    assert [s.text for s in spans] == [found]
    assert spans[0].start == 5 + sentence.index(found) and spans[0].reason == "grammar"
    assert spans[0].suggestions == [fix]
    assert any(s.reason == "grammar" for s in run_checks(sentence))


@pytest.mark.parametrize(
    "sentence",
    [
        "We will be able to end them.",
        "They would have gone.",
        "It may well rain.",
        "We will intend nothing.",
        "The will of the people can change.",
    ],
)
def test_ordinary_modals_are_left_alone(sentence: str) -> None:
    assert check_modals(sentence) == []


def test_message_wording_follows_the_probability() -> None:
    assert band(0.5) == "likely" and band(0.4999) == "possible"
    assert chance(1.0) == "1 in 2.0" and chance(16.75) == "1 in 110,000"
    assert chance(5000.0) == "under 1 in a billion"  # a run of one character: 2**bits overflows
    plain = model_message(0.33, True, "passionate", 16.75)
    assert plain.startswith("possible mistranslation (0.33): “passionate” is unusual here")
    assert "expected" not in plain
    gated = model_message(0.71, True, "passionate", 16.75, [Suggestion("close", "lm", 2.0)])
    assert gated.startswith("likely mistranslation (0.71)")
    assert gated.endswith("the model expected “close”")
    assert "unusual" not in model_message(0.3, False, "a", 1.0)


@pytest.fixture(scope="module")
def seed_view(seed_result: DocumentResult) -> dict[str, object]:
    text = seed_result.text
    names = capitalised_mid_sentence(text, [s.start for s in seed_result.sentences])
    return {"text": text, "names": names}


def test_seed_shows_no_name_as_a_mistranslation(
    seed_result: DocumentResult, seed_view: dict[str, object]
) -> None:
    names = seed_view["names"]
    assert isinstance(names, frozenset)
    for sent in seed_result.sentences:
        for span in sent.spans:
            assert seed_result.text[span.start : span.end] == span.text
            if span.reason in ("mistranslation", "fluency"):
                assert not is_name_span(span.text, span.start, sent.start, names), span.text
        if sent.flagged:
            assert set(sent.reasons) - {"name", "consistency"}, sent.text


#: The seed's damaged phrases and the word in each that a span must cover (also read by
#: benchmarks/editor_view.py).
SEED_PHRASES = json.loads(SEED_DAMAGE.read_text(encoding="utf-8"))["phrases"]


def test_seed_damage_is_flagged_on_the_damaged_word(seed_result: DocumentResult) -> None:
    text = seed_result.text
    found = []
    for phrase, word in SEED_PHRASES:
        at = text.index(phrase) + phrase.index(word)
        sent = next(s for s in seed_result.sentences if s.start <= at < s.end)
        if sent.flagged and any(s.start <= at < s.end for s in sent.spans):
            found.append(word)
    assert len(found) >= 5, found
    flagged = [s for s in seed_result.sentences if s.flagged]
    assert len(flagged) <= 0.3 * len(seed_result.sentences)
    assert not seed_result.sentences[0].flagged  # the headline is judged as a headline


def test_seed_honorific_inconsistency_is_reported_once(seed_result: DocumentResult) -> None:
    found = [
        s
        for sent in seed_result.sentences
        for s in sent.spans
        if s.reason == "consistency" and "Mr" in s.text
    ]
    assert len(found) == 1
    assert "9×" in found[0].message and "2×" in found[0].message
