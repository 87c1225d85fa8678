"""`mtqa batch`: every input form, resume after a kill, bad input, sacrebleu figures, gates."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import mtqa
from test_corpus import corpus_error as _error
from test_corpus import jsonl_rows as _rows
from test_corpus import write_file as _write

from mtqa import Scorer
from mtqa.batch import BatchOptions, run_batch
from mtqa.batch.metrics import paired_bootstrap_mean
from mtqa.batch.runner import _lock
from mtqa.batch.store import read_log
from mtqa.core.config import load_config
from mtqa.core.errors import InputError
from mtqa.corpus import open_corpus

DATA = Path(__file__).parent / "data" / "batch"
SRC, REF, REFB = str(DATA / "src.txt"), str(DATA / "ref.txt"), str(DATA / "refb.txt")
MT = [str(DATA / "facebook.txt"), str(DATA / "onlinew.txt")]
ALIGNED_ARGS = ["-s", SRC, "-t", MT[0], "-t", MT[1], "-r", REF, "-r", REFB, "--doc-size", "3"]


def aligned_corpus() -> Any:
    return open_corpus(sources=SRC, targets=MT, references=[REF, REFB], doc_size=3)


def lines(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line]  # not splitlines: U+2028


@pytest.fixture(scope="module")
def aligned_run(scorer: Scorer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted in-process run: 2 systems x 6 lines, 2 references, 4 documents."""
    out = tmp_path_factory.mktemp("aligned")
    # With sources and no --config the CLI uses the "source" config: so does this run.
    with_source = replace(scorer, config=load_config("source"))
    options = BatchOptions(output_dir=out, config="source")
    result = run_batch(aligned_corpus(), options, scorer=with_source)
    assert result.scored == 4 and result.resumed == 0
    return out


# ------------------------------------------------------------------------- input forms


def test_line_aligned_outputs(aligned_run: Path) -> None:
    segments = lines(aligned_run / "segments.jsonl")
    assert len(segments) == 12
    assert len({(r["system"], r["segment_id"]) for r in segments}) == 12
    first = segments[0]
    assert (first["system"], first["doc"], first["segment_id"], first["line"]) == (
        "facebook",
        "lines 1-3",
        "1",
        1,
    )
    src = Path(SRC).read_text(encoding="utf-8").splitlines()
    refs = Path(REF).read_text(encoding="utf-8").splitlines()
    mt = Path(MT[1]).read_text(encoding="utf-8").splitlines()
    last = segments[-1]
    assert last["system"] == "onlinew" and last["target"] == mt[5] and last["source"] == src[5]
    assert last["reference"][0] == refs[5] and len(last["reference"]) == 2
    for record in segments:
        assert 0 <= record["score"] <= 1 and isinstance(record["flagged"], bool)
        for span in record["spans"]:
            assert record["target"][span["start"] : span["end"]] == span["text"]
    documents = lines(aligned_run / "documents.jsonl")
    assert [d["doc_index"] for d in documents] == [0, 1, 2, 3]
    assert {d["n_segments"] for d in documents} == {3}
    summary = json.loads((aligned_run / "summary.json").read_text())
    facebook = summary["systems"]["facebook"]
    fb_scores = [r["score"] for r in segments if r["system"] == "facebook"]
    assert facebook["n_segments"] == 6 and facebook["n_documents"] == 2
    assert facebook["score"] == pytest.approx(sum(fb_scores) / 6, abs=1e-6)
    flagged = sum(r["flagged"] for r in segments if r["system"] == "facebook")
    assert facebook["share_flagged"] == pytest.approx(flagged / 6, abs=1e-6)
    assert sum(facebook["reasons"].values()) >= flagged
    assert summary["totals"]["n_segments"] == 12
    assert summary["signature"].startswith("mtqa:")


