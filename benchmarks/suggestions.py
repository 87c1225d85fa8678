"""Known-answer benchmark for span suggestions, on MQM 2021 rows (they have a reference).

A gold error span (Major or Minor) is kept when its 1-3 words lie inside a 'replace' block of
the target aligned to the reference (difflib on lower-cased word lists) whose replacement is
1-3 reference words: those words are an acceptable fix. A suggestion hits when it equals the
reference phrase, or the one word it proposes (for an in-place phrase, the word it changes) is
one of its words, case-insensitively up to a crude stem (minus -s, -es, -d, -ed, -ing when 3+
letters remain).

Methods, given the gold span:
  next_token   the 0.3.0 method (the LM's likeliest words at the span's first token, the
               target read alone; kept here as it was), never gated
  next_token_shipped   what the shipped config shows target-only (`lm_suggestions`; 0.9.0:
               "gated", the LM's words where the learned gate of
               `benchmarks/suggestion_gate.py` shows them; 0.7-0.8: function-word spans only),
               gated by `lm_margin` chosen on all train spans; the `_every_span` rows put the
               LM's words (left-context order) on every span, as 0.6.1 did
  next_token_whole_words   today's `judge.suggestions`: the same, whole words only (a word-start
               token that English text uses, `judge.whole_words`), put in the place of
               the span's first word (`judge.in_place`: "close relationship" for "passionate
               relationship"), as every LM and reader suggestion is since 0.7.0
  (--reader) reader   what the source reader (the adequacy model, `--adequacy`: Qwen2.5 0.5B,
               reading the source and the English so far) would write at the span's first
               word (`judge.reader_suggestions`), then the combinations shipped with it
  peers>=k     what at least k of the other systems' translations of the same source sentence
               write in the span's place (`scoring.peers.peer_replacements`); human
               translations and any peer equal to the reference are left out of the peers
  peers_then_next_token   the shipped `--peers` behaviour: peers>=MIN_AGREEMENT first, then
               the LM's whole words
  (--rerank) target-only candidates re-ranked by the whole sentence: the next-token words
               (up to 10) put in the span's place, each variant's total log-probability
               under the LM against the original's (one batched pass per span; the left
               context is the same, so the gain is the candidate plus the right context),
               best gain first; and the next-token words gated by their own gain at the
               position (log P(candidate) - log P(original first token)). Both are reported
               at margins from -5 to 8 nats: a suggestion is shown only when its gain is at
               least the margin ("say nothing rather than something wrong").
Reported: hit@1, hit@5, share of spans with no suggestion, precision of shown (spans whose first
suggestion hits / spans with a suggestion), on train (peers only: no model needed) and dev.
MIN_AGREEMENT (2) was fixed before measuring: one other system is a choice, two are agreement.
Writes benchmarks/results/suggestions.json.
Run: `.venv/bin/python benchmarks/suggestions.py [--limit 600]`.
"""

from __future__ import annotations

import argparse
import difflib
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from common import MQM, write_result

