"""Before any load: both servers must predict the same labels for every scenario's request."""

from __future__ import annotations

from collections.abc import Sequence

from bench.harness import Server, post_json
from bench.scenarios import Scenario


class LabelMismatch(RuntimeError):
    """The two servers predicted different labels for the same request."""


def check_labels(scenario: Scenario, baseline: Server, others: Sequence[Server]) -> None:
    """Raise ``LabelMismatch`` unless every server predicts the baseline's labels for the scenario."""
    sent = scenario.for_baseline()
    expected = Scenario.labels(post_json(baseline.url + sent.path, sent.body()))
    for server in others:
        labels = Scenario.labels(post_json(server.url + scenario.path, scenario.body()))
        wrong = [i for i, (a, b) in enumerate(zip(expected, labels, strict=False)) if a != b]
        if wrong or len(labels) != len(expected):
            first = wrong[0] if wrong else min(len(labels), len(expected))
            raise LabelMismatch(
                f"'{scenario.title}': {server.name} and {baseline.name} disagree on {len(wrong)} of "
                f"{len(expected)} rows ({len(labels)} labels from {server.name}); first at row {first}"
            )
