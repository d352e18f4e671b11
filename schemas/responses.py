"""Schemas of the API's responses: they dump the GET bodies and document every body in OpenAPI."""

from __future__ import annotations

from marshmallow import Schema, fields


class FeatureInfoSchema(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": ["number", "integer", "boolean", "category"]})
    required = fields.Boolean(required=True)
    categories = fields.List(fields.Raw(), allow_none=True)
    minimum = fields.Float(allow_none=True)
    maximum = fields.Float(allow_none=True)
    description = fields.String(allow_none=True)


class ArtifactInfoSchema(Schema):
    path = fields.String(required=True)
    sha256 = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sklearn_version = fields.String(
        required=True, metadata={"description": "The scikit-learn version that pickled it"}
    )
    estimator_type = fields.String(required=True)
    final_estimator = fields.String(required=True)


class VersionStatusSchema(Schema):
    version = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["available", "failed"]})
    reason = fields.String(allow_none=True, metadata={"description": "Why it failed to load"})
    reload_error = fields.String(
        allow_none=True,
        metadata={"description": "Why the last reload could not replace it (the previous load still serves)"},
    )
    aliases = fields.List(fields.String(), required=True)


class VersionDetailSchema(VersionStatusSchema):
    model = fields.String(required=True)
    task = fields.String(allow_none=True, metadata={"enum": ["classification", "regression"]})
    description = fields.String(allow_none=True)
    features = fields.List(fields.Nested(FeatureInfoSchema), required=True)
    labels = fields.List(fields.Raw(), allow_none=True, metadata={"description": "Class labels"})
    artifact = fields.Nested(ArtifactInfoSchema, allow_none=True)
    predict_url = fields.String(required=True)
    added_at = fields.String(
        allow_none=True,
        metadata={"format": "date-time", "description": "When `add` registered it (UTC)"},
    )
    source = fields.String(allow_none=True, metadata={"description": "The artifact's original file name"})
    sample_sha256 = fields.String(
        allow_none=True, metadata={"description": "SHA-256 of the sample its features were inferred from"}
    )


class ModelSummarySchema(Schema):
    name = fields.String(required=True)
    description = fields.String(required=True)
    versions = fields.List(fields.String(), required=True)
    default_version = fields.String(required=True)
    latest_version = fields.String(required=True)
    aliases = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class ModelListSchema(Schema):
    models = fields.List(fields.Nested(ModelSummarySchema), required=True)


class TrafficSchema(Schema):
    weights = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "The configured split of requests that name no version"},
    )
    shares = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata={"description": "Percent of them each version serves now (failed versions get none)"},
    )
    excluded = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Versions with a weight that take no share, and why"},
    )
    shadow = fields.String(allow_none=True, metadata={"description": "The version that shadows them"})
    shadow_status = fields.String(allow_none=True)
    shadow_tolerance = fields.Float()
    shadow_rows = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        allow_none=True,
        metadata={"description": "Rows the shadow saw so far (all workers): agree, disagree, error, dropped"},
    )
    agreement = fields.Float(
        allow_none=True, metadata={"description": "agree / (agree + disagree) so far; null before any row"}
    )


class ModelDetailSchema(ModelSummarySchema):
    versions = fields.List(fields.Nested(VersionStatusSchema), required=True)
    traffic = fields.Nested(
        TrafficSchema, allow_none=True, metadata={"description": "The split and the shadow; null without"}
    )
    reload_error = fields.String(
        allow_none=True,
        metadata={"description": "Why the last reload of the config failed (nothing changed)"},
    )


class PredictionSchema(Schema):
    label = fields.Raw(metadata={"description": "Predicted class (classifiers)"})
    probabilities = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata={"description": "Probability of each class, keyed by label"},
    )
    value = fields.Raw(metadata={"description": "Predicted value (regressors)"})


class PredictionResponseSchema(Schema):
    model = fields.String(required=True)
    version = fields.String(
        required=True, metadata={"description": "The version that served (aliases resolved)"}
    )
    predictions = fields.List(fields.Nested(PredictionSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    versions_available = fields.Integer()
    versions_failed = fields.Integer()
    failed = fields.List(
        fields.String(), metadata={"description": "Versions that failed: model/version: reason"}
    )
    reload_errors = fields.List(
        fields.String(),
        metadata={
            "description": "Versions a reload could not replace (the previous load serves): "
            "model/version: reason"
        },
    )
    reload_error = fields.String(allow_none=True, metadata={"description": "Why the last reload failed"})
    traffic = fields.List(
        fields.String(),
        metadata={"description": "Traffic weights a failed version cannot take, and shadows that cannot run"},
    )
    message = fields.String(allow_none=True, metadata={"description": "Set when there are no models yet"})
    store_error = fields.String(
        allow_none=True,
        metadata={
            "description": "With --watch on a remote config: why the last poll failed (what serves is kept)"
        },
    )
    last_good_poll = fields.String(
        allow_none=True,
        metadata={"description": "With --watch on a remote config: when a poll last succeeded"},
    )
