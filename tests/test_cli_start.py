"""The command line answers --help and --version without importing scikit-learn (seconds here)."""

from __future__ import annotations

import subprocess
import sys

from tests.live import COMMAND


def test_parsing_the_command_line_imports_no_model_library() -> None:
    probe = "import sys, cli.main; print(sorted({'sklearn', 'joblib', 'pandas'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_version_and_help_answer() -> None:
    version = subprocess.run([str(COMMAND), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("model-registry ")
    helped = subprocess.run([str(COMMAND), "add", "--help"], capture_output=True, text=True, check=True)
    assert "--sample" in helped.stdout and "Exit status" in helped.stdout
