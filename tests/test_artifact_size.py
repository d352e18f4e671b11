"""An artifact is hashed in small blocks and refused above ``server.max_artifact_bytes`` before it
is read: a huge file where an artifact should be does not grow the process that loads or reloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from registry.loader import load_version
from spec.config import DEFAULT_MAX_ARTIFACT_BYTES, ServerSettings, VersionSpec

MiB = 1024 * 1024

# Loads the config, puts a sparse file of SIZE bytes in place of flowers/1's artifact (flowers/2
# loads the same file, without a checksum), reloads, and prints the peak RSS before and after.
RELOAD_SCRIPT = """
import json, resource, sys
from pathlib import Path
from registry.loader import load_registry
from registry.reload import reload_registry
from spec.config import read_config

config, size = Path(sys.argv[1]), int(sys.argv[2])
registry = load_registry(read_config(config))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
artifact = config.parent / "model_store" / "flowers" / "1" / "model.joblib"
artifact.unlink()
with artifact.open("wb") as file:
    file.truncate(size)
after = reload_registry(registry)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
errors = {f"{v.model}/{v.version}": v.reload_error for v in after.all_versions() if v.reload_error}
print(json.dumps({"before_kb": before, "after_kb": peak, "errors": errors}))
"""


def sparse_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk (and no time) to write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        file.truncate(size)
    return path


def test_an_artifact_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    size = DEFAULT_MAX_ARTIFACT_BYTES + 1
    sparse_file(tmp_path / "huge.joblib", size)
    version = load_version(VersionSpec("huge", "1", "huge.joblib", ()), tmp_path)
    limit = DEFAULT_MAX_ARTIFACT_BYTES
    assert version.reason == f"artifact: {size} bytes, over server.max_artifact_bytes ({limit}); not read"


def test_the_limit_is_the_configured_one(tmp_path: Path) -> None:
    sparse_file(tmp_path / "model.joblib", 1001)
    version = load_version(
        VersionSpec("m", "1", "model.joblib", ()), tmp_path, ServerSettings(max_artifact_bytes=1000)
    )
    assert version.reason == "artifact: 1001 bytes, over server.max_artifact_bytes (1000); not read"


def test_a_reload_does_not_read_a_whole_artifact_into_the_process(tiny_store: Path) -> None:
    size = 256 * MiB
    run = subprocess.run(
        [sys.executable, "-c", RELOAD_SCRIPT, str(tiny_store), str(size)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert set(result["errors"]) == {"flowers/1", "flowers/2"}
    assert result["errors"]["flowers/1"].startswith("sha256: mismatch")
    assert result["errors"]["flowers/2"].startswith("artifact: cannot be unpickled")
    grown_mb = (result["after_kb"] - result["before_kb"]) / 1024
    assert grown_mb < 64, f"the peak RSS grew by {grown_mb:.0f} MB reloading a {size // MiB} MB artifact"
