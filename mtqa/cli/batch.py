"""`mtqa batch`: a whole corpus, resumably."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext

import click

from ..core import EXIT_ERROR, EXIT_GATE, UsageError, check_run_paths, printable
from .options import (
    FiniteRange,
    StdoutConsole,
    device_option,
    pick_config,
    precision_option,
    progress_lines,
    quiet_option,
    scorer_options,
    status,
    text_console_options,
)

# Bounds far beyond any real run, that keep a typo (`-j 10000`) from exhausting the machine.
MAX_JOBS = 256  # processes, each loading the model
MAX_THREADS = 1024
MAX_ACTORS = 10_000
MAX_GPUS_PER_ACTOR = 64.0
MAX_BOOTSTRAP = 100_000  # paired bootstrap resamples (sacrebleu's default is 1000)


@click.command()
@click.argument("input", required=False)
@click.option("--source", "-s", default=None, help="Line-aligned source file (COMET's -s).")
@click.option(
    "--target", "-t", "targets", multiple=True, help="Line-aligned MT output; repeat per system."
)
@click.option(
    "--reference", "-r", "references", multiple=True, help="Line-aligned reference; repeatable."
)
@click.option("--docs", default=None, help="Line-aligned document ids for the -t files.")
@click.option(
    "--doc-size",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Segments without document ids are read as running text in chunks of N.",
)
@click.option("--system", default=None, help="System name for rows or files that name none.")
@click.option("--field", "fields", multiple=True, help="FIELD=COLUMN, e.g. target=mt_output.")
@click.option("--hf-config", default=None, help="Dataset config (for hf:NAME input).")
@click.option("--split", default=None, help="Dataset split.")
@click.option("--output-dir", "-o", required=True, help="Results folder (re-run to resume).")
@scorer_options
@device_option
@precision_option
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, MAX_JOBS),
    default=1,
    show_default=True,
    help="Processes.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, MAX_THREADS),
    default=None,
    help="Torch threads per process [default: cores / jobs].",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine (--jobs processes); ray: a Ray cluster (pip install 'mtqa[ray]').",
)
@click.option(
    "--address",
    default=None,
    help="Ray cluster to use (auto, HOST:PORT or ray://HOST:PORT) [default: start a local one].",
)
@click.option(
    "--actors",
    type=click.IntRange(1, MAX_ACTORS),
    default=None,
    help="Ray actors, each loading the model once [default: cluster CPUs / threads].",
)
@click.option(
    "--gpus-per-actor",
    type=FiniteRange(0, MAX_GPUS_PER_ACTOR),
    default=0.0,
    help="GPU share each Ray actor asks for (e.g. 0.5: two actors a GPU).",
)
@click.option("--report-dir", default=None, help="Also write an HTML report per document.")
@click.option("--baseline", default=None, help="System the others are compared with.")
@click.option(
    "--bootstrap",
    type=click.IntRange(1, MAX_BOOTSTRAP),
    default=1000,
    show_default=True,
    help="Paired bootstrap resamples.",
)
@click.option("--restart", is_flag=True, help="Discard earlier results in --output-dir.")
@click.option(
    "--peers",
    is_flag=True,
    help="Also judge each segment against the other systems' translations of it (needs 3+ "
    "systems on the same items; config CONFIG-peers).",
)
@click.option(
    "--fail-over-flagged-share",
    type=FiniteRange(0, 1),
    default=None,
    help="Exit 3 if more than this share of all segments is flagged.",
)
@click.option(
    "--fail-under",
    type=FiniteRange(0, 1),
    default=None,
    help="Exit 3 if the corpus score (mean over segments) is below SCORE.",
)
@quiet_option
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="--engine ray: Ray's own log lines on the terminal [default: in OUTPUT_DIR/ray.log].",
)
def batch(
    input: str | None,
    source: str | None,
    targets: tuple[str, ...],
    references: tuple[str, ...],
    docs: str | None,
    doc_size: int,
    system: str | None,
    fields: tuple[str, ...],
    hf_config: str | None,
    split: str | None,
    output_dir: str,
    model: str | None,
    config: str | None,
    preset: str,
    device: str,
    precision: str,
    jobs: int,
    threads: int | None,
    engine: str,
    address: str | None,
    actors: int | None,
    gpus_per_actor: float,
    report_dir: str | None,
    baseline: str | None,
    bootstrap: int,
    restart: bool,
    peers: bool,
    fail_over_flagged_share: float | None,
    fail_under: float | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Evaluate a corpus, resumably: re-run the same command to continue an interrupted run.

    INPUT is a folder of .txt documents, a .jsonl/.tsv/.csv file, a saved or parquet dataset,
    or hf:NAME; or give line-aligned files: -s SRC -t MT [-t MT2 ...] [-r REF ...].
    """
    from pathlib import Path

    from ..batch import BatchOptions, gate_failures, print_summary, progress_bar, run_batch
    from ..corpus import FIELDS, has_sources, open_corpus
    from ..scoring import check_config

    mapping = {}
    for item in fields:
        name, sep, column = item.partition("=")
        if not sep or not column or name not in FIELDS:
            raise click.BadParameter(
                f"{item!r}: use FIELD=COLUMN, FIELD one of {', '.join(FIELDS)}",
                param_hint="--field",
            )
        mapping[name] = column
    if input is None and not targets:
        raise UsageError(
            "nothing to evaluate: give INPUT (folder, .jsonl, .tsv, dataset) or -t MT files"
        )
    from ..batch import OWNED_FILES, REPORT_FILES

    owned = [("--output-dir", os.path.join(output_dir, name)) for name in OWNED_FILES]
    if report_dir:
        owned += [("--report-dir", os.path.join(report_dir, name)) for name in REPORT_FILES]
    check_run_paths(
        [input, source, *targets, *references, docs],
        folders=[("--output-dir", output_dir), ("--report-dir", report_dir)],
        owned=owned,
    )
    if engine != "ray" and (address or actors or gpus_per_actor):
        raise UsageError("--address, --actors and --gpus-per-actor need --engine ray")
    if engine == "ray":
        from ..batch import require_ray

        require_ray()  # the device is chosen on each actor (the driver may have no GPU)
    else:
        from ..models import resolve_device

        resolve_device(device)  # `cuda` where there is none fails before any folder is made
    check_config(config, preset)  # a bad config fails before any folder is made
    corpus = open_corpus(
        input,
        sources=source,
        targets=targets,
        references=references,
        docs=docs,
        doc_size=doc_size,
        system=system,
        fields=mapping,
        hf_config=hf_config,
        split=split,
    )
    config = pick_config(config, with_source=has_sources(corpus))
    options = BatchOptions(
        output_dir=Path(output_dir),
        model=model,
        config=config,
        preset=preset,
        jobs=jobs,
        threads=threads,
        report_dir=Path(report_dir) if report_dir else None,
        baseline=baseline,
        n_samples=bootstrap,
        restart=restart,
        peers=peers,
        engine=engine,
        address=address,
        actors=actors,
        gpus_per_actor=gpus_per_actor,
        device=device,
        precision=precision,
        verbose=verbose,
    )
    # A bar on a terminal; plain lines in a log (as `mtqa score` does); nothing with --quiet.
    shown = (
        progress_bar(quiet)
        if quiet or sys.stderr.isatty()
        else nullcontext(progress_lines("scoring", "documents"))
    )
    try:
        with shown as update:
            result = run_batch(
                corpus, options, on_progress=update, on_status=lambda m: status(quiet, m)
            )
    except KeyboardInterrupt:
        click.echo(
            f"mtqa: finished documents are saved in {output_dir}; "
            "run the same command again to resume",
            err=True,
        )
        raise
    for warning in result.warnings:
        click.echo(f"mtqa: warning: {printable(warning)}", err=True)
    print_summary(result.summary, StdoutConsole(**text_console_options(sys.stdout.isatty())))
    status(
        quiet,
        f"mtqa: results in {output_dir} ({result.scored:,} documents scored now, "
        f"{result.resumed:,} resumed)",
    )
    failed = gate_failures(result.summary, fail_over_flagged_share, fail_under)
    if failed:
        click.echo(f"mtqa: gate failed: {'; '.join(failed)}", err=True)
        sys.exit(EXIT_GATE)
    if result.failed:
        sys.exit(EXIT_ERROR)  # the warning above names failed.jsonl; a re-run retries them
