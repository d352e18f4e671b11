"""Domain exceptions. They carry structured fields and know nothing of HTTP.

* RegistryError
  x ConfigError             start-up: the config file is unreadable or wrong (names model, version, key)
  x ArtifactError           loading one version failed (the version is then marked ``failed``)
  x UnknownModelError       a request names a model the registry does not have
  x UnknownVersionError     a request names a version or alias the model does not have
  x VersionUnavailableError a request names a version that failed to load
    x VersionNotReadyError  a readiness check names a version that failed to load
  x InvalidInputError       a request body does not fit the envelope or the version's schema
  x PredictionError         the estimator raised on input that passed validation
  x TooManyRowsError        a request carries more rows than server.max_rows
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class RegistryError(Exception):
    """Base of every error the registry reports; ``message`` is for humans."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RegistryError):
    """Raised while reading the config: every problem found, each naming model, version and key."""

    def __init__(self, problems: Iterable[str], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n{lines}")


class ArtifactError(RegistryError):
    """Raised while loading one version; the loader turns it into a ``failed`` status."""

    def __init__(self, model: str, version: str, key: str, reason: str) -> None:
        self.model, self.version, self.key, self.reason = model, version, key, reason
        super().__init__(f"{model}/{version}: {key}: {reason}")


class UnknownModelError(RegistryError):
    """Raised when a request names a model that is not in the registry."""

    def __init__(self, model: str, known: Iterable[str]) -> None:
        self.model, self.known = model, sorted(known)
        super().__init__(f"Unknown model '{model}'. Models: {', '.join(self.known) or 'none'}.")


class UnknownVersionError(RegistryError):
    """Raised when a request names a version or alias the model does not have."""

    def __init__(self, model: str, version: str, versions: Iterable[str], aliases: Iterable[str]) -> None:
        self.model, self.version = model, version
        self.versions, self.aliases = list(versions), sorted(aliases)
        super().__init__(
            f"Unknown version '{version}' of model '{model}'. "
            f"Versions: {', '.join(self.versions)}. Aliases: {', '.join(self.aliases)}."
        )


class VersionUnavailableError(RegistryError):
    """Raised when a request names a version that failed to load."""

    def __init__(self, model: str, version: str, reason: str) -> None:
        self.model, self.version, self.reason = model, version, reason
        super().__init__(f"Version '{version}' of model '{model}' is unavailable: {reason}")


class VersionNotReadyError(VersionUnavailableError):
    """Raised when a readiness check names a version that failed to load: the answer is "no", not a
    failure to serve."""


class InvalidInputError(RegistryError):
    """Raised when a request body is not acceptable; ``errors`` maps (row and) feature to messages."""

    def __init__(
        self, message: str, errors: Mapping[str, Any] | None = None, rejected: Mapping[str, int] | None = None
    ) -> None:
        self.errors = dict(errors) if errors else {}
        self.rejected = dict(rejected) if rejected else {}  # feature -> how many of its values failed
        super().__init__(message)


class PredictionError(RegistryError):
    """Raised when an estimator fails on input that passed validation (a model or config fault)."""

    def __init__(self, model: str, version: str, reason: str) -> None:
        self.model, self.version, self.reason = model, version, reason
        super().__init__(f"Model '{model}' version '{version}' failed to predict: {reason}")


class TooManyRowsError(RegistryError):
    """Raised when a request carries more rows than the server accepts in one request."""

    def __init__(self, rows: int, limit: int) -> None:
        self.rows, self.limit = rows, limit
        super().__init__(
            f"The request has {rows} rows; the limit is {limit} (server.max_rows). Send smaller batches."
        )
