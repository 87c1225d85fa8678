"""Agreement with human MQM judgements: segment correlations, flag precision, span overlap."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import kendalltau, pearsonr
from sklearn.metrics import roc_auc_score

from ..core.config import PRESETS, Config
from .evidence import Evidence, judge_evidence


def kendall(scores: Sequence[float], mqm: Sequence[float]) -> float:
    """Kendall tau-b between quality scores and -MQM (higher = agrees with humans)."""
    tau = kendalltau(scores, -np.asarray(mqm, dtype=float)).statistic
    return float(tau) if np.isfinite(tau) else 0.0


def item_grouped_kendall(
    scores: Sequence[float], mqm: Sequence[float], items: Sequence[str]
) -> float:
    """Mean within-item tau: can the score order translations of the same source sentence?"""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[item].append(index)
    taus = []
    for members in groups.values():
        if len(members) < 2:
            continue
        s = [scores[i] for i in members]
        m = [mqm[i] for i in members]
        if len(set(m)) < 2 or len(set(s)) < 2:
            continue
        taus.append(kendall(s, m))
    return float(np.mean(taus)) if taus else 0.0


def pearson(scores: Sequence[float], mqm: Sequence[float]) -> float:
    if len(set(scores)) < 2:
        return 0.0
    return float(pearsonr(scores, -np.asarray(mqm, dtype=float)).statistic)


def auroc(scores: Sequence[float], major: Sequence[bool]) -> float:
    """AUROC of (1 - score) for "has a Major error"."""
    if len(set(major)) < 2:
        return float("nan")
    return float(roc_auc_score(list(major), -np.asarray(scores, dtype=float)))


def flag_precision_recall(flagged: Sequence[bool], major: Sequence[bool]) -> dict[str, float]:
    tp = sum(f and m for f, m in zip(flagged, major, strict=True))
    n_flag, n_major = sum(flagged), sum(major)
    return {
        "precision": tp / n_flag if n_flag else 0.0,
        "recall": tp / n_major if n_major else 0.0,
        "share_flagged": n_flag / len(flagged) if flagged else 0.0,
    }


def span_prf(
    predicted: Sequence[Sequence[tuple[int, int]]], gold: Sequence[Sequence[tuple[int, int]]]
) -> dict[str, float]:
    """Character-level precision/recall/F1, micro-averaged over segments."""
    tp = n_pred = n_gold = 0
    for pred_spans, gold_spans in zip(predicted, gold, strict=True):
        pred_chars = {c for start, end in pred_spans for c in range(start, end)}
        gold_chars = {c for start, end in gold_spans for c in range(start, end)}
        tp += len(pred_chars & gold_chars)
        n_pred += len(pred_chars)
        n_gold += len(gold_chars)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def segment_metrics(
    scores: Sequence[float], mqm: Sequence[float], major: Sequence[bool], items: Sequence[str]
) -> dict[str, float]:
    return {
        "kendall": kendall(scores, mqm),
        "item_kendall": item_grouped_kendall(scores, mqm, items),
        "pearson": pearson(scores, mqm),
        "auroc_major": auroc(scores, major),
    }


def gold_spans(
    evidence: Evidence, severities: tuple[str, ...], category: str = ""
) -> list[tuple[int, int]]:
    """Annotated spans of the given severities (and category prefix, e.g. "Accuracy")."""
    return [
        (s["start"], s["end"])
        for s in evidence.spans
        if s["severity"] in severities and str(s.get("category") or "").startswith(category)
    ]


def evaluate_evidence(config: Config, evidence: list[Evidence]) -> dict[str, Any]:
    """All agreement figures for mtqa and the baselines on the same annotated rows."""
    from sacrebleu.metrics import CHRF

    mqm = [e.mqm for e in evidence]
    major = [e.major for e in evidence]
    items = [e.item for e in evidence]
    judged = {
        p: [judge_evidence(e, config, config.threshold(p), strict=p == "strict") for e in evidence]
        for p in PRESETS
    }
    scores = [score for score, _, _ in judged["standard"]]
    length = [-float(len(e.target.split())) for e in evidence]
    result: dict[str, Any] = {
        "rows": len(evidence),
        "major_share": sum(major) / len(major),
        "segment": {
            "mtqa": segment_metrics(scores, mqm, major, items),
            "length": segment_metrics(length, mqm, major, items),
        },
        "flagging": {
            p: {
                "threshold": config.threshold(p),
                **flag_precision_recall([f for _, f, _ in judged[p]], major),
            }
            for p in PRESETS
        },
    }
    with_ref = [i for i, e in enumerate(evidence) if e.reference]
    if with_ref:
        chrf = CHRF()
        sub = lambda xs: [xs[i] for i in with_ref]  # noqa: E731
        chrf_scores = [
            chrf.sentence_score(evidence[i].target, [str(evidence[i].reference)]).score
            for i in with_ref
        ]
        result["segment_with_reference"] = {
            "rows": len(with_ref),
            "mtqa": segment_metrics(sub(scores), sub(mqm), sub(major), sub(items)),
            "length": segment_metrics(sub(length), sub(mqm), sub(major), sub(items)),
            "chrf": segment_metrics(chrf_scores, sub(mqm), sub(major), sub(items)),
        }
    result["spans"] = {}
    # Categories are only annotated on some rows (WMT 2023): Accuracy spans are scored there.
    categorised = [i for i, e in enumerate(evidence) if any(s.get("category") for s in e.spans)]
    groups = (
        ("major", ("Major",), "", range(len(evidence))),
        ("major_minor", ("Major", "Minor"), "", range(len(evidence))),
        ("accuracy", ("Major", "Minor"), "Accuracy", categorised),
    )
    for name, severities, category, rows in groups:
        if not rows:
            continue
        gold = [gold_spans(evidence[i], severities, category) for i in rows]
        result["spans"][name] = {
            **{p: span_prf([judged[p][i][2] for i in rows], gold) for p in PRESETS},
            "whole_segment_baseline": span_prf(
                [[(0, len(evidence[i].target))] for i in rows], gold
            ),
        }
    systems = system_level(evidence, scores)
    if systems:
        result["system"] = systems
    return result


_ROW_ID = re.compile(r"^wmt(\d\d)-[a-z]{4}-(.+)-\d+$")  # wmt21-zhen-Facebook-AI-157


def pairwise_accuracy(metric: dict[str, float], human: dict[str, float]) -> float:
    """Share of system pairs a metric orders as humans do (higher metric = lower MQM);
    pairs humans tie are left out (Kocmi et al. 2021)."""
    names = sorted(human)
    agree = total = 0
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if human[a] == human[b]:
                continue
            total += 1
            agree += (metric[a] - metric[b]) * (human[b] - human[a]) > 0
    return agree / total if total else float("nan")


def split_half_agreement(
    evidence: list[Evidence], by_system: dict[str, list[int]], splits: int = 200, seed: int = 0
) -> float:
    """How reliably the human scores themselves rank these systems: the median, over random
    halvings of the segments, of the pairwise accuracy of per-system mean MQM on one half
    against the other. A metric is judged against MQM means that carry this much noise (a
    half has half the segments, so this understates the full set's reliability somewhat)."""
    segment_of = {i: evidence[i].item for ix in by_system.values() for i in ix}
    segments = sorted(set(segment_of.values()))
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(splits):
        half = set(rng.choice(segments, size=len(segments) // 2, replace=False).tolist())
        means: list[dict[str, float]] = [{}, {}]
        for system, ix in by_system.items():
            for side in (0, 1):
                picked = [evidence[i].mqm for i in ix if (segment_of[i] in half) == (side == 0)]
                means[side][system] = float(np.mean(picked)) if picked else 0.0
        # pairwise_accuracy reads "higher metric = lower MQM": hand it -MQM
        accuracies.append(pairwise_accuracy({s: -m for s, m in means[0].items()}, means[1]))
    return float(np.median(accuracies))


def system_level(evidence: list[Evidence], scores: list[float]) -> dict[str, Any]:
    """Per WMT year: pairwise accuracy of per-system mean scores against per-system mean MQM,
    beside corpus BLEU and chrF where every row of the year has a reference."""
    from sacrebleu.metrics import BLEU, CHRF

    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, e in enumerate(evidence):
        match = _ROW_ID.match(e.row_id)
        if match:
            rows[f"20{match.group(1)}"][match.group(2)].append(i)
    out: dict[str, Any] = {}
    for year, by_system in sorted(rows.items()):
        if len(by_system) < 3:
            continue
        human = {s: float(np.mean([evidence[i].mqm for i in ix])) for s, ix in by_system.items()}
        mtqa = {s: float(np.mean([scores[i] for i in ix])) for s, ix in by_system.items()}
        year_out: dict[str, Any] = {
            "systems": len(by_system),
            "pairs": len(by_system) * (len(by_system) - 1) // 2,
            "mtqa": round(pairwise_accuracy(mtqa, human), 4),
            "human_split_half": round(split_half_agreement(evidence, by_system), 4),
        }
        if all(evidence[i].reference for ix in by_system.values() for i in ix):
            for name, metric in (("bleu", BLEU()), ("chrf", CHRF())):
                corpus = {
                    s: metric.corpus_score(
                        [evidence[i].target for i in ix],
                        [[str(evidence[i].reference) for i in ix]],
                    ).score
                    for s, ix in by_system.items()
                }
                year_out[name] = round(pairwise_accuracy(corpus, human), 4)
        out[year] = year_out
    return out


def format_table(result: dict[str, Any]) -> str:
    """The figures as a plain-text table."""
    lines: list[str] = []
    print = lines.append  # noqa: A001
    print(f"\n{result['rows']} rows, {result['major_share']:.0%} with a Major error")
    header = f"{'':28}{'tau':>8}{'item tau':>10}{'pearson':>9}{'AUROC':>8}"
    print(header)
    blocks = [("", result["segment"])]
    if "segment_with_reference" in result:
        blocks.append(("[ref rows] ", result["segment_with_reference"]))
    for prefix, block in blocks:
        for name, m in block.items():
            if isinstance(m, dict):
                print(
                    f"{prefix + name:28}{m['kendall']:8.3f}{m['item_kendall']:10.3f}"
                    f"{m['pearson']:9.3f}{m['auroc_major']:8.3f}"
                )
    print(f"\n{'flag preset':28}{'thresh':>8}{'prec':>8}{'recall':>8}{'flagged':>9}")
    for preset, m in result["flagging"].items():
        print(
            f"{preset:28}{m['threshold']:8.3f}{m['precision']:8.3f}{m['recall']:8.3f}"
            f"{m['share_flagged']:9.1%}"
        )
    print(f"\n{'spans (char level)':28}{'P':>8}{'R':>8}{'F1':>8}")
    for gold, block in result["spans"].items():
        for name, m in block.items():
            label = f"{gold}/{name}"
            print(f"{label:28}{m['precision']:8.3f}{m['recall']:8.3f}{m['f1']:8.3f}")
    if result.get("system"):
        head = f"{'system-level pairwise acc.':28}{'mtqa':>8}{'BLEU':>8}{'chrF':>8}"
        print(f"\n{head}{'MQM half/half':>15}")
        for year, m in result["system"].items():
            label = f"{year} ({m['systems']} systems)"
            bleu, chrf = m.get("bleu", float("nan")), m.get("chrf", float("nan"))
            half = m.get("human_split_half", float("nan"))
            print(f"{label:28}{m['mtqa']:8.3f}{bleu:8.3f}{chrf:8.3f}{half:15.3f}")
    return "\n".join(lines)
