"""The `--peers` pass of a batch run, one step between scoring and the summaries: every logged
segment re-judged against the other systems' translations of the same test-set item, the log
rewritten in input order, and each re-judged document's report rendered once (peer signals
themselves are in `mtqa.scoring.peers`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.config import Config, load_config
from ..core.errors import ConfigNotFound, InputError
from ..core.files import atomic_stream, loads_bounded
from ..core.result import Signature, Span
from ..core.text import dump_json
from ..corpus import split_key
from ..scoring import (
    group_features,
    judge_segment,
    peer_aware_spans,
    peer_spans,
    peer_words,
    review_alone,
    with_peer_suggestions,
)
from ..source import distinct_vectors
from .options import BatchOptions, Planned
from .store import SEGMENTS, Block, document_from_records, read_log, report_name

#: The fields of a record that the peer pass replaces (the old values are kept under "base").
BASE_FIELDS = ("score", "flagged", "severity", "reasons", "spans")


def peers_config(base: str | None) -> Config:
    """The calibrated peer-aware companion of a config (`default` -> `default-peers`)."""
    base = base or "default"
    name = f"{base.removesuffix('.json')}-peers" + (".json" if base.endswith(".json") else "")
    try:
        return load_config(name)
    except ConfigNotFound:
        raise ConfigNotFound(
            f"no peer-aware calibration '{name}': run `mtqa calibrate --peers --base {base}`"
        ) from None


def restore_base(record: dict[str, Any]) -> None:
    """Put back a batch record's document-only judgement (undo `judge_item`)."""
    base = record.pop("base", None)
    record.pop("peer_features", None)
    if base is not None:
        record.update(base)


def judge_item(
    records: Sequence[dict[str, Any]],
    config: Config,
    threshold: float,
    vectors: np.ndarray | None = None,
    strict: bool = False,
) -> bool:
    """Re-judge the batch records of one test-set item (one per system) against each other.

    Each record needs its document-only `features` (`vectors`: the encoder vectors of the
    records' targets, when already computed); its judgement is replaced by the peer-aware one
    and the old one kept under "base". False (records untouched) when the item has too few
    translations.
    """
    base_names = [f for f in config.features if not f.startswith(("rel_", "peer_"))]
    targets = [str(r["target"]) for r in records]
    words = peer_words(targets)
    own = [r["features"] for r in records]
    feats = group_features(targets, own, base_names, words, vectors)
    if feats is None:
        return False
    for index, (record, peer, mine) in enumerate(zip(records, feats, words, strict=True)):
        target = str(record["target"])
        if not target.strip():
            continue  # an empty translation stays a Major omission
        record["base"] = {name: record[name] for name in BASE_FIELDS}
        others = [t for i, t in enumerate(targets) if i != index and t.strip()]
        spans = [Span.from_record(s) for s in record["spans"]]
        if record.get("words"):  # the detector's words, re-judged with the peers
            spans = rejudge_words(target, spans, record["words"], others)
        else:  # surprisal spans, or a log from before 0.8.0: add the words no peer uses
            spans += peer_spans(mine)
        spans, by_risk = review_alone(target, spans, peers=others, strict=strict)
        spans = with_peer_suggestions(target, spans, others)
        judged = judge_segment(
            target, {**record["features"], **peer}, spans, config, threshold, by_risk=by_risk
        )
        record["score"] = round(judged.score, 6)
        record["flagged"] = judged.flagged
        record["severity"] = judged.severity
        record["reasons"] = judged.reasons
        record["spans"] = [s.to_record() for s in judged.spans]
        record["peer_features"] = {k: round(v, 4) for k, v in peer.items()}
    return True


def rejudge_words(
    target: str, spans: list[Span], words: Sequence[Sequence[float]], others: Sequence[str]
) -> list[Span]:
    """The detector's spans replaced by the peer-aware detector's (`scoring.peer_support`);
    the other findings stay. A new span at the offsets of an old one keeps its suggestions."""
    offsets = [(int(w[0]), int(w[1])) for w in words]
    p_any = np.array([float(w[2]) for w in words])
    p_major = np.array([float(w[3]) for w in words])
    found, _, _ = peer_aware_spans(target, offsets, p_any, p_major, others)
    old = {(s.start, s.end): s for s in spans if s.probability is not None}
    kept = [s for s in spans if s.probability is None]
    return kept + [
        replace(s, suggested=old[(s.start, s.end)].suggested) if (s.start, s.end) in old else s
        for s in found
    ]


