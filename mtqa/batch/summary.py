"""Summaries of a finished `mtqa batch` run: per document, per system, corpus gates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.files import atomic_stream, atomic_write, loads_bounded
from ..core.result import REASONS
from ..core.text import dump_json
from ..corpus import Corpus, document_key
from .metrics import SystemData, bootstrap_seed, compare_systems, corpus_scores
from .options import BatchOptions, Planned
from .store import DOCUMENTS, FAILED, FORMAT, SEGMENTS, SUMMARY, report_name


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
    signature: str | None,
    failed: set[str] | None = None,
) -> dict[str, Any]:
    """Write documents.jsonl, summary.json and the report index from the log as `peer_pass`
    left it (in input order, judged as the run asks); `signature`: the one it returned.

    Documents in `failed` (they could not be scored) are not in the log: they are counted in
    the summary.
    """
    systems: dict[str, dict[str, Any]] = {}
    system_data: dict[str, SystemData] = {}
    totals = _new_stats()
    report_dir = Path(options.report_dir) if options.report_dir is not None else None
    entries: list[dict[str, Any]] = []
    without_report = 0
    with atomic_stream(out / DOCUMENTS) as documents_out:
        for records in _documents(out / SEGMENTS):
            first = records[0]
            system = first["system"]
            doc_index = planned[document_key(system, first["doc"])].index
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


def _documents(log_path: Path) -> Iterator[list[dict[str, Any]]]:
    """The records of each document in a log of whole documents, one document at a time."""
    records: list[dict[str, Any]] = []
    with open(log_path, "rb") as log:
        for line in log:
            records.append(loads_bounded(line))
            if len(records) == records[0]["doc_segments"]:
                yield records
                records = []


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
