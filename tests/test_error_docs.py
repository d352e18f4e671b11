"""The error tables of the docs are the code's: docs/errors.md holds what api.wsgi.error_table
generates, and no other doc lists the statuses again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.wsgi.error_table import BEGIN, DOC, END, markdown, status_rows, with_tables
from api.wsgi.errors import ERROR_STATUS
from tests.conftest import ROOT


def test_docs_errors_md_holds_the_generated_tables() -> None:
    document = DOC.read_text(encoding="utf-8")
    assert BEGIN in document and END in document
    assert with_tables(document) == document, "run: python -m api.wsgi.error_table --write"


def test_every_mapped_status_is_in_the_table() -> None:
    listed = {status for status, _, _ in status_rows()}
    assert set(ERROR_STATUS.values()) <= listed
    for error in ERROR_STATUS:
        assert f"`{error.__name__}`" in markdown()


OTHER_DOCS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p != DOC)]


@pytest.mark.parametrize("path", OTHER_DOCS, ids=lambda p: p.name)
def test_no_other_doc_has_a_table_of_statuses(path: Path) -> None:
    rows = re.findall(r"^\| *(?:\*\*)?[45]\d\d\b", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert not rows, f"{path.name} lists statuses in a table: link to docs/errors.md instead"
