"""Speed of mtqa scoring against plain sentence-by-sentence transformers fp32.

Prints a table and writes benchmarks/results/speed.json: start-up (`mtqa score` on a 3-line
file, end to end, and where its time goes), model load time (cold: GGUF conversion; cached),
tokens/s and sentences/s on the seed article and on MQM dev targets, the model-only floor (each
document in one plain forward pass with log-softmax, no mtqa work: mtqa's end-to-end share of
its throughput, aim >= 0.9), peak RSS; `--only profile`: each stage's seconds (segmentation,
word mapping, features, detector, suggestion gate, checks, judgement, output) against the
forward passes, per 1,000 segments (`--device cuda` on a GPU); `--only topk`: the output head's
step on the seed with the top-20 found through the best blocks against a plain `topk`, paired.
Run: `.venv/bin/python benchmarks/speed.py [--rows 1000] [--repeat 3]
[--only startup|floor|spans|suggestions|profile|topk]` (`--only` measures that section alone and
updates it in speed.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

from common import (
    MQM,
    SEED,
    documents,
    paired,
    peak_rss_mb,
    print_profile,
    profile_figures,
    profiled,
    read_jsonl,
    timed,
    write_result,
)

from mtqa import Scorer
from mtqa.core.segment import split_sentences
from mtqa.source.encoder import embed

LOAD_SNIPPET = (
    "import time; t=time.perf_counter(); from mtqa.models import load_model; load_model(); "
    "import json, resource; print(json.dumps({'seconds': time.perf_counter()-t, "
    "'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
)


# Where a fresh `mtqa score` spends its time, in the order the CLI pays it.
STARTUP_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
import torch
t1 = time.perf_counter()
import mtqa
from mtqa.scoring import Scorer
t2 = time.perf_counter()
scorer = Scorer.load()
t3 = time.perf_counter()
scorer.score(open(sys.argv[1], encoding="utf-8").read())
t4 = time.perf_counter()
print(json.dumps({
    "import_torch_s": t1 - t0, "import_mtqa_s": t2 - t1, "scorer_load_s": t3 - t2,
    "score_s": t4 - t3, "transformers_imported": "transformers" in sys.modules,
}))
"""
TRANSFORMERS_SNIPPET = (
    "import time, torch; t = time.perf_counter(); import transformers; "
    "print(time.perf_counter() - t)"
)


def _fresh(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, env=os.environ
    )


def startup(runs: int) -> dict:
    """`mtqa score` on a 3-line file in `runs` fresh processes (median), and its breakdown."""
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        three = os.path.join(tmp, "three.txt")
        with open(three, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines[:3]) + "\n")
        command = ["-m", "mtqa.cli", "score", three, "-f", "json", "--quiet"]
        _fresh(command)  # converts the model if needed, warms the page cache
        ends, torch_alone = [], []
        for _ in range(runs):  # interleaved, so that a busy machine slows both alike
            start = time.perf_counter()
            _fresh(command)
            ends.append(time.perf_counter() - start)
            start = time.perf_counter()
            _fresh(["-c", "import torch"])
            torch_alone.append(time.perf_counter() - start)
        parts = [json.loads(_fresh(["-c", STARTUP_SNIPPET, three]).stdout) for _ in range(runs)]
    transformers = [float(_fresh(["-c", TRANSFORMERS_SNIPPET]).stdout) for _ in range(runs)]
    median = lambda key: round(statistics.median(p[key] for p in parts), 2)  # noqa: E731
    return {
        "runs": runs,
        "end_to_end_median_s": round(statistics.median(ends), 2),
        "end_to_end_s": [round(t, 2) for t in ends],
        # A fresh `python -c "import torch"`, and `mtqa score` against it (aim: under 1.5).
        "import_torch_alone_median_s": round(statistics.median(torch_alone), 2),
        "ratio_to_import_torch": round(statistics.median(ends) / statistics.median(torch_alone), 2),
        "breakdown_median_s": {
            key: median(key)
            for key in ("import_torch_s", "import_mtqa_s", "scorer_load_s", "score_s")
        },
        "transformers_on_score_path": any(p["transformers_imported"] for p in parts),
        # What importing transformers (after torch) would add, for reference.
        "import_transformers_median_s": round(statistics.median(transformers), 2),
    }


