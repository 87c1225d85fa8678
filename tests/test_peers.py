"""Peer context: comparing each translation with other systems' translations of the segment."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mtqa import Scorer
from mtqa.batch import BatchOptions, run_batch
from mtqa.batch.peers import peers_config
from mtqa.core.errors import ModelError
from mtqa.core.result import Signature, Span, Suggestion
from mtqa.corpus import open_corpus
from mtqa.scoring.peer_support import (
    PEER_WORD_FEATURES,
    load_peer_detector,
    peer_aware_spans,
    peer_word_features,
    token_support,
)
from mtqa.scoring.peers import (
    PEER_FEATURES,
    group_features,
    peer_feature_names,
    peer_replacements,
    peer_spans,
    peer_words,
    unsupported,
    with_peer_suggestions,
)

DATA = Path(__file__).parent / "data" / "peers"
SYSTEMS = [str(DATA / f"{name}.txt") for name in "abcd"]
ATTRITION = [
    "Ukraine says the war of attrition in the east will last for months.",
    "Ukraine says the war of attrition in the east will go on for months.",
    "Ukraine says the eastern war of attrition will last for months.",
    "Ukraine says the war of loss in the east will continue for moons.",
]


def texts(items: list[Suggestion]) -> list[str]:
    return [item.text for item in items]


def test_the_outlier_translation_stands_out() -> None:
    own = [{"total_surprisal": v} for v in (10.0, 12.0, 11.0, 19.0)]
    feats = group_features(ATTRITION, own, ["total_surprisal"])
    assert feats is not None and len(feats) == 4
    assert set(feats[0]) == set(peer_feature_names(["total_surprisal"]))
    # Relative features compare with the item's mean: they sum to zero over the item.
    assert sum(f["rel_total_surprisal"] for f in feats) == pytest.approx(0.0)
    assert feats[3]["rel_total_surprisal"] == pytest.approx(6.0)
    chrf = [f["peer_chrf"] for f in feats]
    assert min(chrf) == chrf[3] < min(chrf[:3]) - 0.05
    assert sum(f["rel_peer_chrf"] for f in feats) == pytest.approx(0.0)
    assert feats[3]["peer_cosine"] < min(f["peer_cosine"] for f in feats[:3])
    assert feats[3]["peer_unsupported"] >= 2 and feats[0]["peer_unsupported"] == 0
    # Too few translations: no peer judgement.
    assert group_features(ATTRITION[:2], own[:2], ["total_surprisal"]) is None


def test_unsupported_words_become_mistranslation_spans() -> None:
    words = peer_words(ATTRITION)
    flagged = {w.text for w in unsupported(words[3])}
    assert {"loss", "moons"} <= flagged and "war" not in flagged and "Ukraine" not in flagged
    spans = peer_spans(words[3], offset=100)
    loss = next(s for s in spans if s.text == "loss")
    assert ATTRITION[3][loss.start - 100 : loss.end - 100] == "loss"
    assert loss.reason == "mistranslation" and loss.severity == "major"
    assert loss.message == "0 of the 3 other translations use 'loss'"
    assert not unsupported(words[0])


def test_peers_agree_on_the_replacement() -> None:
    target, peers = ATTRITION[3], ATTRITION[:3]
    at = target.index("loss")
    assert texts(peer_replacements(target, at, at + 4, peers)) == ["attrition"]
    at = target.index("moons")
    assert texts(peer_replacements(target, at, at + 5, peers)) == ["months"]
    # A span wider than the peers' change gets nothing from them (measured: rarely right).
    at = target.index("of loss")
    assert peer_replacements(target, at, at + 7, peers) == []
    # One peer alone is a choice, not agreement; the original is never suggested.
    assert peer_replacements(target, at, at + 5, peers[:1]) == []
    assert peer_replacements(ATTRITION[0], 0, 7, ATTRITION[1:], 1) == []
    at = ATTRITION[0].index("last")
    found = peer_replacements(ATTRITION[0], at, at + 4, ATTRITION[1:], 1)
    assert texts(found) == ["go on", "continue"]
    assert [(s.by, s.support) for s in found] == [("peers", 1), ("peers", 1)]
    lm = [Suggestion("end", "lm", 0.5), Suggestion("go on", "lm", -1.0)]
    spans = [Span(at, at + 4, "last", "minor", "fluency", "", suggested=lm)]
    moved = with_peer_suggestions(ATTRITION[0], spans, [ATTRITION[1], ATTRITION[1]])
    assert moved[0].suggestions == ["go on", "end"]  # agreement first, no repeat
    assert [s.by for s in moved[0].suggested] == ["peers", "lm"]
    assert moved[0].suggested[0].why("last") == "2 other translations write “go on” here"


def test_signature_round_trip(scorer: Scorer) -> None:
    signature = scorer.signature
    parsed = Signature.parse(signature.format())
    assert parsed.format() == signature.format()
    standard = scorer.config.threshold("standard")
    assert parsed.config == signature.config and parsed.threshold == pytest.approx(standard, 0.01)


def test_missing_peer_config_is_a_clear_error() -> None:
    from mtqa.core.errors import ConfigNotFound

    with pytest.raises(ConfigNotFound, match="mtqa calibrate --peers --base nope"):
        peers_config("nope")
    assert peers_config(None).name == "default-peers"


def _records(out: Path) -> list[dict[str, Any]]:
    text = (out / "segments.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line]


@pytest.mark.model
def test_batch_with_peers_rejudges_and_undoes(scorer: Scorer, tmp_path: Path) -> None:
    corpus = open_corpus(sources=str(DATA / "src.txt"), targets=SYSTEMS)
    out, reports = tmp_path / "out", tmp_path / "reports"
    options = BatchOptions(output_dir=out, report_dir=reports, peers=True)
    result = run_batch(corpus, options, scorer=scorer)
    assert result.scored == 4
    records = _records(out)
    assert len(records) == 12
    for record in records:
        assert set(record["base"]) == {"score", "flagged", "severity", "reasons", "spans"}
        # Every sentence keeps its detector words, flagged or not, for the peer pass.
        assert record["words"] and all(0 <= p <= 1 and 0 <= m <= 1 for *_, p, m in record["words"])
        assert all(
            record["target"][a:b].strip() == record["target"][a:b] != ""
            for a, b, *_ in record["words"]
        )
        for span in record["spans"]:
            if "probability" in span:  # the detector's spans, re-judged with the peers
                assert "other translations use" in span["message"]
        assert set(PEER_FEATURES) <= set(record["peer_features"])
        assert record["features"]["n_words"] > 0
    by = {(r["system"], r["line"]): r for r in records}
    outlier, peers = by[("d", 2)], [by[(s, 2)] for s in "abc"]
    assert outlier["peer_features"]["peer_unsupported"] >= 2
    assert outlier["score"] < min(p["score"] for p in peers)
    assert outlier["score"] < outlier["base"]["score"]  # peers make the evidence stronger
    assert outlier["flagged"]
    for word, agreed in (("loss", None), ("moons", "months")):
        at = outlier["target"].index(word)
        span = next(s for s in outlier["spans"] if s["start"] <= at < s["end"])
        assert (
            span["reason"] == "mistranslation"
            and f"0 of the 3 other translations use “{word}”" in span["message"]
        )
        if agreed and span["text"] == word:  # what the other systems agree on in its place
            assert span["suggested"][0] == {"text": agreed, "by": "peers", "support": 3}
    assert any(s["text"] == "moons" and s["suggestions"] == ["months"] for s in outlier["spans"])
    summary = json.loads((out / "summary.json").read_text())
    assert "config:default-peers@" in summary["signature"]
    assert summary["signature"].endswith("+peers")
    assert summary["options"]["peers"] is True
    report = (
        reports
        / json.loads((out / "documents.jsonl").read_text().split("\n")[3])["report"].split("/")[-1]
    ).read_text(encoding="utf-8")
    assert "default-peers" in report
    # Re-finalising without --peers gives back the document-only judgements.
    run_batch(corpus, BatchOptions(output_dir=out), scorer=scorer)
    plain = _records(out)
    assert all("base" not in r and "peer_features" not in r for r in plain)
    assert [r["score"] for r in plain] == [r["base"]["score"] for r in records]


def test_cli_peers_without_calibration_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "mine.json"  # a valid config with no peer-aware companion
    config.write_text((Path(__file__).parents[1] / "mtqa/configs/default.json").read_text())
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mtqa.cli",
            "batch",
            "-s",
            str(DATA / "src.txt"),
            *sum((["-t", s] for s in SYSTEMS), []),
            "-o",
            str(tmp_path / "o"),
            "-c",
            str(config),
            "--peers",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr  # EXIT_ERROR: an input/set-up problem
    assert proc.stderr.strip().count("\n") == 0
    assert "mine-peers.json" in proc.stderr and "calibrate --peers" in proc.stderr


@pytest.mark.model
def test_peers_with_two_systems_change_nothing(scorer: Scorer, tmp_path: Path) -> None:
    corpus = open_corpus(sources=str(DATA / "src.txt"), targets=SYSTEMS[:2])
    plain = run_batch(corpus, BatchOptions(output_dir=tmp_path / "a"), scorer=scorer)
    peers = run_batch(corpus, BatchOptions(output_dir=tmp_path / "b", peers=True), scorer=scorer)
    assert any("--peers: 2 systems" in w for w in peers.warnings)
    assert peers.summary["signature"] == plain.summary["signature"]
    assert _records(tmp_path / "a") == _records(tmp_path / "b")


def test_support_counts_the_aligned_words() -> None:
    target, peers = ATTRITION[3], ATTRITION[:3]
    spans, support = token_support(target, peers)
    by_word = {target[a:b]: row for (a, b), row in zip(spans, support, strict=True)}
    assert by_word["loss"].tolist() == [0.0, 0.0]  # no peer writes it, anywhere
    assert by_word["moons"].tolist() == [0.0, 0.0]
    assert by_word["Ukraine"].tolist() == [1.0, 1.0]
    # "war" is in every peer; one peer writes it in another order ("eastern war").
    assert by_word["war"][0] == 1.0 and 0.0 < by_word["war"][1] <= 1.0
    assert token_support(target, [])[1].shape == (len(spans), 2)


def test_peer_aware_spans_name_the_unsupported_word() -> None:
    target, peers = ATTRITION[3], ATTRITION[:3]
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+", target)]
    flat = np.full(len(words), 0.3)
    feats = peer_word_features(target, words, flat, flat / 3, peers)
    assert feats.shape == (len(words), len(PEER_WORD_FEATURES))
    assert np.isfinite(feats).all()
    spans, p_any, p_major = peer_aware_spans(target, words, flat, flat / 3, peers)
    assert len(spans) <= 3 and p_any.shape == p_major.shape == (len(words),)
    loss = words.index((target.index("loss"), target.index("loss") + 4))
    ukraine = 0
    # Same detector probability everywhere: the word no peer writes is the likelier error.
    assert p_any[loss] > p_any[ukraine] + 0.1
    for span in spans:
        assert target[span.start : span.end] == span.text
        assert "other translations use" in span.message and span.probability is not None
    again = peer_aware_spans(target, words, flat, flat / 3, peers)
    assert [s.to_record() for s in again[0]] == [s.to_record() for s in spans]


def test_damaged_peer_detector_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(ModelError) as err:
        load_peer_detector(tmp_path / "broken")
    assert "\n" not in str(err.value) and "reinstall mtqa" in str(err.value)
