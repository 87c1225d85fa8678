"""Reference-based corpus metrics (sacrebleu) and paired bootstrap comparisons of systems.

BLEU, chrF and TER are sacrebleu's own, with sacrebleu's signatures, so the numbers match
``python -m sacrebleu REF -i MT -m bleu chrf ter`` on the same segments. Systems are compared
with sacrebleu's paired bootstrap resampling (``--paired-bs``) for BLEU and chrF, and mtqa's
mean segment score is compared with the very same resampled index sets (same seed, same number
of resamples): sacrebleu's seed comes from ``$SACREBLEU_SEED`` (default 12345) and so does ours.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_RESAMPLES = 1000


def bootstrap_seed() -> int | None:
    """The seed sacrebleu's significance tests use (``$SACREBLEU_SEED``, default 12345)."""
    seed = os.environ.get("SACREBLEU_SEED", "12345")
    return None if seed.lower() == "none" else int(seed)


def reference_streams(references: Sequence[Sequence[str | None]]) -> list[list[str | None]]:
    """Per-segment reference tuples -> sacrebleu's reference streams (None pads the missing)."""
    width = max((len(r) for r in references), default=0)
    return [[r[i] if i < len(r) else None for r in references] for i in range(width)]


def _metrics() -> dict[str, Any]:
    from sacrebleu.metrics import BLEU, CHRF, TER

    return {"BLEU": BLEU(), "chrF": CHRF(), "TER": TER()}


def corpus_scores(
    hypotheses: Sequence[str], references: Sequence[Sequence[str | None]]
) -> dict[str, dict[str, Any]]:
    """Corpus BLEU, chrF and TER of one system: score, sacrebleu's text and signature."""
    streams = reference_streams(references)
    out: dict[str, dict[str, Any]] = {}
    for name, metric in _metrics().items():
        score = metric.corpus_score(list(hypotheses), streams)
        out[name] = {
            "score": round(float(score.score), 4),
            "text": str(score),
            "signature": metric.get_signature().format(),
        }
    return out


@dataclass
class SystemData:
    """What the comparisons need of one system, in the order its segments were read."""

    name: str
    items: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    hypotheses: list[str] = field(default_factory=list)
    references: list[tuple[str | None, ...]] = field(default_factory=list)

    def add(self, item: str | None, score: float, hyp: str, refs: Sequence[str | None]) -> None:
        self.items.append(item if item is not None else str(len(self.items)))
        self.scores.append(score)
        self.hypotheses.append(hyp if refs else "")  # text is only needed for BLEU & co.
        self.references.append(tuple(refs))


