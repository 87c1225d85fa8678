"""Sentence splitting keeps exact offsets and does not break on abbreviations or numbers."""

from mtqa.core.segment import paragraphs, split_sentences


def test_offsets_are_exact_on_the_seed_article(seed_text: str) -> None:
    segments = split_sentences(seed_text)
    assert len(segments) == 40
    for seg in segments:
        assert seed_text[seg.start : seg.end] == seg.text
        assert seg.text == seg.text.strip()
    assert [s.index for s in segments] == list(range(len(segments)))


def test_title_line_is_its_own_sentence_and_paragraph(seed_text: str) -> None:
    first, second = split_sentences(seed_text)[:2]
    assert first.text == "Take an inch in battle, Russia asks for miles in conversation"
    assert first.paragraph == 0 and second.paragraph == 1


def test_abbreviations_names_and_numbers_do_not_split() -> None:
    text = (
        "President Vladimir V. Putin met Mr. Zelensky in the U.S. on Tuesday. "
        "Moscow has occupied 1,827 square miles, about 0.5 percent. "
        "“We will win,” Mr. Putin said. “People need to know.”"
    )
    sentences = [s.text for s in split_sentences(text)]
    assert sentences == [
        "President Vladimir V. Putin met Mr. Zelensky in the U.S. on Tuesday.",
        "Moscow has occupied 1,827 square miles, about 0.5 percent.",
        "“We will win,” Mr. Putin said.",
        "“People need to know.”",
    ]


def test_repeated_sentences_get_distinct_offsets() -> None:
    text = "It rained. It rained.\n\nIt rained."
    segments = split_sentences(text)
    assert [(s.start, s.end) for s in segments] == [(0, 10), (11, 21), (23, 33)]
    assert [s.paragraph for s in segments] == [0, 0, 1]


def test_paragraphs_skip_blank_lines_and_trim() -> None:
    assert paragraphs("  a b \n\n c\n") == [(2, 5), (9, 10)]
