"""A version's registry facts in config.yaml: when ``add`` registered it and from what files."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

SHA256 = re.compile(r"[0-9a-f]{64}")
FACT_KEYS = ("added_at", "source", "sample_sha256")


def utc_timestamp(moment: dt.datetime) -> str:
    """``2026-12-07T06:01:08Z``: ``moment`` in UTC to the second, as ``added_at`` is written."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_facts(where: str, data: dict, problems: list[str]) -> dict[str, str | None]:
    """``added_at`` (normalised to UTC), ``source`` and ``sample_sha256`` of one version, each None
    when absent; every mistake is appended to ``problems``."""
    facts: dict[str, str | None] = dict.fromkeys(FACT_KEYS)
    facts["added_at"] = _timestamp(where, data.get("added_at"), problems)
    source = data.get("source")
    if source is not None and (not isinstance(source, str) or not source):
        problems.append(f"{where}source: must be the artifact's original file name")
    elif source is not None:
        facts["source"] = source
    digest = data.get("sample_sha256")
    if digest is not None and (not isinstance(digest, str) or not SHA256.fullmatch(digest.lower())):
        problems.append(f"{where}sample_sha256: must be 64 hexadecimal digits")
    elif digest is not None:
        facts["sample_sha256"] = digest.lower()
    return facts


def _timestamp(where: str, value: Any, problems: list[str]) -> str | None:
    """YAML reads an unquoted timestamp as a datetime and a quoted one as text: both are accepted,
    provided they carry a time zone."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(
            f"{where}added_at: must be an ISO 8601 time with its zone, such as 2026-12-07T06:01:08Z"
        )
        return None
    return utc_timestamp(moment)
