"""Deterministic QA checks: numbers, untranslated text, repetition, punctuation, length."""

from __future__ import annotations

import pytest

from mtqa.checks import (
    check_length,
    check_numbers,
    check_punctuation,
    check_quotes,
    check_repetition,
    check_untranslated,
    missing_source_numbers,
    run_checks,
    source_numbers,
    target_numbers,
)
from mtqa.core.language import detect_script
from mtqa.core.result import Span

OFFSET = 1000


def reasons(spans: list[Span]) -> list[str]:
    return [s.reason for s in spans]


def assert_offsets(spans: list[Span], target: str, offset: int = OFFSET) -> None:
    """document[offset + s : offset + e] == text, with the document = padding + target."""
    document = "x" * offset + target
    for span in spans:
        assert document[span.start : span.end] == span.text
        assert span.start >= offset and span.end <= offset + len(target)


# ------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("target", "source", "lang"),
    [
        ("The company earned 150 million yuan.", "公司盈利1.5亿元。", "zh"),
        ("About 30,000 people attended.", "约3万人参加。", "zh"),
        ("He is 16 years old.", "他今年十六岁。", "zh"),
        ("There were 1,827 cases.", "共有一千八百二十七例。", "zh"),
        ("Prices rose 12%.", "价格上涨１２％。", "zh"),
        ("A fine of RMB30,000 was imposed.", "处3万元罚款。", "zh"),
        ("Belgium has more than 11 million people.", "比利时有1100多万人口。", "zh"),
        ("On March 5, 2021, the plan was adopted.", "2021年3月5日，该计划获得通过。", "zh"),
        ("the 1992 Consensus", "九二共识", "zh"),
        ("the 1980s film", "上世纪80年代的影片", "zh"),
        ("the 14th Five-Year Plan", "十四五规划", "zh"),
        ("It costs 4 to 6 million yuan.", "费用为400万至600万元。", "zh"),
        ("There were 1,827 cases.", "Было 1 827 случаев.", "ru"),
        ("The loss was 2.5 billion roubles.", "Убыток составил 2,5 млрд рублей.", "ru"),
        ("There were 3.5 million cases.", "Es gab 3,5 Millionen Fälle.", "de"),
        ("There were 1,827 cases.", "Es gab 1.827 Fälle.", "de"),
        ("On October 3, 2021, it rained.", "Am 3.10.2021 regnete es.", "de"),
        ("COVID-19 spread to 5 cities.", "新冠肺炎蔓延到5个城市。", "zh"),
    ],
)
def test_numbers_match_across_formats(target: str, source: str, lang: str) -> None:
    assert check_numbers(target, source, lang) == []
    assert missing_source_numbers(source, target, lang) == []


@pytest.mark.parametrize(
    ("target", "source", "lang", "flagged"),
    [
        ("The company earned 1.5 million yuan.", "公司盈利1.5亿元。", "zh", "1.5 million"),
        ("About 3,000 people attended.", "约3万人参加。", "zh", "3,000"),
        ("He is 61 years old.", "他今年十六岁。", "zh", "61"),
        ("There were 1,872 cases.", "Было 1 827 случаев.", "ru", "1,872"),
        ("There were 35 million cases.", "Es gab 3,5 Millionen Fälle.", "de", "35 million"),
        ("Sales rose 8% in 2020.", "销售额增长了8%。", "zh", "2020"),
    ],
)
def test_numbers_mismatch_is_flagged(target: str, source: str, lang: str, flagged: str) -> None:
    spans = check_numbers(target, source, lang, offset=OFFSET)
    assert [s.text for s in spans] == [flagged]
    assert spans[0].severity == "major" and spans[0].reason == "number"
    assert "source" in spans[0].message
    assert_offsets(spans, target)


def test_number_message_names_the_source_value() -> None:
    (span,) = check_numbers("Sales hit 1.5 million yuan.", "销售额达1.5亿元。", "zh")
    assert "1.5亿 = 150,000,000" in span.message


