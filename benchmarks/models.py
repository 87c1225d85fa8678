"""Model and context choice, measured: quality per second on MQM, same budget for each.

For each (model, context) setting, features are extracted on a deterministic share of train
documents, the same logistic combiner as `mtqa calibrate` is fitted there (features only, the
default config's alpha), and agreement is measured on a share of dev documents. Speed is
dev rows scored per second (model already loaded), load time is measured separately.
Writes benchmarks/results/models.json.
Run: `.venv/bin/python benchmarks/models.py [--train-share 0.25] [--dev-share 0.35]`.
"""

from __future__ import annotations

import argparse
import json
import time

from common import MQM, write_result

from mtqa.calibration.agreement import segment_metrics
from mtqa.calibration.evidence import cached_extract, extract
from mtqa.calibration.fit import DEFAULT_FEATURES, apply_fit, fit_logistic, predict
from mtqa.calibration.mqm import load_rows, sample_documents
from mtqa.models import load_model
from mtqa.scoring import Scorer

SETTINGS = (
    ("smollm2-135m", "document"),
    ("smollm2-135m", "sentence"),
    ("gemma3-270m", "document"),
)


def run_setting(model: str, context: str, train_share: float, dev_rows: list) -> dict:
    start = time.perf_counter()
    load_model.cache_clear()
    scorer = Scorer.load(model)
    load_s = time.perf_counter() - start
    train = cached_extract(scorer, MQM / "train.jsonl", context=context, share=train_share)
    start = time.perf_counter()
    dev = extract(scorer, dev_rows, context=context)
    dev_s = time.perf_counter() - start
    fit = fit_logistic(train, scorer.config, DEFAULT_FEATURES)
    config = apply_fit(scorer.config, fit)
    logits = predict(fit, dev, config)
    metrics = segment_metrics(
        list(-logits), [e.mqm for e in dev], [e.major for e in dev], [e.item for e in dev]
    )
    return {
        "model": model,
        "context": context,
        "train_rows": len(train),
        "dev_rows": len(dev),
        "load_s": round(load_s, 1),
        "dev_rows_per_s": round(len(dev) / dev_s, 2),
        **{k: round(v, 4) for k, v in metrics.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-share", type=float, default=0.25)
    parser.add_argument("--dev-share", type=float, default=0.35)
    parser.add_argument("--only", default=None, help="run one model name only")
    args = parser.parse_args()
    dev_rows = sample_documents(load_rows(MQM / "dev.jsonl"), args.dev_share)
    results = []
    for model, context in SETTINGS:
        if args.only and model != args.only:
            continue
        results.append(run_setting(model, context, args.train_share, dev_rows))
        print(json.dumps(results[-1]), flush=True)
    header = f"{'model':16}{'context':10}{'AUROC':>7}{'tau':>7}{'item':>7}"
    print(f"\n{header}{'rows/s':>8}{'load s':>8}")
    for r in results:
        print(
            f"{r['model']:16}{r['context']:10}{r['auroc_major']:7.3f}{r['kendall']:7.3f}"
            f"{r['item_kendall']:7.3f}{r['dev_rows_per_s']:8.2f}{r['load_s']:8.1f}"
        )
    out = write_result("models", {"settings": results, **vars(args)})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
