"""Pure-rendering tests for the HTML editor report: escaping, JSON embedding, offsets, files."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_fixtures import (
    ATTACKS,
    SEED_POS,
    SEED_RANKED,
    build_doc,
    emoji_doc,
    injection_doc,
    large_doc,
    seed_doc,
)

from mtqa.core import files
from mtqa.core.result import DocumentResult, SentenceResult, Span
from mtqa.report import (
    html,
    index_entry,
    render_index,
    render_report,
    write_batch,
    write_index,
    write_report,
)
from mtqa.report.assets import json_for_script, safe_href
from mtqa.report.html import doc_key, highlight_ranges, payload, split_pieces

#: Every element the templates themselves produce; anything else came from document text.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "a", "header", "h1", "h2", "dl", "div",
    "dt", "dd", "button", "p", "kbd", "ul", "li", "main", "span", "mark", "aside", "section",
    "label", "select", "option", "ol", "footer", "code", "script", "table", "caption", "thead",
    "tbody", "tfoot", "tr", "th", "td",
}  # fmt: skip


class Collector(HTMLParser):
    """Collect start tags, attributes and script bodies of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


def data_block(html: str) -> str:
    match = re.search(r'<script type="application/json" id="mtqa-data">(.*?)</script>', html, re.S)
    assert match, "data block missing"
    return match.group(1)


# ----------------------------------------------------------------------------- page shape


def test_report_is_a_complete_self_contained_page() -> None:
    html = render_report(seed_doc())
    assert html.startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    page = parse(html)
    tags = {tag for tag, _ in page.tags}
    assert "link" not in tags and "img" not in tags and "iframe" not in tags
    assert not any("src" in attrs for tag, attrs in page.tags if tag == "script")
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert "<style>" in html and "function renderSentence" in html


def test_csp_hash_matches_the_only_executable_script() -> None:
    html = render_report(seed_doc())
    page = parse(html)
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "mtqa-data"}, {}]
    digest = hashlib.sha256(page.scripts[1].encode("utf-8")).digest()
    expected = "sha256-" + base64.b64encode(digest).decode("ascii")
    csp = next(
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None
    assert f"script-src '{expected}'" in csp
    assert "default-src 'none'" in csp and "unsafe" not in csp


def test_counts_title_and_signature() -> None:
    doc = seed_doc()
    html = render_report(doc, title="Seed & <friends>")
    assert "<title>Seed &amp; &lt;friends&gt; · mtqa report</title>" in html
    assert '<dd id="c-sentences">12</dd>' in html
    assert '<dd id="c-flagged">8</dd>' in html
    assert '<dd id="c-major">3</dd>' in html
    assert '<dd id="c-minor">5</dd>' in html
    assert f'<dd id="c-score">{doc.score:.2f}</dd>' in html
    assert doc.signature.format() in html
    assert "preset balanced" in html and "threshold 0.500" in html and "model hand-made" in html


def test_default_title_falls_back_to_first_line() -> None:
    doc = seed_doc()
    doc.doc_id = None
    assert "<h1>Take an inch in battle, Russia asks for miles in conversation</h1>" in (
        render_report(doc)
    )


def test_paragraphs_and_sentences_in_reading_order() -> None:
    doc = seed_doc()
    html = render_report(doc)
    main = html[html.index("<main") : html.index("</main>")]
    assert main.count("<p>") == len({s.paragraph for s in doc.sentences})
    positions = [int(p) for p in re.findall(r'<span class="sent[^"]*" id="s-(\d+)"', main)]
    assert positions == list(range(len(doc.sentences)))
    flagged = re.findall(r'class="sent flag flag-(major|minor)" id="s-(\d+)"', main)
    assert sorted(int(p) for _, p in flagged) == sorted(SEED_RANKED)


def test_highlights_match_span_text() -> None:
    doc = seed_doc()
    html = render_report(doc)
    marks = re.findall(
        r'<mark class="hl sev-(\w+) r-(\w+)" data-k="0" tabindex="0">(.*?)</mark>', html
    )
    assert [m[2] for m in marks] == [sp.text for s in doc.sentences for sp in s.spans]
    assert ("major", "mistranslation", "passionate relationship") in marks
    assert ("minor", "fluency", "hard ball demand") in marks


def test_flag_list_ranked_by_severity_then_score() -> None:
    html = render_report(seed_doc())
    aside = html[html.index('<ol class="flag-list"') :]
    order = [int(p) for p in re.findall(r'<li data-s="(\d+)"', aside)]
    assert order == SEED_RANKED


def test_reason_filter_lists_reasons_present() -> None:
    html = render_report(seed_doc())
    for reason, n in [("fluency", 3), ("mistranslation", 3), ("number", 1), ("omission", 1)]:
        assert f'<option value="{reason}">{reason} ({n})</option>' in html
    assert '<option value="name">' not in html


def test_no_flags_and_empty_document_render() -> None:
    empty = build_doc([], doc_id=None, tail="")
    html = render_report(empty)
    assert "No sentences were flagged." in html and "<h1>mtqa report</h1>" in html
    assert json.loads(data_block(html))["gaps"] == [""]


def test_warnings_are_shown() -> None:
    doc = build_doc([["One sentence."]], warnings=["Text was truncated."])
    assert "<li>Text was truncated.</li>" in render_report(doc)


# ----------------------------------------------------------------------------- injection safety


def test_injection_renders_as_text_only() -> None:
    doc = injection_doc()
    html = render_report(doc, title="<script>window.__pwned=19</script>")
    page = parse(html)
    assert {tag for tag, _ in page.tags} <= TEMPLATE_TAGS
    assert [tag for tag, _ in page.tags].count("script") == 2
    for _, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), attrs
        assert not any("javascript:" in (value or "") for value in attrs.values())
    assert "window.__pwned" not in page.scripts[1]
    assert "&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=2;alert(2)&#34;&gt;" in html
    assert '<mark class="hl sev-major r-other"' in html  # unknown reason -> safe class


