"""Calibration on human MQM annotations: the data, the evidence the model sees in it, fitting
the combiner and thresholds, and agreement figures (which never import the fitter)."""

from .agreement import evaluate_evidence, format_table
from .evidence import Evidence, cached_extract, prepare_evidence
from .fit import calibrate, calibrate_peers
from .mqm import check_rows, default_mqm_path, load_rows

__all__ = [
    "Evidence",
    "cached_extract",
    "calibrate",
    "calibrate_peers",
    "check_rows",
    "default_mqm_path",
    "evaluate_evidence",
    "format_table",
    "load_rows",
    "prepare_evidence",
]