def _sacrebleu(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "sacrebleu", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_sacrebleu_figures_match_its_cli(aligned_run: Path) -> None:
    summary = json.loads((aligned_run / "summary.json").read_text())
    for name, path in zip(("facebook", "onlinew"), MT, strict=True):
        args = [REF, REFB, "-i", path, "-m", "bleu", "chrf", "ter"]
        scores = json.loads(_sacrebleu(*args, "-b", "-w", "4"))
        signatures = [entry["signature"] for entry in json.loads(_sacrebleu(*args, "-f", "json"))]
        ours = summary["systems"][name]
        for score, signature, metric in zip(
            scores, signatures, ("BLEU", "chrF", "TER"), strict=True
        ):
            assert ours[metric]["score"] == pytest.approx(score, abs=1e-4), metric
            assert ours[metric]["signature"] == signature
    # paired bootstrap: sacrebleu's --paired-bs p-values and CIs, to its printed precision
    text = _sacrebleu(
        REF, REFB, "-i", *MT, "-m", "bleu", "chrf", "--paired-bs", "-w", "4", "-f", "text"
    )
    p_values = [float(p) for p in re.findall(r"\(p = ([0-9.]+)\)", text)]
    estimates = re.findall(r"([0-9.]+) \(([0-9.]+) ± ([0-9.]+)\)", text)
    row = summary["comparison"]["systems"][0]
    assert summary["comparison"]["baseline"] == "facebook" and row["system"] == "onlinew"
    assert [row["BLEU"]["p_value"], row["chrF"]["p_value"]] == pytest.approx(p_values)
    system_estimates = [tuple(map(float, e)) for e in estimates[2:4]]
    for metric, (score, mean, ci) in zip(("BLEU", "chrF"), system_estimates, strict=True):
        assert row[metric]["score"] == pytest.approx(score, abs=1e-4)
        assert row[metric]["mean"] == pytest.approx(mean, abs=1e-4)
        assert row[metric]["ci"] == pytest.approx(ci, abs=1e-4)
    assert "bs:1000|seed:12345" in summary["comparison"]["signatures"]["BLEU"]
    # mtqa's own score: the same resampling, over the same 6 paired segments
    segments = lines(aligned_run / "segments.jsonl")
    base = [r["score"] for r in segments if r["system"] == "facebook"]
    other = [r["score"] for r in segments if r["system"] == "onlinew"]
    assert row["mtqa"] == paired_bootstrap_mean(base, other, 1000, 12345)


def test_paired_bootstrap_uses_sacrebleus_resampling() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(size=50)
    same = paired_bootstrap_mean(base, base, 1000, 12345)
    assert same["score"] == same["baseline"] and same["ci"] == same["baseline_ci"]
    noisy = paired_bootstrap_mean(base, base + rng.normal(0, 0.05, size=50), 1000, 12345)
    assert noisy["p_value"] > 0.05
    better = paired_bootstrap_mean(base * 0.5, np.minimum(base * 0.5 + 0.3, 1), 1000, 12345)
    assert better["p_value"] < 0.01
    idxs = np.random.default_rng(12345).choice(50, size=(1000, 50), replace=True)
    assert same["mean"] == pytest.approx(float(base[idxs].mean(axis=1).mean()), abs=1e-6)


def test_jsonl_mqm_rows_grouped_by_system_and_doc(scorer: Scorer, tmp_path: Path) -> None:
    corpus = open_corpus(str(DATA / "mqm_dev.jsonl"))
    docs = list(corpus.documents())
    # rows of the two systems interleave; each (system, doc) becomes one running document
    assert [(d.system, d.doc_id, len(d.segments or [])) for d in docs] == [
        ("Facebook-AI", "voa-voachinese.2105", 2),
        ("Online-W", "voa-voachinese.2105", 2),
        ("Facebook-AI", "chinese.dw.com.5398", 2),
        ("Online-W", "chinese.dw.com.5398", 2),
    ]
    result = run_batch(corpus, BatchOptions(output_dir=tmp_path), scorer=scorer)
    segments = lines(tmp_path / "segments.jsonl")
    rows = lines(DATA / "mqm_dev.jsonl")
    by_id = {r["id"]: r for r in rows}
    assert sorted(r["segment_id"] for r in segments) == sorted(by_id)
    for record in segments:
        row = by_id[record["segment_id"]]
        assert record["target"] == row["target"] and record["source"] == row["source"]
        assert record["reference"] == row["reference"] and record["line"] == rows.index(row) + 1
        assert record["item"] == f"{row['doc']}|{row['doc_seg_id']}"
    assert set(result.summary["systems"]) == {"Facebook-AI", "Online-W"}
    assert result.summary["systems"]["Online-W"]["BLEU"]["signature"].startswith("nrefs:1|")
    assert result.summary["comparison"]["systems"][0]["n_segments"] == 4


def test_tsv_and_saved_dataset(scorer: Scorer, tmp_path: Path) -> None:
    from datasets import Dataset

    tsv = run_batch(
        open_corpus(str(DATA / "wire.tsv")), BatchOptions(output_dir=tmp_path / "tsv"), scorer
    )
    assert set(tsv.summary["systems"]) == {"sysA", "sysB"}
    tsv_records = lines(tmp_path / "tsv" / "segments.jsonl")
    assert [r["line"] for r in tsv_records] == [2, 3, 4, 5]
    assert tsv_records[0]["reference"] == "A storm struck the coast on Monday."
    # the same rows as a Hugging Face dataset saved to disk: the same documents, rows numbered
    header, *body = (DATA / "wire.tsv").read_text(encoding="utf-8").splitlines()
    names = header.split("\t")
    rows = [dict(zip(names, line.split("\t"), strict=True)) for line in body]
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    tsv_docs = list(open_corpus(str(DATA / "wire.tsv")).documents())
    hf_docs = list(open_corpus(str(tmp_path / "saved")).documents())
    assert [(d.key, len(d.segments or [])) for d in hf_docs] == [
        (d.key, len(d.segments or [])) for d in tsv_docs
    ]
    for hf_doc, tsv_doc in zip(hf_docs, tsv_docs, strict=True):
        for hf_seg, tsv_seg in zip(hf_doc.segments or [], tsv_doc.segments or [], strict=True):
            assert (hf_seg.line or 0) + 1 == tsv_seg.line
            assert (hf_seg.target, hf_seg.source, hf_seg.references) == (
                tsv_seg.target,
                tsv_seg.source,
                tsv_seg.references,
            )
    assert "bad row 3: missing field 'target'" in _error(
        tmp_path, "unused.txt", "", input=str(tmp_path / "bad"), rows=[*rows[:2], {"doc": "x"}]
    )
    # a parquet folder, as load_dataset reads a hub-style repository (split by file name)
    (tmp_path / "repo" / "data").mkdir(parents=True)
    Dataset.from_list(rows).to_parquet(str(tmp_path / "repo" / "data" / "test-00000.parquet"))
    repo = open_corpus(str(tmp_path / "repo"), split="test")
    assert [len(d.segments or []) for d in repo.documents()] == [2, 2]


def test_text_folder_with_reports(scorer: Scorer, tmp_path: Path) -> None:
    options = BatchOptions(output_dir=tmp_path / "out", report_dir=tmp_path / "html")
    result = run_batch(open_corpus(str(DATA / "docs")), options, scorer=scorer)
    documents = lines(tmp_path / "out" / "documents.jsonl")
    assert [d["doc"] for d in documents] == ["council.txt", "harbour.txt"]
    segments = lines(tmp_path / "out" / "segments.jsonl")
    assert segments[0]["segment_id"] == "council.txt:1"
    assert segments[0]["target"] == "City Council Approves New Budget"
    assert sum(d["n_segments"] for d in documents) == len(segments)
    assert result.summary["comparison"] is None and "BLEU" not in result.summary["systems"]["docs"]
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    for document in documents:
        report = Path(document["report"])
        assert report.exists() and report.name in index


# -------------------------------------------------------------------- resume and gates


def test_resume_after_kill_gives_identical_output(aligned_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    log = out / "segments.jsonl"
    args = ["batch", *ALIGNED_ARGS, "-o", str(out), "-q"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mtqa.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.stat().st_size > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    blocks, good_end, _ = read_log(log)
    assert 0 < len(blocks) < 4 and not (out / "summary.json").exists()
    with open(log, "ab") as handle:  # a torn write, as if killed in the middle of one
        handle.write(b'{"system": "onlinew", "doc": "lines 5-8", "segment_id": "7", "sc')
    torn = log.stat().st_size - good_end
    proc2 = mtqa(*args[:-1])
    err = proc2.stderr.decode()
    assert proc2.returncode == 0, err
    assert f"cut {torn:,} bytes of unfinished results" in err
    assert f"{4 - len(blocks)} documents scored now, {len(blocks)} resumed" in err
    for name in ("segments.jsonl", "documents.jsonl", "summary.json"):
        assert (out / name).read_bytes() == (aligned_run / name).read_bytes(), name
    records = lines(log)
    assert len(records) == len({(r["system"], r["segment_id"]) for r in records}) == 12


def test_truncated_block_is_cut_on_resume(tmp_path: Path) -> None:
    log = tmp_path / "segments.jsonl"
    block = [
        {"system": "s", "doc": "d", "index": i, "doc_segments": 2, "doc_fingerprint": "f"}
        for i in range(2)
    ]
    text = "".join(json.dumps(r) + "\n" for r in block)
    log.write_text(text + json.dumps({**block[0], "doc": "e"}) + "\n")  # half of document e
    blocks, good_end, size = read_log(log)
    assert list(blocks) == ["s\x1fd"] and good_end == len(text.encode()) < size


def test_gates_and_rerun_of_finished_output(aligned_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(aligned_run, out)
    summary = json.loads((out / "summary.json").read_text())
    share = summary["totals"]["share_flagged"]
    assert share > 0
    base = ["batch", *ALIGNED_ARGS, "-o", str(out), "-q"]
    ok = mtqa(*base[:-1], "--fail-over-flagged-share", "1", "--fail-under", "0")
    assert ok.returncode == 0, ok.stderr.decode()
    assert "per system" in ok.stdout.decode() and "paired bootstrap" in ok.stdout.decode()
    assert "0 documents scored now, 4 resumed" in ok.stderr.decode()
    assert "the summaries are up to date" in ok.stderr.decode()
    flagged = mtqa(*base, "--fail-over-flagged-share", f"{share / 2:.4f}")
    assert flagged.returncode == 3 and "gate failed" in flagged.stderr.decode()
    under = mtqa(*base, "--fail-under", "1")
    assert under.returncode == 3 and "corpus score" in under.stderr.decode()
    assert (out / "segments.jsonl").read_bytes() == (aligned_run / "segments.jsonl").read_bytes()


def test_jobs_use_worker_processes(tmp_path: Path, scorer: Scorer) -> None:
    proc = mtqa("batch", str(DATA / "wire.tsv"), "-o", str(tmp_path / "jobs"), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "starting 2 workers (1 thread(s) each)" in proc.stderr.decode()
    assert "config:source@" in json.loads((tmp_path / "jobs" / "run.json").read_text())["signature"]
    with_source = replace(scorer, config=load_config("source"))  # wire.tsv has sources
    single = run_batch(
        open_corpus(str(DATA / "wire.tsv")),
        BatchOptions(output_dir=tmp_path / "one", config="source"),
        with_source,
    )
    parallel = lines(tmp_path / "jobs" / "segments.jsonl")
    serial = lines(tmp_path / "one" / "segments.jsonl")
    assert [r["segment_id"] for r in parallel] == [r["segment_id"] for r in serial]
    assert [r["score"] for r in parallel] == pytest.approx([r["score"] for r in serial], abs=1e-3)
    assert single.summary["systems"].keys() == {"sysA", "sysB"}
    summary = json.loads((tmp_path / "jobs" / "summary.json").read_text())
    for name in ("sysA", "sysB"):  # corpus metrics computed in worker processes with --jobs
        for metric in ("BLEU", "chrF", "TER"):
            assert summary["systems"][name][metric] == single.summary["systems"][name][metric]


# ------------------------------------------------------------------------- bad input


def test_resume_refuses_changed_input_or_other_run(aligned_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    shutil.copytree(aligned_run, out)
    other = open_corpus(str(DATA / "wire.tsv"))
    with pytest.raises(InputError, match="holds results of another run .*--restart"):
        run_batch(other, BatchOptions(output_dir=out))
    run = json.loads((out / "run.json").read_text())
    # same command, but a file changed in place since the results were written
    changed = tmp_path / "changed"
    shutil.copytree(DATA, changed)
    mt = changed / "facebook.txt"
    mt.write_text(mt.read_text(encoding="utf-8").replace("Poland", "Polska", 1), encoding="utf-8")
    corpus = open_corpus(
        sources=str(changed / "src.txt"),
        targets=[str(mt), str(changed / "onlinew.txt")],
        references=[str(changed / "ref.txt"), str(changed / "refb.txt")],
        doc_size=3,
    )
    run["input"] = corpus.description
    (out / "run.json").write_text(json.dumps(run))
    with pytest.raises(InputError, match="document 'lines 1-3' of system 'facebook' has changed"):
        run_batch(corpus, BatchOptions(output_dir=out, config="source"))


def test_unknown_baseline_and_busy_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--baseline nope: no such system .*facebook, onlinew"):
        run_batch(aligned_corpus(), BatchOptions(output_dir=tmp_path, baseline="nope"))
    holder = _lock(tmp_path)
    try:
        with pytest.raises(InputError, match="another `mtqa batch` is writing to"):
            run_batch(aligned_corpus(), BatchOptions(output_dir=tmp_path))
    finally:
        holder.close()


def test_restart_and_unusual_characters(scorer: Scorer, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "odd.jsonl",
        _rows({"target": "Prices rose\u2028sharply \x1c today."}, {"target": "Shares fell."}),
    )
    out = tmp_path / "out"
    _write(out / "segments.jsonl", "not ours\n")
    with pytest.raises(InputError, match="not made by `mtqa batch`"):
        run_batch(open_corpus(path), BatchOptions(output_dir=out), scorer=scorer)
    # --restart removes only what a run recorded in run.json: the file that is not ours stays.
    with pytest.raises(InputError, match="--restart removes only .* stays"):
        run_batch(open_corpus(path), BatchOptions(output_dir=out, restart=True), scorer)
    assert (out / "segments.jsonl").read_text() == "not ours\n"
    (out / "segments.jsonl").unlink()
    result = run_batch(open_corpus(path), BatchOptions(output_dir=out, restart=True), scorer)
    assert result.scored == 1 and result.summary["systems"]["odd"]["n_segments"] == 2
    records = lines(out / "segments.jsonl")
    assert records[0]["target"] == "Prices rose\u2028sharply \x1c today."
    assert [r["segment_id"] for r in records] == ["1", "2"]  # doc-less rows: row ordinals


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    mt = _write(tmp_path / "mt.txt", "One.\n" * 99)
    src = _write(tmp_path / "src.txt", "一\n" * 100)
    proc = mtqa("batch", "-s", src, "-t", mt, "-o", str(tmp_path / "out"))
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("mt.txt has 99 lines but " + src + " has 100")
    assert mtqa("batch", "-o", str(tmp_path / "out"), "--jobs", "0").returncode == 2
    usage = mtqa("batch", "x.jsonl", "-o", str(tmp_path / "o"), "--field", "nope")
    assert usage.returncode == 2 and "--field" in usage.stderr.decode()
    env = {**os.environ, "MTQA_CACHE": os.environ.get("MTQA_CACHE", "/tmp/mtqa-cache")}
    missing = mtqa("batch", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "o"), env=env)
    assert missing.returncode == 1 and "file not found" in missing.stderr.decode()