def test_missing_source_numbers_reports_source_text() -> None:
    assert missing_source_numbers(
        "约3万人参加，其中1200人是学生。", "About 30,000 attended.", "zh"
    ) == ["1200"]
    assert missing_source_numbers("Es gab 3,5 Millionen Fälle.", "There were many cases.") == [
        "3,5 Millionen"
    ]


def test_chinese_yi_in_words_is_not_a_number() -> None:
    source = "一些国家已经统一了立场，一起努力，一直坚持。"
    assert [m for m in source_numbers(source, "zh") if m.strong] == []
    assert not [m for m in source_numbers(source, "zh") if 1.0 in m.values]
    assert missing_source_numbers(source, "Some countries have united.", "zh") == []
    assert run_checks("Some countries have united and worked together.", source, "zh") == []


def test_chinese_numerals_parse() -> None:
    values = {
        m.text: m.values[0]
        for m in source_numbers("三亿五千万、两万三千、二〇二一年、一万亿", "zh")
    }
    assert values == {
        "三亿五千万": 350_000_000,
        "两万三千": 23_000,
        "二〇二一": 2021,
        "一万亿": 1e12,
    }


def test_chinese_idioms_stay_weak() -> None:
    mentions = source_numbers("万一下雨，千万不要出门，三三两两地回家。", "zh")
    assert all(not m.strong for m in mentions)


def test_target_numbers_forms() -> None:
    found = {m.text: m.values for m in target_numbers("5%, the 3rd, $5bn, 1,827 and sixteen")}
    assert found["5%"] == (5.0,)
    assert found["3rd"] == (3.0,)
    assert found["5bn"] == (5e9,)
    assert found["1,827"] == (1827.0,)
    assert found["sixteen"] == (16.0,)
    assert target_numbers("COVID-19, G20 and F-16") == []


def test_number_words_are_not_flagged_without_source_number() -> None:
    assert check_numbers("One of the three leaders spoke first.", "领导人讲话。", "zh") == []


def test_no_number_spans_without_source() -> None:
    assert "number" not in reasons(run_checks("He paid 1,000 dollars for 3 books."))


# ------------------------------------------------------------------------------- untranslated


def test_untranslated_cjk_and_cyrillic() -> None:
    target = "The 北京 government met Путин today."
    spans = check_untranslated(target, offset=OFFSET)
    assert [(s.text, s.severity, s.reason) for s in spans] == [
        ("北京", "major", "untranslated"),
        ("Путин", "major", "untranslated"),
    ]
    assert_offsets(spans, target)


def test_untranslated_german_copy() -> None:
    source = "Der Präsident sagte, dass er für die Reform ist."
    target = "The president said that he is für the reform."
    spans = check_untranslated(target, source, offset=OFFSET)
    assert [(s.text, s.severity, s.reason) for s in spans] == [("für", "major", "untranslated")]
    assert_offsets(spans, target)
    copied = "Der Präsident sagte, dass er für die Reform ist."
    spans = check_untranslated(copied, source, "de")
    assert [s.text for s in spans] == ["Der Präsident sagte, dass er für die Reform ist"]


def test_german_names_are_not_untranslated() -> None:
    assert check_untranslated("Müller flew to Düsseldorf.", "Müller flog nach Düsseldorf.") == []
    assert check_untranslated("Angela Merkel said no.", "Angela Merkel sagte nein.", "de") == []


# --------------------------------------------------------------------------------- repetition


def test_repetition() -> None:
    target = "He went to the the market of of the town."
    spans = check_repetition(target, offset=OFFSET)
    assert [(s.text, s.severity) for s in spans] == [("the", "minor"), ("of", "minor")]
    assert spans[0].start == OFFSET + target.index("the the") + 4
    assert_offsets(spans, target)


def test_repetition_case_insensitive_and_exclusions() -> None:
    assert [s.text for s in check_repetition("The the end.")] == ["the"]
    assert check_repetition("He had had enough; I said that that was fine.") == []
    assert check_repetition("Reporter Li Li wrote it, the theory goes.") == []


