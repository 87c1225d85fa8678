"""Summaries of a finished `mtqa batch` run: per document, per system, corpus gates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.files import atomic_stream, atomic_write, loads_bounded
from ..core.result import REASONS, Signature
from ..core.text import dump_json
from ..corpus import Corpus, split_key
from .metrics import SystemData, bootstrap_seed, compare_systems, corpus_scores
from .options import BatchOptions, Planned
from .peers import judge_peers, restore_base
from .store import (
    DOCUMENTS,
    FAILED,
    FORMAT,
    SEGMENTS,
    SUMMARY,
    document_from_records,
    read_log,
    report_name,
)


def _new_stats() -> dict[str, Any]:
    return {
        "n_documents": 0,
        "n_segments": 0,
        "score_sum": 0.0,
        "n_flagged": 0,
        "major": 0,
        "minor": 0,
        "reasons": {},
    }


def _add(stats: dict[str, Any], record: dict[str, Any]) -> None:
    stats["n_segments"] += 1
    stats["score_sum"] += record["score"]
    if record["flagged"]:
        stats["n_flagged"] += 1
        stats["major" if record["severity"] == "major" else "minor"] += 1
        for reason in record["reasons"]:
            stats["reasons"][reason] = stats["reasons"].get(reason, 0) + 1


def _done(stats: dict[str, Any]) -> dict[str, Any]:
    n = stats["n_segments"]
    order = {reason: i for i, reason in enumerate(REASONS)}
    reasons = dict(
        sorted(stats["reasons"].items(), key=lambda kv: (-kv[1], order.get(kv[0], 99), kv[0]))
    )
    return {
        "n_documents": stats["n_documents"],
        "n_segments": n,
        "score": round(stats["score_sum"] / n, 6) if n else 1.0,
        "n_flagged": stats["n_flagged"],
        "share_flagged": round(stats["n_flagged"] / n, 6) if n else 0.0,
        "major": stats["major"],
        "minor": stats["minor"],
        "reasons": reasons,
    }


def summary_options(options: BatchOptions) -> dict[str, Any]:
    """What, besides the results, the summaries depend on."""
    return {
        "baseline": options.baseline,
        "bootstrap": options.n_samples,
        "seed": bootstrap_seed(),
        "report_dir": str(options.report_dir) if options.report_dir is not None else None,
        "peers": options.peers,
    }


def _all_corpus_scores(
    inputs: dict[str, tuple[list[str], list[tuple[str | None, ...]]]], jobs: int
) -> dict[str, dict[str, Any]]:
    """BLEU/chrF/TER per system; with ``--jobs`` the systems are spread over processes
    (sacrebleu's TER is pure Python: about 25 ms a segment)."""
    if jobs <= 1 or len(inputs) <= 1:
        return {name: corpus_scores(*args) for name, args in inputs.items()}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(inputs)), mp_context=context) as pool:
        results = pool.map(corpus_scores, *zip(*inputs.values(), strict=True))
        return dict(zip(inputs, results, strict=True))


