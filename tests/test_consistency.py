"""Document consistency (mtqa.checks.consistency): crafted documents and the seed article."""

from __future__ import annotations

import pytest

from mtqa.checks.consistency import check_consistency, find_inconsistencies, fold_name
from mtqa.core.result import REASONS, Span, Suggestion
from mtqa.core.segment import split_sentences


def check(text: str) -> list[Span]:
    """The check on a document, with the span invariants every finding must keep."""
    segments = split_sentences(text)
    spans = check_consistency(text, segments)
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert span.reason == "consistency" and span.severity == "minor"
        assert any(s.start <= span.start and span.end <= s.end for s in segments), span
        assert span.suggested and span.suggested[0].by == "check"
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    return spans


def only(text: str) -> Span:
    spans = check(text)
    assert len(spans) == 1, [(s.text, s.message) for s in spans]
    return spans[0]


def test_reason_is_known() -> None:
    assert "consistency" in REASONS


# ------------------------------------------------------------------------------- the seed


def test_seed_article(seed_text: str) -> None:
    """Three findings, each a real inconsistency: Mr/Mr. Putin once with its count, "U.S." /
    "US", and straight apostrophes in a document of curly quotes."""
    spans = check(seed_text)
    assert [(s.text, s.suggestions) for s in spans] == [
        ("Mr Putin", ["Mr. Putin"]),
        ("'", ["’"]),
        ("US", ["U.S."]),
    ]
    putin, quotes, us = spans
    assert putin.start == seed_text.index("Mr Putin said in late March")
    assert (
        "“Mr. Putin” 9×" in putin.message and "“Mr Putin” 2× (here, sentence 30)" in putin.message
    )
    assert "most often: “Mr. Putin”" in putin.message
    assert putin.suggested == [Suggestion("Mr. Putin", by="check")]
    assert seed_text[quotes.start - 10 : quotes.end + 1] == "Parliament's"
    assert "straight (') 6×" in quotes.message and "curly (’ “ ”) 25×" in quotes.message
    assert us.start == seed_text.index("US President")
    assert "“U.S.” 1× (sentence 20)" in us.message and "suggested: “U.S.”" in us.message


# ------------------------------------------------------------------------------- names


def test_honorific_of_one_name_reported_once_on_the_minority() -> None:
    text = (
        "Mr. Putin spoke. Mr. Putin left.\nLater Mr Putin said so, and Mr. Putin agreed.\n"
        "Then Mr Putin went home."
    )
    span = only(text)
    assert span.text == "Mr Putin" and span.start == text.index("Mr Putin")
    assert span.suggestions == ["Mr. Putin"]
    assert "“Mr. Putin” 3× (here, sentences 1, 2)" in span.message
    assert "“Mr Putin” 2× (here, sentence 4)" in span.message


def test_honorific_style_across_names() -> None:
    span = only("Mr. Smith met Ms. Lee.\nMr. Smith and Dr Brown left.\nMs. Lee stayed.")
    assert (span.text, span.suggestions) == ("Dr Brown", ["Dr. Brown"])
    assert "without (“Dr”) 1×" in span.message and "(“Mr.”, “Ms.”) 4×" in span.message


def test_british_honorifics_without_stops_are_consistent() -> None:
    assert check("Mr Smith met Ms Lee and Dr Brown.\nMr Smith left. Gen Z voters cheered.") == []


@pytest.mark.parametrize(
    ("text", "minority", "fix"),
    [
        (
            "Tatiana Stanovaya said so. Ms. Stanovaya's view is clear.\nMs. Stanovaia added more.",
            "Stanovaia",
            "Stanovaya",
        ),
        ("Zelenskyy spoke.\nZelensky and Zelensky met.", "Zelenskyy", "Zelensky"),
        ("Alexei Navalny died. Alexei was 47.\nAleksei Navalniy was jailed.", "Aleksei", "Alexei"),
        ("Erdoğan spoke in Ankara.\nErdogan left. Erdoğan returned.", "Erdogan", "Erdoğan"),
    ],
)
def test_transliteration_and_diacritic_variants(text: str, minority: str, fix: str) -> None:
    spans = check(text)
    assert (spans[0].text, spans[0].suggestions) == (minority, [fix])
    assert spans[0].message.startswith("The name is written in 2 forms")


def test_fold_name_alternations() -> None:
    assert fold_name("Stanovaya") == fold_name("Stanovaia")
    assert fold_name("Yevgeny") == fold_name("Evgeny")
    assert fold_name("Mikhail") == fold_name("Mihail")
    assert fold_name("Johnson") != fold_name("Johnston")


def test_related_words_are_not_variants() -> None:
    """Derivations, plurals, possessives and different names stay quiet."""
    text = (
        "Russia and the Russians talked. Russia's envoy met Ukraine's, and Ukrainians waited.\n"
        "Ukrainian troops held. Germany and the Germans agreed. Austria and Australia voted.\n"
        "Johnson and Johnston spoke; the Johnsons came. Michael and Michaels met Jordanians in "
        "Jordan. Sydney is a city."
    )
    assert check(text) == []