def load_time(cache: str) -> dict[str, float]:
    """Time a fresh process from `import mtqa` to a loaded model."""
    env = {**os.environ, "MTQA_CACHE": cache}
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SNIPPET], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_sentences(scorer: Scorer, sentences: list[str]) -> int:
    """Plain transformers fp32: each sentence alone, full logits, log-softmax."""
    import torch

    lm = scorer.lm
    tokens = 0
    with torch.inference_mode():
        for sentence in sentences:
            ids = lm.tokenizer(sentence, add_special_tokens=False)["input_ids"]
            batch = torch.tensor([[lm.start_token_id, *ids]])
            logp = torch.log_softmax(lm.model(input_ids=batch).logits.float(), dim=-1)
            logp[0, :-1].gather(1, batch[0, 1:, None])
            tokens += len(ids)
    return tokens


def model_floor(scorer: Scorer, texts: list[str]) -> int:
    """The model-only floor: each document in one plain forward pass (as mtqa reads it: the
    start token, then the whole text), log-softmax and the log-prob of every actual token; no
    mtqa work around it. Returns the tokens read."""
    import torch

    lm = scorer.lm
    tokens = 0
    with torch.inference_mode():
        for text in texts:
            ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"][: lm.max_context - 1]
            batch = torch.tensor([[lm.start_token_id, *ids]])
            states = lm.model.base_model(input_ids=batch).last_hidden_state
            logits = lm.model.get_output_embeddings()(states)
            logp = torch.log_softmax(logits.float(), dim=-1)
            logp[0, :-1].gather(1, batch[0, 1:, None])
            tokens += len(ids)
    return tokens