def reusable_summary(
    out: Path, corpus: Corpus, options: BatchOptions, run_info: dict[str, Any], n_docs: int
) -> dict[str, Any] | None:
    """The summary of an earlier, complete run of exactly this, if there is one."""
    if not (out / DOCUMENTS).exists():
        return None
    try:
        summary = loads_bounded((out / SUMMARY).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or not isinstance(summary.get("totals"), dict):
        return None  # a damaged summary is written again
    same = (
        summary.get("format") == FORMAT
        and summary.get("input") == corpus.description
        and summary.get("options") == summary_options(options)
        and summary.get("signature") == run_info.get("signature")
        and summary.get("totals", {}).get("n_documents") == n_docs
    )
    return summary if same else None


def finalize(
    out: Path,
    corpus: Corpus,
    planned: dict[str, Planned],
    options: BatchOptions,
    run_info: dict[str, Any],
    failed: set[str] | None = None,
) -> dict[str, Any]:
    """Rewrite the log in input order; write documents.jsonl, summary.json, the report index.

    Documents in `failed` (they could not be scored) are left out and counted in the summary.
    """
    log_path = out / SEGMENTS
    blocks, _, _ = read_log(log_path)
    failed = failed or set()
    missing = [key for key in planned if key not in blocks and key not in failed]
    if missing:
        raise RuntimeError(f"{len(missing)} documents have no results after the run")
    order = sorted((planned[key].index, key) for key in blocks if key in planned)
    signature = run_info.get("signature")
    peer_judged: dict[str, list[dict[str, Any]]] = {}
    if options.peers:
        peer_judged, signature = judge_peers(
            log_path, blocks, options.config, options.preset, signature
        )
    systems: dict[str, dict[str, Any]] = {}
    system_data: dict[str, SystemData] = {}
    totals = _new_stats()
    report_dir = Path(options.report_dir) if options.report_dir is not None else None
    entries: list[dict[str, Any]] = []
    without_report = 0
    with (
        open(log_path, "rb") as log,
        atomic_stream(log_path) as segments_out,
        atomic_stream(out / DOCUMENTS) as documents_out,
    ):
        for doc_index, key in order:
            block = blocks[key]
            log.seek(block.start)
            data = log.read(block.end - block.start).decode("utf-8")
            records = peer_judged.get(key) or [
                loads_bounded(line) for line in data.split("\n") if line
            ]
            if key in peer_judged or any("base" in r for r in records):
                if key not in peer_judged:
                    for record in records:
                        restore_base(record)
                data = "".join(dump_json(r) + "\n" for r in records)
                if report_dir is not None and signature:
                    from ..report import write_report

                    rebuilt = document_from_records(records, Signature.parse(signature))
                    write_report(
                        rebuilt,
                        report_dir / report_name(doc_index, split_key(key)[0], records[0]["doc"]),
                    )
            segments_out.write(data)
            first = records[0]
            system = first["system"]
            doc_stats = _new_stats()
            sys_stats = systems.setdefault(system, _new_stats())
            data_for = system_data.setdefault(system, SystemData(system))
            for record in records:
                for stats in (doc_stats, sys_stats, totals):
                    _add(stats, record)
                refs = record["reference"]
                refs = [] if refs is None else [refs] if isinstance(refs, str) else refs
                data_for.add(record["item"], record["score"], record["target"], refs)
            sys_stats["n_documents"] += 1
            totals["n_documents"] += 1
            doc_stats["n_documents"] = 1
            row = {"doc_index": doc_index, "system": system, "doc": first["doc"]}
            row |= {k: v for k, v in _done(doc_stats).items() if k != "n_documents"}
            row["warnings"] = first["doc_warnings"]
            row["report"] = None
            if report_dir is not None:
                name = report_name(doc_index, system, first["doc"])
                if (report_dir / name).exists():
                    row["report"] = str(report_dir / name)
                    entries.append(
                        {
                            "name": f"{system} / {first['doc']}",
                            "href": name,
                            "sentences": row["n_segments"],
                            "flagged": row["n_flagged"],
                            "major": row["major"],
                            "minor": row["minor"],
                            "score": row["score"],
                            "warnings": len(row["warnings"]),
                            "signature": signature,
                        }
                    )
                else:
                    without_report += 1
            documents_out.write(dump_json(row) + "\n")
    summary: dict[str, Any] = {
        "format": FORMAT,
        "input": corpus.description,
        "options": summary_options(options),
        "signature": signature,
        "totals": _done(totals),
        "systems": {},
    }
    if failed:
        summary["failed"] = {"n_documents": len(failed), "log": str(out / FAILED)}
    metric_inputs: dict[str, tuple[list[str], list[tuple[str | None, ...]]]] = {}
    for name, stats in systems.items():
        entry = _done(stats)
        sys_data = system_data[name]
        pairs = zip(sys_data.hypotheses, sys_data.references, strict=True)
        with_refs = [(h, r) for h, r in pairs if r]
        entry["n_with_reference"] = len(with_refs)
        if with_refs:
            metric_inputs[name] = ([h for h, _ in with_refs], [r for _, r in with_refs])
        summary["systems"][name] = entry
    for name, scores in _all_corpus_scores(metric_inputs, options.jobs).items():
        summary["systems"][name].update(scores)
    summary["comparison"] = compare_systems(
        list(system_data.values()), options.baseline, options.n_samples
    )
    if report_dir is not None:
        from ..report import write_index

        write_index(entries, report_dir / "index.html", signature=signature)
        summary["reports"] = {
            "index": str(report_dir / "index.html"),
            "documents": len(entries),
            "without_report": without_report,
        }
    atomic_write(out / SUMMARY, dump_json(summary, indent=2) + "\n")
    return summary


def gate_failures(
    summary: dict[str, Any], max_flagged_share: float | None, min_score: float | None
) -> list[str]:
    """Corpus-level quality gates (exit code 3 in the CLI): what failed, in words."""
    totals = summary["totals"]
    failed = []
    if max_flagged_share is not None and totals["share_flagged"] > max_flagged_share:
        failed.append(
            f"{totals['share_flagged']:.1%} of segments flagged (> {max_flagged_share:.1%})"
        )
    if min_score is not None and totals["score"] < min_score:
        failed.append(f"corpus score {totals['score']:.3f} < {min_score}")
    return failed
