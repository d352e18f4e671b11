"""Check a loaded estimator against the features its version declares."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any

from sklearn.base import is_classifier, is_regressor
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder

from spec.config import VersionSpec


def infer_task(estimator: Any) -> str | None:
    """``classification`` or ``regression`` as sklearn tags the estimator, else ``None``."""
    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    return None


def sklearn_class_name(estimator: Any) -> str | None:
    """The class name of a scikit-learn estimator (not of a subclass defined elsewhere), else None."""
    cls = type(estimator)
    return cls.__name__ if cls.__module__.startswith("sklearn.") else None


def final_estimator(estimator: Any) -> Any:
    """The last step of a (nested) Pipeline, or the estimator itself."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def estimator_problems(spec: VersionSpec, estimator: Any) -> list[str]:
    """Every way the estimator disagrees with the spec, each as 'key: what is wrong'."""
    if not callable(getattr(estimator, "predict", None)):
        return [f"artifact: {type(estimator).__name__} has no predict method"]
    problems = _task_problems(spec, estimator) + _feature_problems(spec, estimator)
    return problems + _category_problems(spec, estimator)


def _task_problems(spec: VersionSpec, estimator: Any) -> list[str]:
    task = infer_task(estimator)
    if spec.task and task and spec.task != task:
        return [f"task: declared {spec.task}, but the estimator is a {task} model"]
    if (spec.task or task) == "classification" and not hasattr(estimator, "classes_"):
        return ["task: classification, but the estimator has no classes_ (is it fitted?)"]
    return []


def _feature_problems(spec: VersionSpec, estimator: Any) -> list[str]:
    declared = spec.feature_names
    expected = getattr(estimator, "feature_names_in_", None)
    if expected is None:
        count = getattr(estimator, "n_features_in_", None)
        if count is not None and count != len(declared):
            return [f"features: {len(declared)} declared, the estimator expects {count}"]
        return []
    expected = [str(name) for name in expected]
    if expected == declared:
        return []
    missing = [n for n in expected if n not in declared]
    extra = [n for n in declared if n not in expected]
    detail = []
    if missing:
        detail.append(f"not declared: {', '.join(missing)}")
    if extra:
        detail.append(f"unknown to the estimator: {', '.join(extra)}")
    if not detail:
        detail.append(f"declared in a different order; the estimator's order: {', '.join(expected)}")
    return [f"features: do not match the estimator's feature_names_in_ ({'; '.join(detail)})"]


def _category_problems(spec: VersionSpec, estimator: Any) -> list[str]:
    known = encoder_categories(estimator)
    problems = []
    for feature in spec.features:
        if feature.type != "category" or feature.name not in known:
            continue
        unseen = [c for c in feature.categories if c not in known[feature.name]]
        if unseen:
            listed = ", ".join(str(c) for c in sorted(known[feature.name], key=str))
            problems.append(
                f"features: {feature.name}: categories {', '.join(map(str, unseen))} "
                f"were never seen by the estimator's encoder (it knows: {listed})"
            )
    return problems


def encoder_categories(estimator: Any) -> dict[str, set[Any]]:
    """Column name -> categories known to an encoder inside the estimator (NaN left out)."""
    return {
        name: {c for c in categories if not is_missing(c)}
        for name, categories in encoder_category_lists(estimator).items()
    }


def encoder_category_lists(estimator: Any, columns: Sequence[str] | None = None) -> dict[str, list[Any]]:
    """Column name -> the categories the encoders inside the estimator learnt, in their order.

    NaN stays in the list (an encoder fitted on data with gaps knows it). ``columns`` names the
    estimator's input columns when it was fitted on an array, so positional selections get names.
    """
    known: dict[str, list[Any]] = {}
    for encoder, names in _encoders(estimator, columns):
        own = getattr(encoder, "feature_names_in_", None)
        names = [str(n) for n in own] if own is not None else names
        if names is None or len(names) != len(encoder.categories_):
            continue
        for name, categories in zip(names, encoder.categories_, strict=True):
            merged = known.setdefault(name, [])
            merged.extend(c for c in categories.tolist() if c not in merged)
    return known


def _encoders(estimator: Any, columns: Sequence[str] | None) -> Iterator[tuple[Any, Any]]:
    """Fitted encoders with the column names they received, where those can be told."""
    if isinstance(estimator, OneHotEncoder | OrdinalEncoder | TargetEncoder):
        if hasattr(estimator, "categories_"):
            yield estimator, columns
    elif isinstance(estimator, Pipeline):
        # Steps before an encoder (imputers) keep the columns, so the names carry through.
        for _, step in estimator.steps:
            yield from _encoders(step, columns)
    elif isinstance(estimator, ColumnTransformer):
        for _, transformer, cols in getattr(estimator, "transformers_", []):
            yield from _encoders(transformer, _selected_names(_as_list(cols), columns))


def _selected_names(selected: list[Any], columns: Sequence[str] | None) -> list[str] | None:
    """The names of a ColumnTransformer's selection: names as given, or positions looked up."""
    if all(isinstance(c, str) for c in selected):
        return selected
    positions = all(isinstance(c, int) and not isinstance(c, bool) for c in selected)
    if positions and columns is not None and all(0 <= c < len(columns) for c in selected):
        return [columns[c] for c in selected]
    return None


def _as_list(cols: Any) -> list[Any]:
    return list(cols) if isinstance(cols, list | tuple) or hasattr(cols, "tolist") else [cols]


def is_missing(value: Any) -> bool:
    """True for None and NaN, the values an encoder learns from gaps in its data."""
    return value is None or (isinstance(value, float) and value != value)


def class_path(obj: Any) -> str:
    """Where the object's class can be imported from: its public module when that exports the very
    same class (``sklearn.ensemble.HistGradientBoostingClassifier``), else its real module path."""
    cls = type(obj)
    parts = cls.__module__.split(".")
    private = next((i for i, part in enumerate(parts) if part.startswith("_")), len(parts))
    public = sys.modules.get(".".join(parts[:private])) if 0 < private < len(parts) else None
    found: Any = public
    for name in cls.__qualname__.split("."):
        found = getattr(found, name, None)
    if public is not None and found is cls:
        return f"{public.__name__}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"
