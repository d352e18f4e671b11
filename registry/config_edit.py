"""Add a version to config.yaml's text with a round-trip YAML edit: comments, key order, quoting and
layout of everything else stay as they were."""

from __future__ import annotations

import copy
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from spec.features import FeatureSpec

# What `add` starts from when the config file does not exist yet.
NEW_CONFIG = """\
# model-registry config: `model-registry add` adds versions; see the README for every key.
store: model_store  # artifacts, relative to this file
models: {}
"""
# (mapping, sequence, offset) indents tried in turn: the first that reproduces the file is kept.
_LAYOUTS = list(itertools.product((2, 4), (4, 2, 6), (2, 0, 4)))


@dataclass(frozen=True)
class VersionEntry:
    """What ``add`` writes for one version."""

    artifact: str
    sha256: str
    features: tuple[FeatureSpec, ...]
    task: str | None = None
    trusted_types: tuple[str, ...] = ()
    description: str | None = None
    added_at: str | None = None  # spec.facts: when, from which file, with which sample
    source: str | None = None
    sample_sha256: str | None = None


@dataclass(frozen=True)
class EditedConfig:
    """The new text, and whether the rest of the file could be kept byte for byte."""

    text: str
    layout_kept: bool


def add_version(
    text: str, model: str, version: str, entry: VersionEntry, model_description: str | None
) -> EditedConfig:
    """``text`` with ``entry`` added as ``models.<model>.versions.<version>``; a model not in the file
    gets a new entry with ``model_description``; an empty ``models: {}`` (or none) is filled in block
    style. Raises ``ValueError`` if ``text`` is no mapping or its ``models`` is no mapping."""
    yaml, layout_kept = _yaml_for(text)
    document = yaml.load(text)
    if isinstance(document, dict) and not document.get("models"):
        document["models"] = CommentedMap()
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict):
        raise ValueError("the file has no 'models' mapping to add to")
    _insert(models, model, version, entry, model_description)
    return EditedConfig(_dump(yaml, document), layout_kept)


def addition_text(model: str, version: str, entry: VersionEntry, model_description: str | None) -> str:
    """The YAML that ``add_version`` adds, as a fragment under ``models:`` (what --dry-run prints)."""
    models = CommentedMap()
    _insert(models, model, version, entry, model_description)
    yaml = _yaml(*_LAYOUTS[0])
    return _dump(yaml, CommentedMap(models=models))


def feature_mapping(feature: FeatureSpec) -> CommentedMap:
    """One feature as config.yaml writes it: only the keys that differ from their defaults."""
    item = CommentedMap(name=feature.name, type=feature.type)
    if feature.categories is not None:
        item["categories"] = _flow(feature.categories)
    if not feature.required:
        item["required"] = False
    for key in ("minimum", "maximum", "description"):
        value = getattr(feature, key)
        if value is not None:
            item[key] = value
    return item


def _insert(
    models: dict, model: str, version: str, entry: VersionEntry, model_description: str | None
) -> None:
    new_model = model not in models
    if new_model:
        models[model] = CommentedMap(description=model_description or "", versions=CommentedMap())
    versions = models[model]["versions"]
    previous = models if new_model else versions
    versions[DoubleQuotedScalarString(version)] = _version_mapping(entry)
    _keep_gaps(previous, models[model] if new_model else versions)


def _keep_gaps(parent: Any, added_in: Any) -> None:
    """Blank lines after a block belong to its last scalar: move them below the added block, and
    separate a new block from the one before it the way the first blocks of ``parent`` are."""
    keys = list(parent)
    if len(keys) < 2 or not isinstance(parent, CommentedMap):
        return
    before = _trailing(parent[keys[-2]])
    if before is None:
        return
    gap = _trailing(parent[keys[0]]) if len(keys) > 2 else None
    added = _trailing(added_in)
    if added is not None and before[0].ca.items.get(before[1]):
        added[0].ca.items[added[1]] = before[0].ca.items.pop(before[1])
    if gap is not None and gap[0].ca.items.get(gap[1]) and not before[0].ca.items.get(before[1]):
        before[0].ca.items[before[1]] = copy.deepcopy(gap[0].ca.items[gap[1]])


def _trailing(node: Any) -> tuple[CommentedMap, Any] | None:
    """The mapping and key of the last scalar under ``node``, where trailing blank lines are kept."""
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        if not isinstance(node[key], CommentedMap | CommentedSeq):
            return (node, key) if isinstance(node, CommentedMap) else None
        node = node[key]
    return None


def _version_mapping(entry: VersionEntry) -> CommentedMap:
    item = CommentedMap(artifact=entry.artifact, sha256=entry.sha256)
    if entry.task:
        item["task"] = entry.task
    if entry.description:
        item["description"] = entry.description
    if entry.trusted_types:
        item["trusted_types"] = CommentedSeq(entry.trusted_types)
    if entry.added_at:  # quoted, as YAML would read a bare timestamp as a datetime
        item["added_at"] = DoubleQuotedScalarString(entry.added_at)
    if entry.source:
        item["source"] = entry.source
    if entry.sample_sha256:
        item["sample_sha256"] = entry.sample_sha256
    item["features"] = CommentedSeq(feature_mapping(f) for f in entry.features)
    return item


def _flow(values: Sequence[Any]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _yaml_for(text: str) -> tuple[YAML, bool]:
    """A round-trip YAML whose indentation reproduces ``text`` unchanged, if one of ours does."""
    for layout in _LAYOUTS:
        yaml = _yaml(*layout)
        if _dump(yaml, yaml.load(text)) == text:
            return yaml, True
    return _yaml(*_LAYOUTS[0]), False


def _yaml(mapping: int, sequence: int, offset: int) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long descriptions
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


_KEEP = object()  # set_traffic: leave the shadow as it is


def set_traffic(
    text: str, model: str, weights: Mapping[str, int] | None, shadow: str | None | object = _KEEP
) -> EditedConfig:
    """``text`` with ``models.<model>.traffic`` set to ``weights`` (None: left as it is) and its
    ``shadow`` set to a version, removed (None), or left (``KEEP_SHADOW``). Raises ``ValueError``
    if the file has no such model."""
    yaml, layout_kept = _yaml_for(text)
    document = yaml.load(text)
    models = document.get("models") if isinstance(document, dict) else None
    entry = models.get(model) if isinstance(models, dict) else None
    if not isinstance(entry, dict):
        raise ValueError(f"the file has no model '{model}'")
    if weights is not None:
        split = CommentedMap((DoubleQuotedScalarString(v), w) for v, w in weights.items())
        split.fa.set_flow_style()
        _set_before_versions(entry, "traffic", split)
    if shadow is None:
        entry.pop("shadow", None)
    elif shadow is not _KEEP:
        _set_before_versions(entry, "shadow", DoubleQuotedScalarString(str(shadow)))
    return EditedConfig(_dump(yaml, document), layout_kept)


def _set_before_versions(entry: CommentedMap, key: str, value: Any) -> None:
    """Set ``key``, a new key going just above ``versions:`` (the blank line after a model stays)."""
    if key in entry or "versions" not in entry:
        entry[key] = value
    else:
        entry.insert(list(entry).index("versions"), key, value)


KEEP_SHADOW = _KEEP
