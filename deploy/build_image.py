"""Build the server's image with podman on a machine that reaches no image registry.

The base image is built once from Debian's packages with mmdebstrap and kept under BASE_IMAGE.
The ``pip install`` inside the build reuses this machine's pip configuration, read at build time
with ``pip config list`` (files and PIP_* variables alike): it is written to a temporary pip.conf
that is mounted read-only, together with every local file and folder it names (CA bundle,
constraints, wheel folders), so no index host is ever written into the repository.

    python deploy/build_image.py [--base IMAGE] [--tag IMAGE]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE_REPOSITORY = "localhost/model-registry"
BASE_IMAGE = "localhost/debian-python:bookworm"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
# crun refuses this machine's cgroups, and higher limits than these are refused.
RUN_OPTIONS = ("--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
# Where the generated pip.conf is mounted inside the build; the Containerfile's ARG reads it.
BUILD_PIP_CONF = "/run/build-pip/pip.conf"


def image_name() -> str:
    """The tag the build gives the image and the manifests under deploy/ run: the package version."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        version = tomllib.load(file)["project"]["version"]
    return f"{IMAGE_REPOSITORY}:{version}"


def parse_pip_config(listing: str) -> dict[str, dict[str, str]]:
    """``pip config list`` output as {section: {key: value}}, PIP_* variables winning over files.

    pip prints the files' merged settings as ``section.key='value'`` and each PIP_* variable as
    ``:env:.key='value'``; a variable applies to every command, so it goes under [global] and
    replaces the same key in any section.
    """
    sections: dict[str, dict[str, str]] = {}
    from_env: dict[str, str] = {}
    for line in listing.splitlines():
        name, sep, quoted = line.partition("=")
        if not sep:
            continue
        section, _, key = name.rpartition(".")
        value = " ".join(shlex.split(quoted))
        if section == ":env:":
            from_env[key] = value
        else:
            sections.setdefault(section, {})[key] = value
    for key, value in from_env.items():
        for settings in sections.values():
            settings.pop(key, None)
        sections.setdefault("global", {})[key] = value
    return sections


def render_pip_conf(sections: dict[str, dict[str, str]]) -> str:
    lines: list[str] = []
    for section, settings in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in settings.items())
    return "\n".join(lines) + "\n"


def local_paths(sections: dict[str, dict[str, str]]) -> list[Path]:
    """Existing absolute paths named in the settings, to mount.

    For a ``file://`` index its parent folder is mounted: a local index's pages link to files
    beside it (``simple/flask/index.html`` -> ``../../files/...``).
    """
    found: set[Path] = set()
    for settings in sections.values():
        for value in settings.values():
            for word in value.split():
                path = Path(word.removeprefix("file://"))
                if word.startswith("file://"):
                    path = path.parent
                if path.is_absolute() and path.exists():
                    found.add(path.resolve())
    return sorted(found)


def machine_pip_config() -> dict[str, dict[str, str]]:
    listing = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], check=True, capture_output=True, text=True
    ).stdout
    return parse_pip_config(listing)


def ensure_base(base: str) -> None:
    """Build the Debian base with mmdebstrap unless podman already holds ``base``."""
    if subprocess.run(["podman", "image", "exists", base]).returncode == 0:
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        tar = Path(workdir) / "base.tar"
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(tar)],
            check=True,
        )
        subprocess.run(["podman", "import", str(tar), base], check=True, stdout=subprocess.DEVNULL)
    print(f"built base image {base} in {time.perf_counter() - started:.1f} s", flush=True)


def build_command(tag: str, base: str, pip_conf: Path, mounts: Sequence[Path]) -> list[str]:
    command = ["podman", "build", "--format", "docker", "--network", "host", *RUN_OPTIONS]
    command += ["--build-arg", f"BASE={base}", "--build-arg", f"PIP_CONFIG_FILE={BUILD_PIP_CONF}"]
    command += ["--volume", f"{pip_conf}:{BUILD_PIP_CONF}:ro"]
    for path in mounts:
        command += ["--volume", f"{path}:{path}:ro"]
    command += ["--file", str(ROOT / "Containerfile"), "--tag", tag, str(ROOT)]
    return command


def image_size(tag: str) -> int:
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Size}}", tag],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.strip())


def build(tag: str, base: str) -> None:
    ensure_base(base)
    sections = machine_pip_config()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        pip_conf = Path(workdir) / "pip.conf"
        pip_conf.write_text(render_pip_conf(sections))
        pip_conf.chmod(0o644)
        subprocess.run(build_command(tag, base, pip_conf, local_paths(sections)), check=True)
    elapsed = time.perf_counter() - started
    print(f"built {tag} in {elapsed:.1f} s; image size {image_size(tag) / 1e6:.0f} MB", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE_IMAGE, help="base image, built if missing")
    parser.add_argument("--tag", default=image_name(), help="image tag (default: %(default)s)")
    parser.add_argument("--print-image", action="store_true", help="print the default tag and exit")
    args = parser.parse_args(argv)
    if args.print_image:
        print(image_name())
        return 0
    build(args.tag, args.base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
