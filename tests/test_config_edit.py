"""The round-trip edit of config.yaml: only the new lines are added, whatever the file's layout."""

from __future__ import annotations

import difflib

import pytest
import yaml

from registry.config_edit import VersionEntry, add_version
from spec.features import FeatureSpec
from tests.conftest import EXAMPLE_CONFIG

ENTRY = VersionEntry(
    "fabric/1/model.joblib",
    "ab" * 32,
    (
        FeatureSpec("fabric", "category", False, ("linen", "silk")),
        FeatureSpec("term", "integer", True, None, 1, 9),
    ),
    "classification",
)


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


@pytest.mark.parametrize(("model", "version"), [("fabric", "1"), ("iris", "2"), ("penguins", "3")])
def test_only_the_new_version_is_added_to_the_example_config(model: str, version: str) -> None:
    before = EXAMPLE_CONFIG.read_text()
    edited = add_version(before, model, version, ENTRY, "Cloth")
    assert edited.layout_kept
    changes = changed_lines(before, edited.text)
    assert all(line.startswith("+ ") for line in changes), changes
    data = yaml.safe_load(edited.text)
    assert data["models"][model]["versions"][version]["features"][0] == {
        "name": "fabric",
        "type": "category",
        "categories": ["linen", "silk"],
        "required": False,
    }
    assert {k: v for k, v in data["models"].items() if k != model} == {
        k: v for k, v in yaml.safe_load(before)["models"].items() if k != model
    }


def test_a_flat_layout_is_kept_too() -> None:
    before = (
        "# mine\nstore: s\nmodels:\n  a:\n    versions:\n      '1':\n        artifact: x\n"
        "        features:\n        - {name: b, type: number}\n"
    )
    edited = add_version(before, "a", "2", ENTRY, None)
    assert edited.layout_kept
    assert all(line.startswith("+ ") for line in changed_lines(before, edited.text))
    assert "        - name: fabric\n" in edited.text