def test_exonym_pairs() -> None:
    text = "Talks in Kyiv began.\nKyiv says no. Moscow wants Kiev to yield."
    span = only(text)
    assert (span.text, span.suggestions) == ("Kiev", ["Kyiv"])
    assert "“Kyiv” 2× (sentences 1, 2)" in span.message


def test_exonym_tie_prefers_the_current_name() -> None:
    span = only("Turkey hosted talks.\nLater, Türkiye said the talks ended.")
    assert (span.text, span.suggestions) == ("Turkey", ["Türkiye"])
    assert "suggested: “Türkiye”" in span.message


def test_one_form_alone_is_not_an_inconsistency() -> None:
    assert check("Kiev said no. Kiev said it twice.\nTürkiye hosted the talks in Istanbul.") == []


# ------------------------------------------------------------------------------- terms


def test_hyphenated_and_closed_terms() -> None:
    text = (
        "The cease-fire held. A cease-fire is rare.\nCeasefire talks began by e-mail; email came."
    )
    spans = check(text)
    assert [(s.text, s.suggestions) for s in spans] == [
        ("Ceasefire", ["Cease-fire"]),
        ("email", ["e-mail"]),
    ]
    assert "“cease-fire” 2×" in spans[0].message


def test_compounds_that_mean_different_things_stay_quiet() -> None:
    assert check("He will re-sign the deal. She may resign.\nA well-known man is well known.") == []


def test_abbreviation_with_and_without_stops() -> None:
    span = only("The U.S. said so.\nThe U.S. government agreed, and the US Senate voted.")
    assert (span.text, span.suggestions) == ("US", ["U.S."])


def test_abbreviation_in_an_all_caps_headline_is_not_counted() -> None:
    assert check("PUTIN TELLS US ENVOY NO\nThe U.S. envoy left Moscow.") == []


# ------------------------------------------------------------------------------- numbers


def test_thousands_separators_mixed() -> None:
    text = (
        "Moscow has occupied 1,827 square miles.\nUkraine took back 1500 square miles, 1,200 more."
    )
    span = only(text)
    assert (span.text, span.suggestions) == ("1500", ["1,500"])
    assert "with a separator (“1,827”) 2×" in span.message


def test_years_are_not_numbers_without_separators() -> None:
    text = (
        "In 2024 the army lost 1,500 tanks.\n"
        "Since 1998, and in May 2023, the 2024 elections cost $5,000."
    )
    assert check(text) == []


def test_separators_from_five_digits_is_a_house_style() -> None:
    assert (
        check("It lost 4500 tanks and 18,270 troops.\nIt had 9000 guns and 250,000 shells.") == []
    )


def test_larger_numbers_mixed() -> None:
    span = only("Over 12000 people came.\n15,000 troops and 250,000 shells were there.")
    assert (span.text, span.suggestions) == ("12000", ["12,000"])


# ------------------------------------------------------------------------------- quotes


def test_straight_beside_curly_quotes() -> None:
    text = '“We will win,” he said.\n“Talks are over,” she said. He said "no" again.'
    span = only(text)
    assert (span.text, span.suggestions) == ('"', ["“"])
    assert 'straight (") 2×' in span.message and "curly (“ ”) 4×" in span.message


def test_primes_are_not_quote_marks() -> None:
    assert check("He is 5'10\" tall and said “yes”.\nShe said “no”.") == []


def test_single_beside_double_top_level_quotations() -> None:
    text = "He called it “a show” and “a farce”.\nShe called it ‘a trap’ in the end."
    spans = check(text)
    span = next(s for s in spans if s.message.startswith("Top-level quotations"))
    assert (span.text, span.suggestions) == ("‘a trap’", ["“a trap”"])


def test_nested_and_headline_single_quotes_are_fine() -> None:
    text = (
        "Putin Says ‘We Will Win’ as Talks Stall\n"
        "“The elites will say, ‘Zelensky, get out,’ and leave,” she said.\n"
        "“It don’t matter,” he said, “and Ukraine’s line holds.”"
    )
    assert check(text) == []


def test_find_inconsistencies_keeps_every_occurrence() -> None:
    """The lead may mark every minority occurrence: the findings keep them all."""
    text = "Mr. Putin spoke. Mr Putin left.\nMr. Putin and Mr Putin met. Mr. Putin won."
    (finding,) = find_inconsistencies(text, split_sentences(text))
    assert finding.counts() == {"Mr. Putin": 3, "Mr Putin": 2}
    assert [text[o.start : o.end] for o in finding.minority()] == ["Mr Putin", "Mr Putin"]


def test_clean_document_has_no_findings() -> None:
    text = (
        "Russia Asks for Miles in Conversation\n\n"
        "President Vladimir V. Putin met Mr. Trump on Tuesday, Mr. Putin’s aides said.\n"
        "“We will talk,” Mr. Putin said in 2024, adding that 1,827 square miles were taken.\n"
        "The U.S. government’s estimate was 400,000 troops."
    )
    assert check(text) == []