def test_injection_data_block_round_trips() -> None:
    doc = injection_doc()
    block = data_block(render_report(doc))
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    assert data == payload(doc)
    assert [s["t"] for s in data["sents"]] == ATTACKS
    assert data["sents"][1]["ref"] == "</script><script>window.__pwned=17</script>"


@pytest.mark.parametrize(
    "value",
    ["</script>", "</SCRIPT >", "<!-- x -->", "]]>", "a & b", "\u2028\u2029", "q\"uo'te", "😀"],
)
def test_json_for_script_escapes(value: str) -> None:
    encoded = str(json_for_script({"v": value}))
    assert "</" not in encoded and "<!--" not in encoded and "<" not in encoded
    assert "\u2028" not in encoded
    assert json.loads(encoded) == {"v": value}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("doc 1.html", "doc%201.html"),
        ("javascript:alert(1)", "javascript%3Aalert%281%29"),
        ("//evil.example/x.html", ".///evil.example/x.html"),
        ('a"b<c>.html', "a%22b%3Cc%3E.html"),
        ("sub\\dir\\r.html", "sub/dir/r.html"),
    ],
)
def test_safe_href(path: str, expected: str) -> None:
    assert safe_href(path) == expected


# ----------------------------------------------------------------------------- offsets


def test_gaps_rebuild_the_document_exactly() -> None:
    for doc in (seed_doc(), emoji_doc(), injection_doc()):
        data = payload(doc)
        rebuilt = data["gaps"][0] + "".join(
            s["t"] + gap for s, gap in zip(data["sents"], data["gaps"][1:], strict=True)
        )
        assert rebuilt == doc.text


def test_span_offsets_are_utf16_in_payload() -> None:
    doc = emoji_doc()
    sentence = payload(doc)["sents"][0]
    units = sentence["t"].encode("utf-16-le")
    for span in sentence["spans"]:
        assert units[2 * span["a"] : 2 * span["b"]].decode("utf-16-le") == span["text"]
    python_local = doc.sentences[0].spans[0].start - doc.sentences[0].start
    assert sentence["spans"][0]["a"] == python_local + 2  # two astral emoji before it


def test_highlight_ranges_use_sentence_local_offsets() -> None:
    doc = emoji_doc()
    sentence = doc.sentences[0]
    ranges = highlight_ranges(sentence, len(sentence.text))
    assert [sentence.text[a:b] for a, b, _ in ranges] == ["tree goals", "the the"]
    pieces = split_pieces(sentence.text, ranges)
    assert "".join(p.text for p in pieces) == sentence.text
    assert [p.text for p in pieces if p.span is not None] == ["tree goals", "the the"]


def _sentence_with(spans: list[tuple[int, int]]) -> SentenceResult:
    text = "abcdefghij"
    return SentenceResult(
        index=0,
        start=100,
        end=110,
        text=text,
        paragraph=0,
        score=0.2,
        flagged=True,
        severity="major",
        spans=[Span(100 + a, 100 + b, text[a:b], "major", "fluency", "") for a, b in spans],
    )