def judge_peers(
    log_path: Path,
    blocks: dict[str, Block],
    config_name: str | None,
    preset: str,
    signature: str | None,
) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """Every logged segment re-judged against the other systems' translations of the same
    test-set item (`--peers`): the records by document key, and the run's new signature.

    Holds all records in memory (peers need every system's translation of an item)."""
    config = peers_config(config_name)
    threshold = config.threshold(preset)
    by_key: dict[str, list[dict[str, Any]]] = {}
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with open(log_path, "rb") as log:
        for key, block in blocks.items():
            log.seek(block.start)
            lines = log.read(block.end - block.start).decode("utf-8").split("\n")
            records = by_key[key] = [loads_bounded(line) for line in lines if line]
            for record in records:
                restore_base(record)
                if "features" not in record:
                    raise InputError(
                        f"{log_path} was written by an older mtqa without features: use --restart"
                    )
                if record.get("item") is not None:
                    items[str(record["item"])].append(record)
    targets = [str(r["target"]) for group in items.values() for r in group]
    vectors = distinct_vectors(targets) if targets else None
    judged, row = 0, 0
    for group in items.values():
        if vectors is not None:
            judged += judge_item(
                group, config, threshold, vectors[row : row + len(group)], preset == "strict"
            )
        row += len(group)
    if not judged:
        return {}, signature  # no item had enough translations: nothing changes
    if signature:
        old = Signature.parse(signature)
        signature = replace(
            old,
            config=config.name,
            config_hash=config.digest(),
            threshold=threshold,
            context=f"{old.context}+peers",
        ).format()
    return by_key, signature


def peer_pass(
    out: Path,
    planned: dict[str, Planned],
    options: BatchOptions,
    signature: str | None,
    failed: set[str] | None = None,
) -> str | None:
    """The step between scoring and the summaries: the log rewritten in input order, each
    document's records re-judged with their peers (`--peers`) or given back their
    document-only judgement (an earlier run of this folder used `--peers`), and the report of
    each document so changed rendered once. Returns the run's signature (the peer-aware one
    when peers judged anything). Documents in `failed` (they could not be scored) are left out.
    """
    log_path = out / SEGMENTS
    blocks, _, _ = read_log(log_path)
    failed = failed or set()
    missing = [key for key in planned if key not in blocks and key not in failed]
    if missing:
        raise RuntimeError(f"{len(missing)} documents have no results after the run")
    order = sorted((planned[key].index, key) for key in blocks if key in planned)
    judged: dict[str, list[dict[str, Any]]] = {}
    if options.peers:
        judged, signature = judge_peers(log_path, blocks, options.config, options.preset, signature)
    report_dir = Path(options.report_dir) if options.report_dir is not None else None
    with open(log_path, "rb") as log, atomic_stream(log_path) as segments_out:
        for doc_index, key in order:
            block = blocks[key]
            log.seek(block.start)
            data = log.read(block.end - block.start).decode("utf-8")
            records = judged.get(key) or _restored(data)
            if records:
                data = "".join(dump_json(r) + "\n" for r in records)
                if report_dir is not None and signature:
                    from ..report import write_report

                    rebuilt = document_from_records(records, Signature.parse(signature))
                    name = report_name(doc_index, split_key(key)[0], records[0]["doc"])
                    write_report(rebuilt, report_dir / name)
            segments_out.write(data)
    return signature


def _restored(data: str) -> list[dict[str, Any]] | None:
    """A logged document's records with their document-only judgements put back (`data`: its
    lines); None when none of them was judged with peers."""
    if '"base"' not in data:  # the key as `dump_json` writes it: no record has it
        return None
    records = [loads_bounded(line) for line in data.split("\n") if line]
    if not any("base" in record for record in records):
        return None
    for record in records:
        restore_base(record)
    return records
