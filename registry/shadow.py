"""A shadow run: the rows a primary version answered, run again through the shadow version, and
each row's answer compared with the primary's. Nothing here is ever returned to a caller.

A classifier's row agrees when the labels are equal; a regressor's when every value is within
``tolerance`` of the primary's, relative to the larger of the two (equal values always agree).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from registry.inference import Outputs
from registry.registry import ModelVersion

AGREE, DISAGREE, ERROR, DROPPED = "agree", "disagree", "error", "dropped"
RESULTS = (AGREE, DISAGREE, ERROR, DROPPED)


@dataclass(frozen=True, slots=True)
class ShadowJob:
    """One request's rows for the shadow: the validated columns and what the primary answered."""

    primary: ModelVersion
    shadow: ModelVersion
    columns: Mapping[str, np.ndarray]
    outputs: Outputs
    rows: int
    tolerance: float
    queued_at: float  # time.monotonic() when the answer was ready


@dataclass(frozen=True, slots=True)
class ShadowOutcome:
    """How many rows agreed, disagreed or failed, and the seconds the shadow took."""

    counts: Mapping[str, int]
    seconds: float


def run_shadow(job: ShadowJob) -> ShadowOutcome:
    """Run ``job``'s rows through its shadow and compare; any failure of the shadow counts its
    rows as errors and is never raised."""
    started = time.perf_counter()
    try:
        outputs = job.shadow.predictor.predict(job.columns)
        agree = agreeing_rows(job.outputs, outputs, job.tolerance)
    except Exception:  # the shadow's failure is counted, never reported to the caller
        counts = {ERROR: job.rows}
    else:
        counts = {AGREE: agree, DISAGREE: job.rows - agree}
    return ShadowOutcome(counts, time.perf_counter() - started)


def agreeing_rows(primary: Outputs, shadow: Outputs, tolerance: float) -> int:
    """How many rows the two answers agree on; outputs of different kinds agree on none."""
    if primary.labels is not None and shadow.labels is not None:
        if len(primary.labels) != len(shadow.labels):
            raise ValueError("the shadow answered a different number of rows")
        return sum(a == b for a, b in zip(primary.labels, shadow.labels, strict=True))
    if primary.values is not None and shadow.values is not None:
        a, b = np.asarray(primary.values, dtype=float), np.asarray(shadow.values, dtype=float)
        if a.shape != b.shape:
            raise ValueError("the shadow answered values of another shape")
        close = (a == b) | (np.abs(a - b) <= tolerance * np.maximum(np.abs(a), np.abs(b)))
        return int(close.reshape(len(a), -1).all(axis=1).sum())
    return 0