def floor_section(rows: int, repeat: int) -> dict[str, Any]:
    """mtqa end to end against the model-only floor, on the seed and on MQM dev documents, timed
    in alternating pairs (`repeat` on the seed, at least 3 on dev): the share is the median of
    the pairs' floor/mtqa ratios, so a noisy moment slows both sides of a pair."""
    scorer = Scorer.load()
    seed = SEED.read_text(encoding="utf-8")
    scorer.score(seed)  # warm-up
    model_floor(scorer, [seed])
    on_seed = paired(lambda: scorer.score(seed), lambda: model_floor(scorer, [seed]), repeat)
    docs = [
        [r["target"] for r in group] for _, group in documents(read_jsonl(MQM / "dev.jsonl", rows))
    ]
    joined = ["\n".join(d) for d in docs]
    on_dev = paired(
        lambda: [scorer.score_segments(d) for d in docs],
        lambda: model_floor(scorer, joined),
        max(3, repeat // 2),
    )
    figures = floor_figures(
        on_seed["first_s"], on_seed["second_s"], on_dev["first_s"], on_dev["second_s"]
    )
    # The share: the median of the pairs' ratios; beside it, the ratio of the two medians.
    for key, pairs in (("seed", on_seed), ("mqm_dev", on_dev)):
        figures[f"{key}_mtqa_share_of_medians"] = figures[f"{key}_mtqa_share"]
        figures[f"{key}_mtqa_share"] = round(pairs["ratio"], 3)
    figures["pairs"] = {"seed": on_seed, "mqm_dev": on_dev}
    n_seed = len(split_sentences(seed))
    n_dev = sum(len(d) for d in docs)
    # What mtqa spends beyond the floor, per segment (the floor's own work excluded).
    figures["beyond_floor_ms_per_segment"] = {
        "seed": round(1000 * (on_seed["first_s"] - on_seed["second_s"]) / n_seed, 2),
        "mqm_dev": round(1000 * (on_dev["first_s"] - on_dev["second_s"]) / n_dev, 2),
    }
    return figures


def topk_section(repeat: int) -> dict[str, Any]:
    """The output head's step on the seed's rows (`project_states`), with the top-20 found
    through the best blocks (`top_entries`) and with a plain `topk`, timed in alternating
    pairs: what the shortcut saves, apart from the noise of whole runs."""
    import torch

    from mtqa.models import logprobs

    scorer = Scorer.load()
    lm = scorer.lm
    ids, _ = logprobs.tokenize(lm, SEED.read_text(encoding="utf-8"))
    with torch.inference_mode():
        batch = torch.tensor([[lm.start_token_id, *ids]])
        rows = lm.model.base_model(input_ids=batch).last_hidden_state[0, :-1]
    targets = torch.tensor(ids)
    blocks = logprobs.top_entries

    def project(find: Any) -> None:
        logprobs.top_entries = find
        try:
            logprobs.project_states(lm, rows, targets, scorer.config.top_k)
        finally:
            logprobs.top_entries = blocks

    project(blocks)  # warm-up
    pairs = paired(
        lambda: project(blocks), lambda: project(lambda lp, k: lp.topk(k, dim=-1)), repeat
    )
    return {
        "tokens": len(ids),
        "top_k": scorer.config.top_k,
        "best_blocks_s": round(pairs["first_s"], 4),
        "plain_topk_s": round(pairs["second_s"], 4),
        "plain_over_best_blocks": round(pairs["ratio"], 3),
        "saved_ms_per_token": round(1000 * (pairs["second_s"] - pairs["first_s"]) / len(ids), 4),
        "pairs": pairs,
    }


def profile_section(rows: int, repeat: int, device: str = "cpu") -> dict:
    """Where mtqa's time goes, stage by stage (`mtqa.core.timing`), against the model's forward
    passes: the seed (scored `repeat` times, JSON written each time) and the first `rows` MQM
    dev targets as documents (as `floor_section` reads them), per 1,000 segments. On a GPU
    (`device`) the "model" stage ends with each pass's copy to the host, so it waits for the
    device, and the other stages are the host's own work."""
    from mtqa.core import timing
    from mtqa.report import FORMATS

    scorer = Scorer.load(device=device)
    seed = SEED.read_text(encoding="utf-8")
    scorer.score(seed)  # warm-up: buffers, the detector, the gate

    def seed_runs() -> int:
        n = 0
        for _ in range(repeat):
            result = scorer.score(seed)
            with timing.stage("output"):
                FORMATS["json"](result)
            n += len(result.sentences)
        return n

    n_seed = len(split_sentences(seed)) * repeat
    wall_seed, stages_seed = profiled(seed_runs)
    docs = [
        [r["target"] for r in group] for _, group in documents(read_jsonl(MQM / "dev.jsonl", rows))
    ]

    def mqm_runs() -> None:
        for doc in docs:
            result = scorer.score_segments(doc)
            with timing.stage("output"):
                FORMATS["json"](result)

    wall_mqm, stages_mqm = profiled(mqm_runs)
    figures = {
        "seed": profile_figures(wall_seed, stages_seed, n_seed),
        "mqm_dev": profile_figures(wall_mqm, stages_mqm, sum(len(d) for d in docs)),
    }
    for label, part in figures.items():
        print_profile(label, part)
    figures["device"] = scorer.lm.device
    return figures


def floor_figures(t_seed: float, t_seed_floor: float, t_mqm: float, t_mqm_floor: float) -> dict:
    return {
        "seed_mtqa_s": round(t_seed, 3),
        "seed_floor_s": round(t_seed_floor, 3),
        "seed_mtqa_share": round(t_seed_floor / t_seed, 3),
        "mqm_dev_mtqa_s": round(t_mqm, 3),
        "mqm_dev_floor_s": round(t_mqm_floor, 3),
        "mqm_dev_mtqa_share": round(t_mqm_floor / t_mqm, 3),
    }


def throughput(sentences: int, tokens: int, seconds: float, baseline_s: float) -> dict:
    """mtqa's rates against the sentence-by-sentence baseline on the same text."""
    return {
        "sentences": sentences,
        "tokens": tokens,
        "mtqa_s": round(seconds, 3),
        "mtqa_tokens_per_s": round(tokens / seconds, 1),
        "mtqa_sentences_per_s": round(sentences / seconds, 2),
        "baseline_s": round(baseline_s, 3),
        "baseline_sentences_per_s": round(sentences / baseline_s, 2),
        "speedup": round(baseline_s / seconds, 2),
    }


def span_model_section(scorer: Scorer, seed: str, repeat: int) -> dict[str, float]:
    """The seed scored with the learned span detector (spans and the combiner's `det_`
    features) against the 0.3.0 surprisal spans with the 0.3.0-style combiner (no `det_`)."""
    sentences = len(split_sentences(seed))
    detector_config = scorer.config
    scorer.score(seed)  # warm-up: the first pass allocates buffers and loads the detector
    t_detector, _ = timed(lambda: scorer.score(seed), repeat)
    plain = [f for f in detector_config.features if not f.startswith("det_")]
    scorer.config = replace(
        detector_config,
        span_model="surprisal",
        features=plain,
        means=detector_config.means[: len(plain)],
        scales=detector_config.scales[: len(plain)],
        weights=detector_config.weights[: len(plain)],
    )
    scorer.score(seed)  # the same warm-up for the other span model
    t_surprisal, _ = timed(lambda: scorer.score(seed), repeat)
    scorer.config = detector_config
    return {
        "detector_s": round(t_detector, 3),
        "surprisal_0.3.0_s": round(t_surprisal, 3),
        "detector_ms_per_sentence": round(1000 * (t_detector - t_surprisal) / sentences, 2),
        "throughput_share_of_0.3.0": round(t_surprisal / t_detector, 3),
    }


def suggestion_section(scorer: Scorer, seed: str, repeat: int) -> dict[str, float]:
    """What suggestions cost on the seed: scored with the LM suggesting for no span, where the
    gate shows them (the default, 0.9.0), for function-word spans (0.7-0.8; re-ranked by the
    whole sentence since 0.9.0) and for every span (re-ranked), medians of `repeat`."""
    config = scorer.config
    seconds = {}
    for scope in ("none", "gated", "function_words", "all"):
        scorer.config = replace(config, lm_suggestions=scope)
        scorer.score(seed)  # warm-up
        seconds[scope], doc = timed(lambda: scorer.score(seed), repeat)
    scorer.config = config
    flagged = len(doc.flagged)
    return {
        "none_s": round(seconds["none"], 3),
        "gated_s": round(seconds["gated"], 3),
        "function_words_s": round(seconds["function_words"], 3),
        "all_s": round(seconds["all"], 3),
        "flagged_sentences": flagged,
        "ms_per_flagged_sentence_all": round(
            1000 * (seconds["all"] - seconds["none"]) / max(1, flagged), 2
        ),
        "growth_default": round(seconds["gated"] / seconds["none"] - 1, 4),
        "growth_function_words": round(seconds["function_words"] / seconds["none"] - 1, 4),
        "growth_all": round(seconds["all"] / seconds["none"] - 1, 4),
    }


def update_section(key: str, figures: dict) -> None:
    """Print one section's figures and replace only that section of speed.json."""
    print(json.dumps(figures, indent=2))
    print(f"wrote {write_result('speed', figures, section=key)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000, help="MQM dev targets to score")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup-runs", type=int, default=5, help="fresh processes to time")
    parser.add_argument(
        "--only",
        choices=["startup", "floor", "spans", "suggestions", "profile", "topk"],
        help="measure this section alone",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="with --only profile: the device to profile on (cuda: written as profile_cuda)",
    )
    args = parser.parse_args()

    seed = SEED.read_text(encoding="utf-8")
    if args.only == "suggestions":
        update_section("seed_suggestions", suggestion_section(Scorer.load(), seed, args.repeat))
        return
    if args.only == "spans":
        update_section("seed_span_models", span_model_section(Scorer.load(), seed, args.repeat))
        return
    if args.only == "profile":
        key = "profile" if args.device == "cpu" else f"profile_{args.device.split(':')[0]}"
        update_section(key, profile_section(args.rows, args.repeat, args.device))
        return
    if args.only == "topk":
        update_section("topk", topk_section(max(9, args.repeat)))
        return
    if args.only == "floor":
        update_section("model_floor", floor_section(args.rows, args.repeat))
        return
    start_up = startup(args.startup_runs)
    if args.only == "startup":
        update_section("startup", start_up)
        return

    with tempfile.TemporaryDirectory() as cache:
        cold = load_time(cache)
        cached = sorted(load_time(cache)["seconds"] for _ in range(args.repeat))
    scorer = Scorer.load()
    count = lambda text: len(scorer.lm.tokenizer(text)["input_ids"])  # noqa: E731

    seed_sents = [s.text for s in split_sentences(seed)]
    seed_tokens = count(seed)
    scorer.score(seed)  # warm-up: the first pass allocates buffers and loads the detector
    t_seed, _ = timed(lambda: scorer.score(seed), args.repeat)
    t_seed_base, _ = timed(lambda: baseline_sentences(scorer, seed_sents), args.repeat)
    t_seed_floor, _ = timed(lambda: model_floor(scorer, [seed]), args.repeat)
    span_models = span_model_section(scorer, seed, args.repeat)

    rows = read_jsonl(MQM / "dev.jsonl", args.rows)
    docs = [[r["target"] for r in group] for _, group in documents(rows)]
    mqm_tokens = sum(count(t) for d in docs for t in d)
    t_mqm, _ = timed(lambda: [scorer.score_segments(d) for d in docs], 1)
    t_mqm_base, _ = timed(lambda: baseline_sentences(scorer, [t for d in docs for t in d]), 1)
    t_mqm_floor, _ = timed(lambda: model_floor(scorer, ["\n".join(d) for d in docs]), 1)

    # With the source: the same dev documents, each row paired with its own source.
    start = time.perf_counter()
    embed(["warm-up"])  # loads the multilingual encoder
    encoder_load = time.perf_counter() - start
    by_doc = [[(r["target"], r["source"]) for r in group] for _, group in documents(rows)]
    # An empty cache, so that the encoder really runs (cosines are cached per document pairing).
    saved = os.environ.get("MTQA_CACHE")
    with tempfile.TemporaryDirectory() as fresh:
        os.environ["MTQA_CACHE"] = fresh
        try:
            t_src, _ = timed(
                lambda: [
                    scorer.score_segments([t for t, _ in d], sources=[s for _, s in d])
                    for d in by_doc
                ],
                1,
            )
        finally:
            if saved is None:
                os.environ.pop("MTQA_CACHE", None)
            else:
                os.environ["MTQA_CACHE"] = saved

    result = {
        "machine": {"cpus": os.cpu_count(), "torch_threads": __import__("torch").get_num_threads()},
        "model": scorer.signature.model,
        "startup": start_up,
        "load_cold_s": round(cold["seconds"], 2),
        "load_cached_median_s": round(cached[len(cached) // 2], 2),
        "seed": throughput(len(seed_sents), seed_tokens, t_seed, t_seed_base),
        "seed_span_models": span_models,
        "seed_suggestions": suggestion_section(scorer, seed, args.repeat),
        "mqm_dev": {
            "documents": len(docs),
            **throughput(len(rows), mqm_tokens, t_mqm, t_mqm_base),
        },
        # mtqa end to end as a share of a plain forward pass's throughput (aim: >= 0.9)
        "model_floor": floor_figures(t_seed, t_seed_floor, t_mqm, t_mqm_floor),
        "mqm_dev_with_source": {
            "encoder_load_s": round(encoder_load, 2),
            "mtqa_s": round(t_src, 2),
            "mtqa_sentences_per_s": round(len(rows) / t_src, 2),
            "slowdown_vs_target_only": round(t_src / t_mqm, 2),
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_peak_rss_mb": {"cold": round(cold["rss_mb"], 1)},
    }
    print(json.dumps(result, indent=2))
    print(f"wrote {write_result('speed', result)}")


if __name__ == "__main__":
    main()
