"""Agreement metrics and threshold choice: pure logic, pinned on small known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from mtqa.calibration.agreement import (
    auroc,
    flag_precision_recall,
    item_grouped_kendall,
    kendall,
    span_prf,
)
from mtqa.calibration.fit import choose_thresholds


def test_kendall_sign_means_agreement_with_humans() -> None:
    scores = [0.9, 0.5, 0.1]
    mqm = [0.0, 5.0, 25.0]  # lower MQM is better
    assert kendall(scores, mqm) == pytest.approx(1.0)
    assert kendall(scores[::-1], mqm) == pytest.approx(-1.0)


def test_item_grouped_kendall_ignores_between_item_differences() -> None:
    # Within each item the order is right, though item "b" is globally worse.
    scores = [0.9, 0.8, 0.3, 0.2]
    mqm = [1.0, 2.0, 1.0, 2.0]
    items = ["a", "a", "b", "b"]
    assert item_grouped_kendall(scores, mqm, items) == pytest.approx(1.0)
    assert kendall(scores, mqm) < 1.0


def test_auroc_and_flag_precision() -> None:
    assert auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == pytest.approx(1.0)
    pr = flag_precision_recall([True, True, False, False], [True, False, True, False])
    assert pr == {"precision": 0.5, "recall": 0.5, "share_flagged": 0.5}


def test_span_prf_counts_characters() -> None:
    result = span_prf([[(0, 4)], [(2, 6)]], [[(2, 6)], []])
    # predicted chars: 4 + 4; gold chars: 4; overlap: 2
    assert result["precision"] == pytest.approx(2 / 8)
    assert result["recall"] == pytest.approx(2 / 4)
    assert result["f1"] == pytest.approx(2 * 0.25 * 0.5 / 0.75)


def test_thresholds_reach_their_precision_targets() -> None:
    rng = np.random.default_rng(0)
    major = rng.random(2000) < 0.5
    risks = np.clip(major * 0.3 + rng.random(2000) * 0.7, 0, 1)
    thresholds = choose_thresholds(risks, major)
    assert thresholds["strict"] <= thresholds["standard"] <= thresholds["lenient"]
    for preset, target in (("strict", 0.6), ("standard", 0.7), ("lenient", 0.8)):
        flagged = risks >= thresholds[preset]
        assert major[flagged].mean() >= target - 0.02


def test_split_half_agreement_measures_how_reliably_humans_rank_systems() -> None:
    """Systems far apart rank the same on either half of the segments (1.0); systems whose
    MQM is the same noise rank by chance (near 0.5)."""
    import numpy as np

    from mtqa.calibration.agreement import split_half_agreement
    from mtqa.calibration.evidence import Evidence

    rng = np.random.default_rng(1)
    empty = np.zeros(0)

    def rows(offset: float) -> tuple[list[Evidence], dict[str, list[int]]]:
        evidence, by_system = [], {}
        for s in range(6):
            by_system[f"sys{s}"] = []
            for item in range(60):
                mqm = s * offset + float(rng.exponential(3.0))
                by_system[f"sys{s}"].append(len(evidence))
                evidence.append(Evidence(f"x-{s}-{item}", [], empty, empty, False, mqm, str(item)))
        return evidence, by_system

    assert split_half_agreement(*rows(5.0), splits=50) == 1.0
    assert 0.25 <= split_half_agreement(*rows(0.0), splits=50) <= 0.75


def test_pairwise_accuracy_orders_systems_as_humans_do() -> None:
    from mtqa.calibration.agreement import pairwise_accuracy

    human = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 3.0}  # MQM: lower is better; c and d tie
    assert pairwise_accuracy({"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.1}, human) == 1.0
    assert pairwise_accuracy({"a": 0.1, "b": 0.8, "c": 0.7, "d": 0.9}, human) == 0.2
    assert pairwise_accuracy({"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}, human) == 0.0
