"""`mtqa calibrate` and `mtqa evaluate`: fitting on, and measuring against, human MQM."""

from __future__ import annotations

import click

from ..core import atomic_write, check_run_paths, configs_dir


@click.command()
@click.option("--train", "train_path", default=None, help="MQM-style JSONL to fit on.")
@click.option("--dev", "dev_path", default=None, help="MQM-style JSONL to choose thresholds on.")
@click.option("--model", "-m", default=None, help="Model to calibrate (default: the config's).")
@click.option("--base", default=None, help="Config to start from (default: the shipped default).")
@click.option("--output", "-o", default=None, help="[default: NAME.json in the configs folder]")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=13, show_default=True)
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

    from ..calibration import calibrate as run_calibration
    from ..calibration import calibrate_peers, check_rows, default_mqm_path
    from ..scoring import Scorer

    train = str(train_path or default_mqm_path("train"))
    dev = str(dev_path or default_mqm_path("dev"))
    check_run_paths([train, dev], files=[("--output", output)])
    check_rows(train)  # every row checked before the model loads
    check_rows(dev)
    scorer = Scorer.load(model, base)
    log = lambda line: click.echo(f"mtqa: {line}", err=True)  # noqa: E731
    if peers:
        config = calibrate_peers(scorer, train, dev, seed=seed, log=log)
    else:
        config = run_calibration(scorer, train, dev, seed=seed, log=log, with_source=with_source)
    output = output or str(configs_dir() / f"{config.name}.json")
    config.save(Path(output))
    click.echo(f"mtqa: wrote {output} (thresholds {config.thresholds})", err=True)


@click.command()
@click.argument("data", type=str)
@click.option("--model", "-m", default=None)
@click.option("--config", "-c", "config", default=None)
@click.option("--output", "-o", default=None, help="Also write the figures as JSON here.")
def evaluate(data: str, model: str | None, config: str | None, output: str | None) -> None:
    """Agreement of mtqa with human MQM annotations in DATA (JSONL), against baselines."""
    import json

    from ..calibration import (
        cached_extract,
        check_rows,
        evaluate_evidence,
        format_table,
        prepare_evidence,
    )
    from ..scoring import Scorer

    check_run_paths([data], files=[("--output", output)])
    check_rows(data)  # every row checked before the model loads
    scorer = Scorer.load(model, config)
    evidence = prepare_evidence(scorer.config, cached_extract(scorer, data), data)
    result = evaluate_evidence(scorer.config, evidence)
    result["signature"] = scorer.signature.format()
    click.echo(format_table(result))
    if output:
        atomic_write(output, json.dumps(result, indent=2) + "\n")