def estimate_ci(samples: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 95% interval, as sacrebleu's `estimate_ci` computes them."""
    from sacrebleu.significance import estimate_ci as sacrebleu_ci

    mean, ci = sacrebleu_ci(samples)
    return float(mean), float(ci)


def p_value(sample_diffs: np.ndarray, real_difference: float) -> float:
    """sacrebleu's bootstrap p-value: how often a centred resampled difference exceeds the real."""
    stats = sample_diffs - sample_diffs.mean()
    return float((np.sum(stats > real_difference) + 1) / (len(stats) + 1))


def paired_bootstrap_mean(
    baseline: Sequence[float], system: Sequence[float], n_samples: int, seed: int | None
) -> dict[str, float]:
    """Paired bootstrap for a mean score with sacrebleu's resampling (same seed, same draws)."""
    base = np.asarray(baseline, dtype=np.float64)
    other = np.asarray(system, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idxs = rng.choice(len(base), size=(n_samples, len(base)), replace=True)
    base_means, other_means = base[idxs].mean(axis=1), other[idxs].mean(axis=1)
    mean, ci = estimate_ci(other_means)
    base_mean, base_ci = estimate_ci(base_means)
    real = abs(float(base.mean()) - float(other.mean()))
    return {
        "score": round(float(other.mean()), 6),
        "baseline": round(float(base.mean()), 6),
        "mean": round(mean, 6),
        "ci": round(ci, 6),
        "baseline_mean": round(base_mean, 6),
        "baseline_ci": round(base_ci, 6),
        "p_value": round(p_value(np.abs(other_means - base_means), real), 4),
    }


def _paired_sacrebleu(
    baseline: tuple[str, list[str]],
    system: tuple[str, list[str]],
    references: list[tuple[str | None, ...]],
    n_samples: int,
) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """sacrebleu's own paired bootstrap (PairedTest, test_type="bs") for BLEU and chrF."""
    from sacrebleu.metrics import BLEU, CHRF
    from sacrebleu.significance import PairedTest

    test = PairedTest(
        [baseline, system],
        {"BLEU": BLEU(), "chrF": CHRF()},
        reference_streams(references),  # type: ignore[arg-type]  # None pads (documented)
        test_type="bs",
        n_samples=n_samples,
    )
    signatures, scores = test()
    results: dict[str, dict[str, float]] = {}
    names = {"BLEU": "BLEU", "chrF2": "chrF"}
    for key, name in names.items():
        if key not in scores:
            continue
        base_result, other_result = scores[key][0], scores[key][1]
        assert not isinstance(base_result, str) and not isinstance(other_result, str)
        results[name] = {
            "score": round(float(other_result.score), 4),
            "baseline": round(float(base_result.score), 4),
            "mean": round(float(other_result.mean or 0.0), 4),
            "ci": round(float(other_result.ci or 0.0), 4),
            "baseline_mean": round(float(base_result.mean or 0.0), 4),
            "baseline_ci": round(float(base_result.ci or 0.0), 4),
            "p_value": round(float(other_result.p_value or 0.0), 4),
        }
    return {names[k]: v.format() for k, v in signatures.items() if k in names}, results


def compare_systems(
    systems: Sequence[SystemData], baseline: str | None = None, n_samples: int = DEFAULT_RESAMPLES
) -> dict[str, Any] | None:
    """Each system against the baseline on the segments they share (by test-set item).

    Returns None for fewer than two systems. BLEU/chrF are compared where the baseline's
    segments have references; mtqa's score on every shared segment.
    """
    if len(systems) < 2:
        return None
    by_name = {s.name: s for s in systems}
    base = by_name[baseline] if baseline is not None else systems[0]
    seed = bootstrap_seed()
    base_index: dict[str, int] = {}
    for position, item in enumerate(base.items):
        base_index.setdefault(item, position)
    rows: list[dict[str, Any]] = []
    signatures: dict[str, str] = {}
    for other in systems:
        if other is base:
            continue
        pairs: list[tuple[int, int]] = []
        used: set[str] = set()
        for position, item in enumerate(other.items):
            if item in base_index and item not in used:
                used.add(item)
                pairs.append((base_index[item], position))
        row: dict[str, Any] = {"system": other.name, "n_segments": len(pairs)}
        if pairs:
            row["mtqa"] = paired_bootstrap_mean(
                [base.scores[b] for b, _ in pairs],
                [other.scores[o] for _, o in pairs],
                n_samples,
                seed,
            )
            with_refs = [(b, o) for b, o in pairs if any(r for r in base.references[b])]
            row["n_with_reference"] = len(with_refs)
            if with_refs:
                sigs, results = _paired_sacrebleu(
                    (base.name, [base.hypotheses[b] for b, _ in with_refs]),
                    (other.name, [other.hypotheses[o] for _, o in with_refs]),
                    [base.references[b] for b, _ in with_refs],
                    n_samples,
                )
                row.update(results)
                signatures.update(sigs)
        rows.append(row)
    return {
        "baseline": base.name,
        "test": "paired bootstrap resampling",
        "n_samples": n_samples,
        "seed": seed,
        "signatures": signatures,
        "systems": rows,
    }
