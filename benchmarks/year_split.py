"""Does the span detector learn what reads wrong, or MQM's habits in one year's data?

Fits the detector (the shipped settings) on one WMT year's train rows and measures its spans on
the other year's dev rows, both ways (2021 -> 2023, 2023 -> 2021), beside highlighting the
whole segment and beside the shipped detector (fitted on both years) on the same rows. Spans
as `mtqa score` shows them on flagged rows is not what is measured here: every row's spans are,
at the shipped thresholds, before and after the editor view (names as checks, oddity spans).
Writes benchmarks/results/year-split.json.
Run: `.venv/bin/python benchmarks/year_split.py` (about two detector fits: 10-15 minutes).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import MQM, write_result
from spans import char_prf

from mtqa.calibration.detector_fit import DetectorSettings, fit_detector
from mtqa.calibration.evidence import Evidence, attach_probabilities, cached_extract
from mtqa.core.result import Span
from mtqa.core.segment import Segment
from mtqa.scoring import Scorer
from mtqa.scoring.detector import Detector, learned_spans, load_detector
from mtqa.scoring.names import capitalised_mid_sentence, document_mentions
from mtqa.scoring.review import DocumentView, oddity_spans, review_sentence


def year(e: Evidence) -> str:
    return e.row_id[3:5]  # "wmt21-zhen-..." -> "21"


def spans_of(
    rows: list[Evidence], detector: Detector, editor_view: bool
) -> list[list[tuple[int, int]]]:
    out = []
    for e in rows:
        if not e.detector_words or e.p_any is None or e.p_major is None:
            out.append([])
            continue
        spans: list[Span] = learned_spans(
            e.target, e.detector_words, e.p_any, e.p_major, detector=detector
        )
        if editor_view:
            view = DocumentView(
                names=capitalised_mid_sentence(e.target, [0]),
                mentions=document_mentions(e.target),
            )
            seg = Segment(0, 0, len(e.target), e.target, 0)
            oddities = oddity_spans(e.target, e.detector_words, e.p_any)
            spans = [
                s
                for s in review_sentence(seg, spans, view, oddities).spans
                if s.reason in ("mistranslation", "fluency")
            ]
        out.append([(s.start, s.end) for s in spans])
    return out


def figures(rows: list[Evidence], detector: Detector) -> dict[str, Any]:
    whole = [[(0, len(e.target))] for e in rows]
    out: dict[str, Any] = {"rows": len(rows)}
    for name, predicted in (
        ("detector", spans_of(rows, detector, False)),
        ("editor_view", spans_of(rows, detector, True)),
        ("whole_segment", whole),
    ):
        out[name] = {
            "major": {k: round(v, 4) for k, v in char_prf(rows, predicted, ("Major",)).items()},
            "major_minor": {
                k: round(v, 4) for k, v in char_prf(rows, predicted, ("Major", "Minor")).items()
            },
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    scorer = Scorer.load(device="cpu")
    train = cached_extract(scorer, MQM / "train.jsonl")
    dev = cached_extract(scorer, MQM / "dev.jsonl")
    shipped = load_detector()
    result: dict[str, Any] = {}
    for fit_year, test_year in (("21", "23"), ("23", "21")):
        fit_rows = [e for e in train if year(e) == fit_year]
        test_rows = [e for e in dev if year(e) == test_year]
        settings = DetectorSettings(trees=args.trees)
        detector, _ = fit_detector(fit_rows, settings, dict(shipped.meta["thresholds"]))
        attach_probabilities(test_rows, detector)
        crossed = figures(test_rows, detector)
        attach_probabilities(test_rows, shipped)
        result[f"fit_20{fit_year}_test_20{test_year}"] = {
            "fit_rows": len(fit_rows),
            "cross_year": crossed,
            "shipped_detector": figures(test_rows, shipped),
        }
        print(fit_year, "->", test_year, crossed)
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result("year-split", result)


if __name__ == "__main__":
    main()
