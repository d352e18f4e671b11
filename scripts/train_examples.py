"""Train the example models and write model_store/ and config.yaml.

Data comes only from installed packages (scikit-learn's bundled iris and diabetes, the
palmerpenguins package's CSV); nothing is downloaded. Seeds are fixed, so with the same library
versions the artifacts come out byte for byte the same.

    python scripts/train_examples.py [--root DIR]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import joblib
import pandas as pd
import sklearn
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

PENGUIN_CATEGORIES = ["island", "sex"]
PENGUIN_NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]

CONFIG_TEMPLATE = """\
# Example store, written by scripts/train_examples.py (scikit-learn {sklearn_version}).
# Edit freely; rerunning the script rewrites this file with fresh checksums.
store: model_store

server:
  max_body_bytes: 8388608       # requests over 8 MiB get a 413

models:
  iris:
    description: Iris species from sepal and petal measurements (numeric features only).
    versions:
      "1":
        artifact: iris/1/model.joblib
        sha256: {iris_1}
        task: classification
        description: Logistic regression on the four measurements.
        features:
          - name: sepal_length_cm
            type: number
            minimum: 0
            maximum: 20
            description: Sepal length in centimetres
          - name: sepal_width_cm
            type: number
            minimum: 0
            maximum: 20
            description: Sepal width in centimetres
          - name: petal_length_cm
            type: number
            minimum: 0
            maximum: 20
            description: Petal length in centimetres
          - name: petal_width_cm
            type: number
            minimum: 0
            maximum: 20
            description: Petal width in centimetres

  penguins:
    description: Penguin species from island, sex and body measurements (Palmer Archipelago).
    default_version: "2"
    aliases:
      stable: "1"
    versions:
{penguin_versions}
  diabetes:
    description: Disease progression one year after baseline (a regressor).
    versions:
      "1":
        artifact: diabetes/1/model.joblib
        sha256: {diabetes_1}
        task: regression
        description: Gradient boosting on the raw (unscaled) clinical measurements.
        features:
          - name: age
            type: integer
            minimum: 0
            maximum: 120
            description: Age in years
          - name: sex
            type: category
            categories: [1, 2]
            description: Sex as coded in the study (1 or 2)
          - name: bmi
            type: number
            minimum: 10
            maximum: 70
            description: Body mass index
          - name: bp
            type: number
            minimum: 40
            maximum: 200
            description: Average blood pressure (mm Hg)
{diabetes_serum}"""

PENGUIN_VERSION_TEMPLATE = """\
      "{version}":
        artifact: penguins/{version}/model.joblib
        sha256: {sha256}
        task: classification
        description: {description}
        features:
          - name: island
            type: category
            categories: [Biscoe, Dream, Torgersen]
          - name: bill_length_mm
            type: number
            minimum: 0
            maximum: 100
            description: Bill length in millimetres
          - name: bill_depth_mm
            type: number
            minimum: 0
            maximum: 50
            description: Bill depth in millimetres
          - name: flipper_length_mm
            type: number
            minimum: 0
            maximum: 300
            description: Flipper length in millimetres
          - name: body_mass_g
            type: number
            minimum: 0
            maximum: 10000
            required: false
            description: Body mass in grams (optional; imputed when missing)
          - name: sex
            type: category
            categories: [female, male]
            required: false
            description: Sex of the penguin (optional)
"""


def train_iris() -> Pipeline:
    """Logistic regression on the iris measurements, class labels as species names."""
    data = load_iris(as_frame=True)
    X = data.data.set_axis(["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"], axis=1)
    y = data.target_names[data.target]
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


def penguin_pipeline(classifier: object) -> Pipeline:
    """One-hot island and sex (missing sex is a category of its own), impute and scale numbers."""
    preprocess = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), PENGUIN_CATEGORIES),
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                PENGUIN_NUMBERS,
            ),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def penguin_data() -> tuple[pd.DataFrame, pd.Series]:
    """The penguins CSV shipped with palmerpenguins, columns in the config's order."""
    frame = load_penguins()
    order = ["island", *PENGUIN_NUMBERS, "sex"]
    return frame[order], frame["species"]


def train_diabetes() -> GradientBoostingRegressor:
    """Gradient boosting on the unscaled diabetes measurements."""
    data = load_diabetes(as_frame=True, scaled=False)
    X = data.data.astype({"age": "int64", "sex": "int64"})
    return GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(X, data.target)


def dump(model: object, store: Path, relative: str) -> str:
    """Write the artifact and return its sha256."""
    path = store / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def diabetes_serum_features() -> str:
    lines = []
    for name in ["s1", "s2", "s3", "s4", "s5", "s6"]:
        lines += [
            f"          - name: {name}",
            "            type: number",
            "            minimum: 0",
            "            maximum: 1000",
            f"            description: Blood serum measurement {name}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    root = parser.parse_args().root
    store = root / "model_store"
    X, y = penguin_data()
    penguin_models = {
        "1": (
            penguin_pipeline(LogisticRegression(max_iter=1000)),
            "Logistic regression on one-hot island and sex and scaled measurements.",
        ),
        "2": (
            penguin_pipeline(RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0)),
            "Random forest on the same features.",
        ),
    }
    penguin_versions = []
    for version, (pipeline, description) in penguin_models.items():
        digest = dump(pipeline.fit(X, y), store, f"penguins/{version}/model.joblib")
        penguin_versions.append(
            PENGUIN_VERSION_TEMPLATE.format(version=version, sha256=digest, description=description)
        )
    config = CONFIG_TEMPLATE.format(
        sklearn_version=sklearn.__version__,
        iris_1=dump(train_iris(), store, "iris/1/model.joblib"),
        diabetes_1=dump(train_diabetes(), store, "diabetes/1/model.joblib"),
        penguin_versions="".join(penguin_versions),
        diabetes_serum=diabetes_serum_features(),
    )
    (root / "config.yaml").write_text(config, encoding="utf-8")
    print(f"wrote {store} and {root / 'config.yaml'} with scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