from mtqa.calibration.mqm import item_key, load_rows
from mtqa.core.result import Suggestion
from mtqa.core.segment import Segment
from mtqa.scoring import Scorer
from mtqa.scoring.judge import in_place, led_by, reader_suggestions
from mtqa.scoring.judge import suggestions as next_token_suggestions
from mtqa.scoring.lm_suggestions import lm_suggestions
from mtqa.scoring.peers import MIN_AGREEMENT, peer_replacements
from mtqa.scoring.signals import FUNCTION_WORD_BITS, Word, unigram_bits

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
AGREEMENT = (1, 2, 3, 4)
MARGINS = (-5.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
PRECISION_AIM = 0.30  # issue 13: precision of the suggestions shown


def _words(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def known_answers(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The gold spans of a row that the reference fixes with 1-3 words, with those words."""
    mine = _words(row["target"])
    ref = [w for _, _, w in _words(row["reference"])]
    ops = difflib.SequenceMatcher(
        a=[w.lower() for _, _, w in mine], b=[w.lower() for w in ref], autojunk=False
    ).get_opcodes()
    out, seen = [], set()
    for span in row.get("spans") or []:
        if span["severity"] not in ("Major", "Minor"):
            continue
        inside = [i for i, (a, b, _) in enumerate(mine) if a < span["end"] and span["start"] < b]
        if not inside or len(inside) > 3:
            continue
        lo, hi = inside[0], inside[-1]
        for tag, i1, i2, j1, j2 in ops:
            if tag == "replace" and i1 <= lo and hi < i2 and 1 <= j2 - j1 <= 3:
                start, end = mine[lo][0], mine[hi][1]
                if (start, end) not in seen:
                    seen.add((start, end))
                    out.append({"start": start, "end": end, "answers": ref[j1:j2]})
                break
    return out


def stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "d", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def hits(suggestion: str, answers: list[str], span: str = "") -> bool:
    """The suggestion equals the reference's words, or the one word it proposes is one of them.
    An in-place phrase ("close relationship" for "passionate relationship") proposes the word
    it changes."""
    words = [w for _, _, w in _words(suggestion)]
    if len(words) == len(answers) and all(
        stem(a) == stem(b) for a, b in zip(words, answers, strict=True)
    ):
        return True
    own = [w for _, _, w in _words(span)]
    if len(words) == len(own) > 1:
        changed = [w for w, o in zip(words, own, strict=True) if w.lower() != o.lower()]
        words = changed or words
    return len(words) == 1 and any(stem(words[0]) == stem(a) for a in answers)


def span_text(item: dict[str, Any]) -> str:
    return str(item["row"]["target"])[item["start"] : item["end"]]


def read_alone(scorer: Scorer, text: str) -> tuple[Any, list[Word]]:
    """A target read alone (as every method here reads it): token scores and its words."""
    tokens, words = scorer.analyse(text, [Segment(0, 0, len(text), text, 0)])
    return tokens, words[0]


def first_word(words: list[Word], item: dict[str, Any]) -> Word | None:
    """The span's first word (the one every LM method suggests for)."""
    return next((w for w in words if w.end > item["start"]), None)


def placed(found: list[Suggestion], item: dict[str, Any], first: Word) -> list[Suggestion]:
    """Suggestions for the span's first word, each put in the span's place (`judge.in_place`)."""
    span = span_text(item)
    at = max(0, first.start - item["start"])
    return in_place(found, span, at, min(len(span), first.end - item["start"]))


def metrics(lists: list[list[str]], items: list[dict[str, Any]]) -> dict[str, float]:
    n = len(items)
    shown = sum(bool(s) for s in lists)
    top1 = sum(
        bool(s) and hits(s[0], it["answers"], span_text(it))
        for s, it in zip(lists, items, strict=True)
    )
    top5 = sum(
        any(hits(x, it["answers"], span_text(it)) for x in s[:5])
        for s, it in zip(lists, items, strict=True)
    )
    return {
        "n": n,
        "hit@1": round(top1 / n, 4) if n else 0.0,
        "hit@5": round(top5 / n, 4) if n else 0.0,
        "no_suggestion": round(1 - shown / n, 4) if n else 0.0,
        "precision_of_shown": round(top1 / shown, 4) if shown else 0.0,
    }


def spans_of(split: str, limit: int, seed: int = 13) -> list[dict[str, Any]]:
    """Known-answer spans of a split (a seeded sample of `limit`), each with its peers."""
    rows = [r for r in load_rows(MQM / f"{split}.jsonl") if r.get("reference")]
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_item[item_key(row)].append(row)
    items = []
    for row in rows:
        reference = str(row["reference"]).strip()
        peers = [
            str(r["target"])
            for r in by_item[item_key(row)]
            if r is not row
            and not r.get("is_human_translation")
            and str(r["target"]).strip() != reference
        ]
        for answer in known_answers(row):
            items.append({**answer, "row": row, "peers": peers})
    random.Random(seed).shuffle(items)
    return items[:limit] if limit else items


def peer_lists(items: list[dict[str, Any]], k: int) -> list[list[Suggestion]]:
    return [
        peer_replacements(it["row"]["target"], it["start"], it["end"], it["peers"], k)[:5]
        for it in items
    ]


def texts(lists: list[list[Suggestion]]) -> list[list[str]]:
    return [[item.text for item in items] for items in lists]


def next_token_030(
    word: Word, scores: Any, decode: Callable[[int], str], limit: int = 5
) -> list[str]:
    """The 0.3.0 method as it was (a fixed baseline): alphabetic tokens at the word's first
    position, no whole-word check."""
    content = word.unigram >= FUNCTION_WORD_BITS
    out: list[str] = []
    for token_id in scores.top_ids[word.first_token]:
        candidate = decode(int(token_id)).strip()
        if (
            len(candidate) > 1
            and candidate.replace("-", "").isalpha()
            and candidate.lower() != word.text.lower()
            and candidate not in out
            and (not content or unigram_bits(candidate.lower()) >= FUNCTION_WORD_BITS)
        ):
            out.append(candidate)
    return out[:limit]


def next_token_lists(
    scorer: Scorer, items: list[dict[str, Any]]
) -> tuple[list[list[str]], list[list[Suggestion]], list[list[Suggestion]]]:
    """Per span: the 0.3.0 words, today's whole words with their gains for every span, and
    those the shipped config shows (`lm_suggestions`: function-word spans only)."""
    decode: Callable[[int], str] = lambda i: scorer.lm.tokenizer.decode([i])  # noqa: E731
    old: list[list[str]] = []
    new: list[list[Suggestion]] = []
    shipped: list[list[Suggestion]] = []
    for it in items:
        text = it["row"]["target"]
        tokens, words = read_alone(scorer, text)
        first = first_word(words, it)
        old.append(next_token_030(first, tokens, decode) if first else [])
        if first is None:
            new.append([])
            shipped.append([])
            continue
        new.append(placed(next_token_suggestions(first, tokens, decode), it, first))
        shipped.append(shipped_words(scorer, text, it, first, tokens))
    return old, new, shipped


def shipped_words(
    scorer: Scorer, text: str, item: dict[str, Any], first: Word, tokens: Any
) -> list[Suggestion]:
    """What `mtqa score` shows target-only for the span (`lm_suggestions.lm_suggestions` with
    the config's scope: by default the gated LM words), in place, ungated by margin (`gated`
    applies it)."""
    decode: Callable[[int], str] = lambda i: scorer.lm.tokenizer.decode([i])  # noqa: E731
    cfg = scorer.config
    found = lm_suggestions(
        scorer.lm, first, tokens, decode, text, 0, cfg.window, cfg.lm_suggestions
    )
    return placed(found, item, first)


def shipped_lists(scorer: Scorer, items: list[dict[str, Any]]) -> list[list[Suggestion]]:
    """`shipped_words` per span (for the function-word scope, only those spans are read)."""
    out: list[list[Suggestion]] = []
    for it in items:
        head = span_text(it).split()[0].lower()
        if scorer.config.lm_suggestions == "function_words" and (
            unigram_bits(head) >= FUNCTION_WORD_BITS
        ):
            out.append([])
            continue
        text = it["row"]["target"]
        tokens, words = read_alone(scorer, text)
        first = first_word(words, it)
        out.append(shipped_words(scorer, text, it, first, tokens) if first else [])
    return out


def reader_lists(items: list[dict[str, Any]]) -> tuple[list[list[Suggestion]], float]:
    """Per span: what the source reader (the adequacy model, `--adequacy`) would write at its
    first word, given the source; one reading per row; and seconds per row read."""
    from mtqa.source.adequacy import SUGGEST_TOP_K, load_adequacy_model, score_pair

    lm = load_adequacy_model()
    decode: Callable[[int], str] = lambda i: lm.tokenizer.decode([i])  # noqa: E731
    readings: dict[tuple[str, str], Any] = {}
    out = []
    start = time.perf_counter()
    for it in items:
        row = it["row"]
        key = (str(row["source"]), str(row["target"]))
        if key not in readings:
            readings[key] = score_pair(lm, *key, "zh", reverse=False, top_k=SUGGEST_TOP_K).target
        out.append(reader_suggestions(key[1], it["start"], it["end"], readings[key], decode))
    return out, (time.perf_counter() - start) / max(1, len(readings))


def first_then(
    first: list[list[Suggestion]], then: list[list[Suggestion]]
) -> list[list[Suggestion]]:
    return [led_by(a, b) for a, b in zip(first, then, strict=True)]


def gated(lists: list[list[Suggestion]], margin: float | None) -> list[list[Suggestion]]:
    """Only the suggestions whose gain reaches `margin` (what `reader_margin`/`lm_margin` do:
    gains fall with rank, so gating after ranking equals gating before)."""
    if margin is None:
        return lists
    return [[x for x in items if x.gain is None or x.gain >= margin] for items in lists]


def chosen_margin(curve: dict[str, dict[str, float]], aim: float = PRECISION_AIM) -> float | None:
    """The rule fixed before measuring: the smallest margin whose precision of shown reaches
    the aim on train; None (show all) when none does."""
    for margin in MARGINS:
        if curve[f"margin {margin:+.0f}"]["precision_of_shown"] >= aim:
            return margin
    return None


def gain_curve(lists: list[list[Suggestion]], items: list[dict[str, Any]]) -> dict[str, Any]:
    curve = {"ungated": metrics(texts(lists), items)}
    for margin in MARGINS:
        curve[f"margin {margin:+.0f}"] = metrics(texts(gated(lists, margin)), items)
    return curve


def gained_lists(scorer: Scorer, items: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per span: next-token words with their gain at the position, and the same words with
    their whole-sentence gain (best first)."""
    from mtqa.models import score_texts_batched

    decode: Callable[[int], str] = lambda i: scorer.lm.tokenizer.decode([i])  # noqa: E731
    at_position, whole_sentence = [], []
    for it in items:
        text = it["row"]["target"]
        tokens, words = read_alone(scorer, text)
        first = first_word(words, it)
        if first is None:
            at_position.append([])
            whole_sentence.append([])
            continue
        words_here = next_token_030(first, tokens, decode, limit=10)
        row = first.first_token
        top = {
            decode(int(i)).strip(): float(lp)
            for i, lp in zip(tokens.top_ids[row], tokens.top_logprob[row], strict=True)
        }
        own = float(tokens.logprob[row])
        at_position.append([(w, top.get(w, -99.0) - own) for w in words_here])
        if not words_here:
            whole_sentence.append([])
            continue
        left, right = text[: it["start"]], text[it["end"] :]
        variants = [text] + [left + w + right for w in words_here]
        scored = score_texts_batched(scorer.lm, variants, scorer.config.window, 5)
        total = [float(v.logprob.sum()) if v is not None else -1e9 for v in scored]
        gains = [(w, total[k + 1] - total[0]) for k, w in enumerate(words_here)]
        whole_sentence.append(sorted(gains, key=lambda g: -g[1]))
    return {"next_token_gain": at_position, "whole_sentence_gain": whole_sentence}


def margin_curve(gained: list[list[Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    curve = {"ungated": metrics([[w for w, _ in g] for g in gained], items)}
    for margin in MARGINS:
        shown = [[w for w, gain in g if gain >= margin] for g in gained]
        curve[f"margin {margin:+.0f}"] = metrics(shown, items)
    return curve


def by_word_kind(lists: list[list[Suggestion]], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The LM's suggestions on spans whose first word is a function word ("a" -> "the") and on
    the rest, apart."""
    out = {}
    for kind in ("function", "content"):
        picked = [
            (lst, it)
            for lst, it in zip(lists, items, strict=True)
            if (unigram_bits(span_text(it).split()[0].lower()) < FUNCTION_WORD_BITS)
            == (kind == "function")
        ]
        out[kind] = metrics(texts([p[0] for p in picked]), [p[1] for p in picked])
    return out


def report(title: str, table: dict[str, dict[str, float]]) -> None:
    print(title)
    print(f"  {'method':40}{'hit@1':>8}{'hit@5':>8}{'none':>8}{'prec.':>8}")
    for name, m in table.items():
        print(
            f"  {name:40}{m['hit@1']:8.3f}{m['hit@5']:8.3f}{m['no_suggestion']:8.3f}"
            f"{m['precision_of_shown']:8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=600, help="spans per split (0: all)")
    parser.add_argument(
        "--train-limit", type=int, default=400, help="train spans the source reader reads"
    )
    parser.add_argument("--rerank", action="store_true", help="also the target-only re-ranking")
    parser.add_argument(
        "--reader", action="store_true", help="also the source reader (needs the Qwen parts)"
    )
    args = parser.parse_args()
    train, dev = spans_of("train", args.limit), spans_of("dev", args.limit)
    train_read = train[: args.train_limit]
    on_train = {k: metrics(texts(peer_lists(train, k)), train) for k in AGREEMENT}
    start = time.perf_counter()
    scorer = Scorer.load()
    old, new, shipped = next_token_lists(scorer, dev)
    seconds = time.perf_counter() - start
    lm_train_curve = gain_curve(shipped_lists(scorer, train), train)
    lm_margin = chosen_margin(lm_train_curve)
    new_gated = gated(shipped, lm_margin)
    start = time.perf_counter()
    peers = {k: peer_lists(dev, k) for k in AGREEMENT}
    peer_seconds = (time.perf_counter() - start) / len(AGREEMENT)
    agreed = peers[MIN_AGREEMENT]
    result: dict[str, Any] = {
        "spans": {"train": len(train), "train_read": len(train_read), "dev": len(dev)},
        "peers_per_span_dev": round(sum(len(it["peers"]) for it in dev) / max(1, len(dev)), 2),
        "min_agreement": MIN_AGREEMENT,
        "precision_aim": PRECISION_AIM,
        "train": {f"peers>={k}": m for k, m in on_train.items()},
        "train_margin_curves": {"lm": lm_train_curve},
        "margins_chosen_on_train": {"lm": lm_margin},
        "dev": {
            "next_token_0.3.0": metrics(old, dev),
            "next_token_whole_words": metrics(texts(new), dev),
            "next_token_shipped": metrics(texts(new_gated), dev),
            **{f"peers>={k}": metrics(texts(lists), dev) for k, lists in peers.items()},
            "peers_then_next_token": metrics(texts(first_then(agreed, new_gated)), dev),
            "peers_then_next_token_every_span": metrics(texts(first_then(agreed, new)), dev),
        },
        "dev_margin_curves": {
            "lm": gain_curve(shipped, dev),
            "lm_every_span": gain_curve(new, dev),
        },
        "dev_lm_by_word_kind": by_word_kind(new, dev),
        "next_token_seconds": round(seconds, 1),
        "peers_seconds_per_span": round(peer_seconds / max(1, len(dev)), 5),
    }
    if args.reader:
        read_train, _ = reader_lists(train_read)
        reader_train_curve = gain_curve(read_train, train_read)
        reader_margin = chosen_margin(reader_train_curve)
        result["train_margin_curves"]["reader"] = reader_train_curve
        result["margins_chosen_on_train"]["reader"] = reader_margin
        read, seconds_per_row = reader_lists(dev)
        read_gated = gated(read, reader_margin)
        result["reader_seconds_per_row"] = round(seconds_per_row, 3)
        result["dev_margin_curves"]["reader"] = gain_curve(read, dev)
        result["dev"]["reader"] = metrics(texts(read), dev)
        result["dev"]["reader_gated"] = metrics(texts(read_gated), dev)
        result["dev"]["reader_then_next_token"] = metrics(
            texts(first_then(read_gated, new_gated)), dev
        )
        result["dev"]["peers_then_reader"] = metrics(texts(first_then(agreed, read_gated)), dev)
        result["dev"]["peers_then_reader_then_next_token"] = metrics(
            texts(first_then(first_then(agreed, read_gated), new_gated)), dev
        )
        result["dev"]["peers_then_reader_then_next_token_every_span"] = metrics(
            texts(first_then(first_then(agreed, read_gated), new)), dev
        )
    print(f"{len(dev)} dev spans ({len(train)} train); shipped agreement: {MIN_AGREEMENT}")
    print(f"margins chosen on train: {result['margins_chosen_on_train']}")
    report("dev (the shipped combinations use the chosen margins)", result["dev"])
    report("dev, the LM by the span's first word", result["dev_lm_by_word_kind"])
    for source, curve in result["dev_margin_curves"].items():
        report(f"dev, {source} by margin", curve)
    if args.rerank:
        start = time.perf_counter()
        gained = gained_lists(scorer, dev)
        result["rerank_seconds_per_span"] = round((time.perf_counter() - start) / len(dev), 3)
        result["dev_target_only"] = {k: margin_curve(v, dev) for k, v in gained.items()}
        for name, curve in result["dev_target_only"].items():
            report(name, curve)
    name = "suggestions" + ("-rerank" if args.rerank else "") + ("-reader" if args.reader else "")
    write_result(name, result)


if __name__ == "__main__":
    main()
