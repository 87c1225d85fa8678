"""Title lines (mtqa.core.headline): headlines, subheads, bylines and datelines, not prose."""

from __future__ import annotations

import pytest

from mtqa.core.headline import headline_paragraphs, headline_segments, is_headline, is_title_line
from mtqa.core.segment import split_sentences


def test_seed_first_line_is_the_only_title(seed_text: str) -> None:
    """The seed's headline is sentence case without a stop; its closing credit ends on one."""
    segments = split_sentences(seed_text)
    assert headline_segments(seed_text, segments) == {0}
    assert segments[0].text == "Take an inch in battle, Russia asks for miles in conversation"
    assert is_headline(segments[0], seed_text, segments)
    assert not is_headline(segments[-1], seed_text, segments)  # "Jeanna Smialek Reports ..."


@pytest.mark.parametrize(
    "line",
    [
        "By Jeanna Smialek",
        "MOSCOW, May 15 (Reuters)",
        "Updated May 15, 2025, 5:03 a.m. ET",
        "Putin Meets Envoys From the U.S.",
        "Will Putin Go to Istanbul?",
        "(According to Reuters)",
    ],
)
def test_bylines_datelines_and_title_case(line: str) -> None:
    assert is_title_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Hard line on the battlefield, soft words at the table",  # a fragment in headline style
        "Tourism is an important pillar industry in Spain",
        "Russia asks for miles in conversation",
    ],
)
def test_sentence_case_headlines(line: str) -> None:
    assert is_title_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Mr. Putin puts everyone in trouble.",  # final punctuation: a sentence
        "Jeanna Smialek Reports from Brussels.",
        "“Both sides will try to play their role,” she said.",
        "Is it over?",  # a question in sentence case mid-document is prose
        "He added:",
        "The president said he would go to the talks on Thursday",  # prose that lost its stop
        "Ukraine needs to recognize that Russian troops are moving in many directions and that "
        "the talks will go on",  # too long for a headline
        "Russia wants the territory of",  # cut off mid-phrase
        "but the talks went on",  # lowercase start
        "1,827",  # no words
    ],
)
def test_prose_is_not_a_title(line: str) -> None:
    assert not is_title_line(line)


def test_first_line_rules() -> None:
    """The first line is a title unless it ends on a full stop or runs like a lede."""
    assert is_title_line("Is the war over? Russia thinks so", first=True)
    assert is_title_line("Why Russia wants more", first=True, sentences=1)
    assert not is_title_line("Russia wants more land.", first=True)
    long_lede = " ".join(["word"] * 31).capitalize()
    assert not is_title_line(long_lede, first=True)


def test_a_one_sentence_document_is_not_a_title() -> None:
    """A lone sentence with its stop is prose, even on the first (and only) line."""
    text = "Russia wants more land than it holds."
    assert headline_paragraphs(text, split_sentences(text)) == set()


def test_subhead_mid_document_and_all_its_segments() -> None:
    text = (
        "Putin Digs In\n\nMr. Putin spoke on Tuesday. He was firm.\n"
        "A hard line at the front, soft words at the table\n"
        "Talks resume on Thursday. Both sides will attend."
    )
    segments = split_sentences(text)
    found = headline_segments(text, segments)
    assert {segments[i].text for i in found} == {
        "Putin Digs In",
        "A hard line at the front, soft words at the table",
    }
    assert headline_paragraphs(text, segments) == {0, 2}


def test_several_sentences_without_a_stop_are_prose() -> None:
    text = "Headline Here\nHe went home. She stayed"
    segments = split_sentences(text)
    assert headline_paragraphs(text, segments) == {0}
