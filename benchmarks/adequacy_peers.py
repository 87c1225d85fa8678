"""Does the Qwen adequacy reader add anything on top of the best cheap score (source + peers)?

Takes whole dev items (every system's translation of one 2021 source sentence, fixed hashed
order, `--rows` rows in all), scores each row with the embedded Qwen2.5-0.5B reading its source
(log P(target | source) and back: the `adq_` features of `mtqa.source.adequacy`), and compares, with
5-fold cross-validation split by item on those rows:
  peers     the `source-peers` risk (fitted on train) alone, as a logistic model input
  peers+adq that risk plus the `adq_` features and their differences from the item's mean
Reports AUROC for "has a Major error" and item-grouped Kendall tau of the out-of-fold scores.
Writes benchmarks/results/adequacy_peers.json. Slow: about 2 s a row on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np
from common import MQM, read_jsonl, write_result
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from source import pick_items

from mtqa.calibration.agreement import auroc, item_grouped_kendall, kendall
from mtqa.calibration.evidence import cached_extract, features_for, prepare_evidence
from mtqa.scoring import Scorer
from mtqa.scoring.judge import risk
from mtqa.source.adequacy import (
    ADEQUACY_FEATURES,
    adequacy_features,
    load_adequacy_model,
    score_pair,
)


def centred(x: np.ndarray, items: list[str]) -> np.ndarray:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[item].append(i)
    out = np.zeros_like(x)
    for members in groups.values():
        out[members] = x[members] - x[members].mean(0)
    return out


def cross_validated(x: np.ndarray, major: np.ndarray, items: list[str]) -> np.ndarray:
    """Out-of-fold logits, folds split by item."""
    keys = sorted(set(items))
    fold_of = {k: n % 5 for n, k in enumerate(keys)}
    folds = np.array([fold_of[i] for i in items])
    out = np.zeros(len(items))
    for k in range(5):
        train, test = folds != k, folds == k
        scale = StandardScaler().fit(x[train])
        model = LogisticRegression(max_iter=5000).fit(scale.transform(x[train]), major[train])
        out[test] = model.decision_function(scale.transform(x[test]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=480)
    args = parser.parse_args()
    path = MQM / "dev.jsonl"
    picked = pick_items(read_jsonl(path), args.rows)
    wanted = {str(r["id"]) for r in picked}
    scorer = Scorer.load(None, "source-peers")
    evidence = prepare_evidence(scorer.config, cached_extract(scorer, path), str(path))
    rows = [e for e in evidence if e.row_id in wanted]
    by_id = {str(r["id"]): r for r in picked}
    lm = load_adequacy_model()
    start = time.perf_counter()
    adq = []
    for e in rows:
        row = by_id[e.row_id]
        adq.append(adequacy_features(score_pair(lm, str(row["source"]), e.target, "zh")))
    seconds = time.perf_counter() - start
    items = [e.item for e in rows]
    major = np.array([e.major for e in rows])
    mqm = np.array([e.mqm for e in rows])
    peer_risk = np.array([risk(features_for(e, scorer.config), scorer.config) for e in rows])
    logit = np.log(peer_risk / (1 - peer_risk))[:, None]
    a = np.array([[f[name] for name in ADEQUACY_FEATURES] for f in adq])
    designs = {"peers": logit, "peers+adq": np.hstack([logit, a, centred(a, items)])}
    result = {
        "rows": len(rows),
        "items": len(set(items)),
        "major_share": round(float(major.mean()), 4),
        "adequacy_seconds_per_row": round(seconds / len(rows), 3),
        "source_peers_fitted_on_train": {
            "auroc_major": round(auroc(list(-peer_risk), list(major)), 4),
            "item_kendall": round(item_grouped_kendall(list(-peer_risk), list(mqm), items), 4),
        },
    }
    for name, x in designs.items():
        scores = -cross_validated(x, major, items)
        result[name] = {
            "auroc_major": round(auroc(list(scores), list(major)), 4),
            "kendall": round(kendall(list(scores), list(mqm)), 4),
            "item_kendall": round(item_grouped_kendall(list(scores), list(mqm), items), 4),
        }
        print(name, result[name], flush=True)
    print(result)
    print(f"wrote {write_result('adequacy_peers', result)}")


if __name__ == "__main__":
    main()