def test_overlapping_and_out_of_range_spans_are_not_highlighted() -> None:
    sentence = _sentence_with([(2, 5), (0, 3), (0, 1), (4, 8), (8, 12), (-3, 1), (6, 6), (8, 10)])
    ranges = highlight_ranges(sentence, 10)
    assert ranges == [(0, 3, 1), (4, 8, 3), (8, 10, 7)]
    pieces = split_pieces(sentence.text, ranges)
    assert [(p.text, p.span) for p in pieces] == [
        ("abc", 1),
        ("d", None),
        ("efgh", 3),
        ("ij", 7),
    ]
    doc = DocumentResult(
        text="x" * 100 + sentence.text, sentences=[sentence], signature=seed_doc().signature
    )
    spans = payload(doc)["sents"][0]["spans"]
    assert [s["shown"] for s in spans] == [False, True, False, True, False, False, False, True]


def test_sentences_out_of_order_are_sorted_for_reading() -> None:
    doc = seed_doc()
    doc.sentences.reverse()
    data = payload(doc)
    assert [s["index"] for s in data["sents"]] == list(range(len(doc.sentences)))


# ----------------------------------------------------------------------------- data payload


def test_payload_carries_source_reference_and_key() -> None:
    doc = seed_doc()
    data = payload(doc)
    trouble = data["sents"][SEED_POS["trouble"]]
    assert trouble["src"] == "普京先生让所有人都陷入了困境。"
    assert trouble["ref"] == "Mr. Putin has put everyone in a bind."
    assert data["key"] == "mtqa-review:" + doc.doc_hash
    assert data["signature"]["text"] == doc.signature.format()
    omission = data["sents"][SEED_POS["omission"]]
    assert omission["flagged"] and omission["reasons"] == ["omission"] and omission["spans"] == []


def test_doc_key_falls_back_to_text_hash() -> None:
    doc = seed_doc()
    doc.doc_hash = ""
    assert doc_key(doc) == "mtqa-review:" + hashlib.sha256(doc.text.encode()).hexdigest()


def test_unknown_severity_counts_as_minor() -> None:
    doc = seed_doc()
    doc.sentences[SEED_POS["drys"]].severity = "weird"
    doc.sentences[SEED_POS["drys"]].spans[0].severity = "<b>"
    html = render_report(doc)
    assert '<dd id="c-minor">5</dd>' in html
    assert 'class="hl sev-minor r-fluency" data-k="0" tabindex="0">drys up</mark>' in html


def test_large_document_renders_quickly() -> None:
    doc = large_doc()
    started = time.perf_counter()
    html = render_report(doc)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"rendering 2,000 sentences took {elapsed:.1f}s"
    assert html.count('class="sent') == 2000
    assert html.count("<li data-s=") == 400
    assert len(html) < 3_000_000


# ----------------------------------------------------------------------------- files


def test_write_report_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "report.html"
    assert write_report(seed_doc(), target) == target
    assert target.read_text(encoding="utf-8") == render_report(seed_doc())
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(injection_doc(), target)
    assert target.read_text(encoding="utf-8") == render_report(seed_doc())
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_index_links_and_counts(tmp_path: Path) -> None:
    seed, hostile = seed_doc(), injection_doc()
    entries = [
        index_entry(seed, "seed article.html"),
        index_entry(hostile, "javascript:alert(1)", name="<script>window.__pwned=1</script>"),
    ]
    html = render_index(entries, title="Batch <1>")
    page = parse(html)
    assert {tag for tag, _ in page.tags} <= TEMPLATE_TAGS
    assert not any(tag == "script" for tag, _ in page.tags)
    hrefs = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert hrefs == ["seed%20article.html", "javascript%3Aalert%281%29"]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<h1>Batch &lt;1&gt;</h1>" in html
    assert '<td>12</td><td>8</td><td class="major">3</td><td>5</td>' in html
    assert "Signature:" not in html  # two different signatures: none shown
    path = write_index(entries, tmp_path / "index.html")
    assert path.read_text(encoding="utf-8") == render_index(entries)


def test_write_batch(tmp_path: Path) -> None:
    docs = [seed_doc(), emoji_doc(), injection_doc()]
    index = write_batch(docs, tmp_path / "batch")
    names = sorted(p.name for p in index.parent.iterdir())
    hostile = "script_window.__pwned_15_script.html"
    assert names == ["emoji.html", "index.html", hostile, "seed-article.html"]
    html = index.read_text(encoding="utf-8")
    assert 'href="seed-article.html"' in html and 'href="emoji.html"' in html


def test_script_builds_dom_without_markup_parsing() -> None:
    js = (Path(html.__file__).parent / "static" / "report.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js, sink
    assert "new Function" not in js and "setAttribute('href'" not in js
