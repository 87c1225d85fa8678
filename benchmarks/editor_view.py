"""What an editor sees, before (0.9) and after (0.10) the editor view, on MQM rows and the seed.

MQM (dev by default), each row in its document's context (the calibration evidence cache):
  spans      how many model spans are shown on flagged rows and the share that touch an MQM
             error span (any severity), split into name-only spans and the rest; Major span
             F1 (characters) under the standard preset
  flags      share flagged and Major precision / recall per preset
"before" is 0.9.0's behaviour (its span thresholds, names shown as mistranslations, no oddity
spans); "after" is this version's. The seed article (`mtqa score` as shipped): name-only spans
shown as mistranslation/fluency, sentences flagged only for a name, the six known damaged phrases
(flagged, with a span on the damaged word), and the share of sentences flagged.
Writes benchmarks/results/editor-view.json.
Run: `.venv/bin/python benchmarks/editor_view.py [--split dev] [--skip-seed]`.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from common import MQM, SEED, write_result
from spans import char_prf

from mtqa.calibration.agreement import flag_precision_recall
from mtqa.calibration.evidence import Evidence, cached_extract, judge_evidence
from mtqa.core.config import PRESETS
from mtqa.scoring import Scorer
from mtqa.scoring import detector as detector_module
from mtqa.scoring.detector import load_detector
from mtqa.scoring.names import capitalised_mid_sentence, is_name_span


def touches(span: tuple[int, int], gold: list[dict[str, Any]]) -> bool:
    return any(s["start"] < span[1] and span[0] < s["end"] for s in gold)


#: 0.9's span thresholds (detector.json before the Major one was re-chosen for 0.10).
THRESHOLDS_090 = {"any": 0.4, "major": 0.15}


@contextmanager
def detector_thresholds(thresholds: dict[str, float]) -> Iterator[None]:
    """The shipped detector with other span thresholds, for the 0.9 figures."""
    shipped = detector_module.load_detector()
    swapped = replace(shipped, meta={**shipped.meta, "thresholds": thresholds})
    detector_module.load_detector = lambda *_: swapped  # type: ignore[assignment]
    try:
        yield
    finally:
        detector_module.load_detector = load_detector


def mqm_view(rows: list[Evidence], scorer: Scorer, editor_view: bool) -> dict[str, Any]:
    cfg = scorer.config
    out: dict[str, Any] = {"flags": {}}
    judged = {
        p: [
            judge_evidence(e, cfg, cfg.threshold(p), strict=p == "strict", editor_view=editor_view)
            for e in rows
        ]
        for p in PRESETS
    }
    major = [e.major for e in rows]
    for p in PRESETS:
        out["flags"][p] = flag_precision_recall([f for _, f, _ in judged[p]], major)
    tally = {"names": [0, 0], "rest": [0, 0]}
    for e, (_, flagged, spans) in zip(rows, judged["standard"], strict=True):
        if not flagged:
            continue
        names = capitalised_mid_sentence(e.target, [0])
        gold = [s for s in e.spans if s["severity"] in ("Major", "Minor")]
        for start, end in spans:
            kind = "names" if is_name_span(e.target[start:end], start, 0, names) else "rest"
            tally[kind][0] += 1
            tally[kind][1] += touches((start, end), gold)
    out["spans_shown"] = {
        kind: {"shown": n, "touch_mqm": hit, "precision": round(hit / n, 3) if n else None}
        for kind, (n, hit) in tally.items()
    }
    predicted = [spans for _, _, spans in judged["standard"]]
    out["major_span_f1"] = round(char_prf(rows, predicted, ("Major",))["F1"], 4)
    return out


def seed_view(scorer: Scorer) -> dict[str, Any]:
    text = SEED.read_text(encoding="utf-8")
    result = scorer.score(text, doc_id="seed")
    names = capitalised_mid_sentence(text, [s.start for s in result.sentences])
    model_names = []
    name_only_flags = 0
    for sent in result.sentences:
        model = [s for s in sent.spans if s.reason in ("mistranslation", "fluency")]
        model_names += [s.text for s in model if is_name_span(s.text, s.start, sent.start, names)]
        if sent.flagged and sent.reasons == ["name"]:
            name_only_flags += 1
    phrases = {}
    # The seed's damaged phrases (examples/article-damage.json) and the word a span must cover.
    damage = json.loads(SEED.with_name("article-damage.json").read_text(encoding="utf-8"))
    for phrase, word in damage["phrases"]:
        at = text.index(phrase) + phrase.index(word)
        sent = next(s for s in result.sentences if s.start <= at < s.end)
        covered = [s.text for s in sent.spans if s.start <= at < s.end and s.reason != "name"]
        phrases[phrase] = {"flagged": sent.flagged, "span": covered[0] if covered else None}
    flagged = [s for s in result.sentences if s.flagged]
    return {
        "sentences": len(result.sentences),
        "flagged": len(flagged),
        "flagged_share": round(len(flagged) / len(result.sentences), 3),
        "name_spans_as_mistranslation": model_names,
        "flagged_only_for_a_name": name_only_flags,
        "phrases": phrases,
        "phrases_found": sum(bool(p["flagged"] and p["span"]) for p in phrases.values()),
        "checks": [
            {"text": s.text, "reason": s.reason, "message": s.message}
            for sent in result.sentences
            for s in sent.spans
            if s.reason in ("name", "consistency")
        ],
        "spans": [
            {"sentence": sent.index + 1, "text": s.text, "reason": s.reason, "message": s.message}
            for sent in flagged
            for s in sent.spans
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--skip-seed", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    scorer = Scorer.load(device="cpu")
    rows = cached_extract(scorer, MQM / f"{args.split}.jsonl")
    result: dict[str, Any] = {
        "split": args.split,
        "rows": len(rows),
        "mqm_before": None,
        "mqm_after": mqm_view(rows, scorer, editor_view=True),
    }
    with detector_thresholds(THRESHOLDS_090):
        result["mqm_before"] = mqm_view(rows, scorer, editor_view=False)
    result["mqm_before"]["thresholds"] = THRESHOLDS_090
    if not args.skip_seed:
        result["seed"] = seed_view(scorer)
    result["seconds"] = round(time.perf_counter() - started, 1)
    for key in ("mqm_before", "mqm_after"):
        print(key, result[key])
    if "seed" in result:
        seed = result["seed"]
        print({k: v for k, v in seed.items() if k not in ("spans", "checks")})
        for span in seed["spans"]:
            print(
                f"  s{span['sentence']:>2} {span['reason']:<15} {span['text']!r}: {span['message']}"
            )
        for check in seed["checks"]:
            print(f"  check {check['reason']}: {check['text']!r}: {check['message']}")
    write_result("editor-view", result)


if __name__ == "__main__":
    main()
