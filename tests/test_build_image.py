"""deploy/build_image.py's handling of the machine's pip configuration, and the build context."""

from __future__ import annotations

import tomllib
from pathlib import Path

from deploy.build_image import BUILD_PIP_CONF, build_command, local_paths, parse_pip_config, render_pip_conf

ROOT = Path(__file__).resolve().parent.parent

LISTING = """\
:env:.cert='/etc/ssl/certs/ca-certificates.crt'
:env:.find-links='/opt/wheels'
global.cert='/old/bundle.pem'
global.extra-index-url='file:///opt/pypi/simple https://mirror.invalid/simple'
install.find-links='/elsewhere'
install.no-compile='true'
"""


def test_variables_win_over_files_in_every_section() -> None:
    assert parse_pip_config(LISTING) == {
        "global": {
            "cert": "/etc/ssl/certs/ca-certificates.crt",
            "extra-index-url": "file:///opt/pypi/simple https://mirror.invalid/simple",
            "find-links": "/opt/wheels",
        },
        "install": {"no-compile": "true"},
    }


def test_renders_an_ini_file() -> None:
    sections = {"global": {"cert": "/ca.pem", "timeout": "60"}, "install": {"no-compile": "true"}}
    assert (
        render_pip_conf(sections) == "[global]\ncert = /ca.pem\ntimeout = 60\n[install]\nno-compile = true\n"
    )


def test_mounts_existing_local_paths_and_a_file_index_with_its_files(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    index = tmp_path / "pypi" / "simple"
    index.mkdir(parents=True)
    sections = {
        "global": {
            "cert": str(bundle),
            "extra-index-url": f"file://{index} https://mirror.invalid/simple",
            "find-links": str(tmp_path / "missing"),
            "timeout": "60",
        }
    }
    assert local_paths(sections) == sorted([bundle, tmp_path / "pypi"])


def test_build_mounts_read_only_and_keeps_the_healthcheck(tmp_path: Path) -> None:
    command = build_command("img:1", "base:1", tmp_path / "pip.conf", [Path("/ca.pem")])
    assert command[:4] == ["podman", "build", "--format", "docker"]
    assert f"{tmp_path / 'pip.conf'}:{BUILD_PIP_CONF}:ro" in command
    assert "/ca.pem:/ca.pem:ro" in command
    assert f"PIP_CONFIG_FILE={BUILD_PIP_CONF}" in command
    assert "BASE=base:1" in command


def test_build_context_keeps_every_package() -> None:
    """.containerignore is a deny-list: a package folder must never match it."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        packages = tomllib.load(file)["tool"]["setuptools"]["packages"]
    ignored = {line.strip() for line in (ROOT / ".containerignore").read_text().splitlines() if line.strip()}
    assert {".venv", ".git", "tests", "bench"} <= ignored
    assert not ignored & {
        *packages,
        "config.yaml",
        "model_store",
        "pyproject.toml",
        "constraints.txt",
        "README.md",
    }
    assert (ROOT / ".dockerignore").read_text() == (ROOT / ".containerignore").read_text()