# -------------------------------------------------------------------------------- punctuation


def test_unbalanced_brackets() -> None:
    target = "The bureau (NBS said so) today) and [more."
    spans = check_punctuation(target, offset=OFFSET)
    assert [s.text for s in spans] == [")", "["]
    assert all(s.severity == "minor" and s.reason == "punctuation" for s in spans)
    assert_offsets(spans, target)


def test_quotes_and_apostrophes() -> None:
    assert check_quotes("“It’s fine,” he said. Ukraine's don't 'quoted'.") == []
    assert [s.text for s in check_quotes("He said “we will win.")] == ["“"]
    assert [s.text for s in check_quotes("He said we will win.”")] == ["”"]
    assert [s.text for s in check_quotes('He said "we will win.')] == ['"']
    assert check_quotes("Он сказал «да». Sie sagte „ja“.") == []


def test_quote_spanning_sentences_is_fine_at_paragraph_level() -> None:
    paragraph = "“We will win. We always do,” he said."
    first, second = "“We will win.", "We always do,” he said."
    assert check_quotes(paragraph) == []
    assert check_quotes(first) and check_quotes(second)
    assert "punctuation" not in reasons(run_checks(first, quotes=False))


def test_source_with_same_imbalance_suppresses_flag() -> None:
    assert run_checks("“The report said so.", "“报告这样说。", "zh") == []


# ------------------------------------------------------------------------------------- length


def test_length_too_short_and_too_long() -> None:
    source = (
        "中国国家主席习近平周二在北京会见了来访的法国总统马克龙，双方就两国关系深入交换了意见。"
    )
    short = "Xi met Macron."
    spans = check_length(short, source, "zh", offset=OFFSET)
    assert [(s.reason, s.severity, s.text) for s in spans] == [("length", "minor", short)]
    assert "shorter" in spans[0].message and "omission" in spans[0].message
    assert_offsets(spans, short)
    good = (
        "Chinese President Xi Jinping met visiting French President Emmanuel Macron in Beijing "
        "on Tuesday, and the two sides had an in-depth exchange of views on bilateral relations."
    )
    assert check_length(good, source, "zh") == []
    long_target = good + " " + good + " " + good
    (span,) = check_length(long_target, source, "zh")
    assert "longer" in span.message and "addition" in span.message


def test_length_russian_prior() -> None:
    source = "Правительство России в среду одобрило новый план поддержки малого бизнеса."
    good = "The Russian government on Wednesday approved a new plan to support small businesses."
    assert check_length(good, source, "ru") == []
    assert check_length("Plan approved.", source, "ru") != []


# ------------------------------------------------------------------------------- run_checks


def test_run_checks_offsets_invariant() -> None:
    source = "公司盈利1.5亿元（同比增长5%。"
    target = "The the company earned 1.5 million 北京 yuan (up 5%."
    spans = run_checks(target, source, "zh", offset=OFFSET)
    assert set(reasons(spans)) == {"repetition", "number", "untranslated"}
    assert_offsets(spans, target)
    assert [s.start for s in spans] == sorted(s.start for s in spans)


def test_run_checks_target_only() -> None:
    target = "He said (the the plan."
    spans = run_checks(target, offset=5)
    assert sorted(reasons(spans)) == ["punctuation", "repetition"]
    assert_offsets(spans, target, offset=5)


def test_run_checks_detects_source_language() -> None:
    spans = run_checks("There were 35 million cases.", "Es gab 3,5 Millionen Fälle.")
    assert [s.text for s in spans] == ["35 million"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("中国国家统计局周一公布数据", "zh"),
        ("Правительство России одобрило план", "ru"),
        ("Der Präsident sagte, dass er für die Reform ist", "de"),
        ("The president said he supports the reform", "latin"),
        ("1234 ...", "unknown"),
    ],
)
def test_detect_script(text: str, lang: str) -> None:
    assert detect_script(text) == lang
