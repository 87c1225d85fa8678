"""The source dictionary checks (CC-CEDICT + jieba + pypinyin) on crafted zh/en pairs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from cli_run import mtqa

from mtqa.core.config import load_config
from mtqa.core.result import CHECK_REASONS
from mtqa.core.segment import Segment
from mtqa.scoring.judge import judge_segment
from mtqa.source import dictionary
from mtqa.source.lexical import dictionary_spans, lexical_findings
from mtqa.source.names import form_key, pinyin_forms
from mtqa.source.pairing import SourcePair, source_spans

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in dictionary.PACKAGES),
    reason="the `source` extra is not installed",
)

MEETING = "中国外交部长王毅周二在北京会见了美国国务卿布林肯，双方就乌克兰问题交换了意见。"
MEETING_EN = (
    "Chinese Foreign Minister Wang Yi met with US Secretary of State Blinken in Beijing on "
    "Tuesday, and the two sides exchanged views on the Ukraine issue."
)
XI = "国家主席习近平在北京会见了法国总统马克龙，双方签署了多项合作协议。"
XI_EN = "President Xi Jinping met with French President Macron in Beijing, and the two sides "
XI_EN += "signed a number of cooperation agreements."


def _kinds(source: str, target: str) -> list[str]:
    return [f.kind for f in lexical_findings(source, target)]


def test_a_correct_translation_has_no_findings() -> None:
    assert lexical_findings(MEETING, MEETING_EN) == []
    assert lexical_findings(XI, XI_EN) == []


def test_a_misspelt_name_points_at_the_target_word() -> None:
    target = MEETING_EN.replace("Wang Yi", "Wang Ji")
    (finding,) = lexical_findings(MEETING, target)
    assert finding.kind == "name" and finding.reason == "name"
    assert finding.target is not None and target[slice(*finding.target)] == "Wang Ji"
    assert [w.text for w in finding.source_words] == ["王毅"]
    assert MEETING[finding.source_words[0].start : finding.source_words[0].end] == "王毅"
    assert (
        finding.message == "check this name against the source: 王毅 is usually written “Wang Yi”"
    )


def test_another_name_for_xi_is_a_name_finding() -> None:
    target = XI_EN.replace("Xi Jinping", "Xi Jingping")
    found = [f for f in lexical_findings(XI, target) if f.kind == "name"]
    assert len(found) == 1 and found[0].target is not None
    assert target[slice(*found[0].target)] == "Xi Jingping"
    assert "习近平 is usually written “Xi Jinping”" in found[0].message


def test_another_person_in_place_of_xi_is_a_name_finding() -> None:
    target = XI_EN.replace("Xi Jinping", "Hu Jintao")  # CEDICT's name for 胡锦涛, not 习近平
    found = [f for f in lexical_findings(XI, target) if f.kind == "name"]
    assert [target[slice(*f.target)] for f in found if f.target] == ["Hu Jintao"]
    assert [w.text for w in found[0].source_words] == ["习近平"]


def test_names_written_another_accepted_way_are_not_findings() -> None:
    # A surname alone, a demonym, "U.S." for 美国, a pinyin name jieba cut in two (布|林肯).
    assert _kinds(MEETING, MEETING_EN.replace("Foreign Minister Wang Yi", "Mr. Wang")) == []
    source = "美国和中国官员周二在日内瓦会谈。"
    assert _kinds(source, "U.S. and Chinese officials held talks in Geneva on Tuesday.") == []


def test_an_omitted_clause_is_an_omission_finding() -> None:
    target = "President Xi Jinping met with French President Macron in Beijing."
    found = [f for f in lexical_findings(XI, target) if f.kind == "omission"]
    assert found, lexical_findings(XI, target)
    words = {w.text for f in found for w in f.source_words}
    assert {"签署", "协议"} & words
    assert found[0].target is None and "nothing in the English translates" in found[0].message
    span = found[0].to_span(target, 100)
    assert span.reason == "missing-word" and span.severity == "minor"
    assert (span.start, span.end) == (100, 100 + len(target))


def test_an_added_clause_is_an_addition_finding() -> None:
    target = XI_EN[:-1] + ", and discussed climate subsidies for poor farmers in remote regions."
    found = [f for f in lexical_findings(XI, target) if f.kind == "addition"]
    assert len(found) == 1 and found[0].target is not None
    assert "subsidies" in target[slice(*found[0].target)]
    assert found[0].source_words == () and found[0].reason == "added-word"


def test_findings_are_deterministic() -> None:
    target = XI_EN.replace("Xi Jinping", "Hu Jintao")[:60] + " to discuss climate subsidies."
    first = lexical_findings(XI, target)
    dictionary.segment_source.cache_clear()
    assert lexical_findings(XI, target) == first
    assert dictionary_spans(XI, target, 7) == dictionary_spans(XI, target, 7)


def test_spans_land_on_the_target_and_never_flag() -> None:
    target = MEETING_EN.replace("Wang Yi", "Wang Ji")
    spans = dictionary_spans(MEETING, target, offset=10)
    document = " " * 10 + target
    assert spans and all(document[s.start : s.end] == s.text for s in spans)
    assert all(s.severity == "minor" and s.reason in CHECK_REASONS for s in spans)
    config = load_config(None)
    judged = judge_segment(target, {}, dictionary_spans(MEETING, target), config, 1.01)
    assert not judged.flagged and judged.spans  # shown, not flagged


def test_source_spans_add_the_dictionary_checks_for_a_chinese_source() -> None:
    target = MEETING_EN.replace("Wang Yi", "Wang Ji")
    segments = [Segment(0, 0, len(target), target, 0)]
    spans = source_spans(segments, [SourcePair(0, MEETING, 0.8, "given")], (), None)
    assert [s.text for s in spans[0] if s.reason == "name"] == ["Wang Ji"]
    german = source_spans(segments, [SourcePair(0, "Wang Yi traf Blinken.", 0.8, "given")])
    assert not [s for s in german[0] if s.reason == "name"]


def test_pinyin_forms_and_keys() -> None:
    assert pinyin_forms("李华明", True)[0] == "Li Huaming"
    assert form_key("Hsi") == form_key("Xi") == "xi"  # Wade-Giles "hs"
    assert form_key("Düsseldorf's") == "dusseldorf"


def test_missing_packages_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jieba" else real(name, *a)
    )
    with pytest.raises(dictionary.DictionaryError) as caught:
        dictionary._require()
    message = str(caught.value)
    assert "\n" not in message and "jieba" in message and "mtqa[source]" in message


def test_cli_source_shows_a_name_check(tmp_path: Path) -> None:
    source = tmp_path / "zh.txt"
    source.write_text(MEETING + "\n", encoding="utf-8")
    target = tmp_path / "en.txt"
    target.write_text(MEETING_EN.replace("Wang Yi", "Wang Ji") + "\n", encoding="utf-8")
    proc = mtqa("score", str(target), "--source", str(source), "-q", "-f", "json")
    assert proc.returncode == 0, proc.stderr.decode()
    data = json.loads(proc.stdout)
    names = [s for sent in data["sentences"] for s in sent["spans"] if s["reason"] == "name"]
    assert [s["text"] for s in names] == ["Wang Ji"]
    assert "王毅" in names[0]["message"] and names[0]["severity"] == "minor"
