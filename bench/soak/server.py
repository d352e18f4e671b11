"""The soak's server: the copied store, the one reload (a version added, SIGHUP) and the server's log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.harness import Server, children
from bench.soak.cases import NEW_VERSION, RELOADED_MODEL, SOURCE_VERSION

WORKERS = 2
RELOAD_MARGIN_S = 5.0
RELOAD_TIMEOUT_S = 60.0
CHECKS_IN_A_ROW = 20


def copy_store(config: Path, folder: Path) -> Path:
    """Copy ``config`` and the store folder it names into ``folder``; the copy's config path."""
    store = yaml.safe_load(config.read_text()).get("store", "model_store")
    if Path(store).is_absolute():
        raise ValueError(f"{config}: the soak copies the store, so 'store' must be relative (got {store})")
    shutil.copytree(config.parent / store, folder / store)
    shutil.copy2(config, folder / config.name)
    return folder / config.name


def add_version(config: Path) -> None:
    """Declare penguins version 3 in ``config``: version 2's artifact and sha256 under a new number."""
    data = yaml.safe_load(config.read_text())
    versions = data["models"][RELOADED_MODEL]["versions"]
    versions[NEW_VERSION] = {
        **versions[SOURCE_VERSION],
        "description": "Version 2's artifact, added by the soak.",
    }
    staged = config.with_name(config.name + ".new")
    staged.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(staged, config)


def listed_versions(server: Server) -> list[str]:
    """The versions ``GET /models/penguins`` lists (none if it did not answer 200)."""
    try:
        with urllib.request.urlopen(server.url + f"/models/{RELOADED_MODEL}", timeout=5) as response:
            return [version["version"] for version in json.load(response)["versions"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


@dataclass
class Reload:
    """The one reload: when SIGHUP was sent and when every worker was seen on the new set (s after
    the load began), how many checks that took, and the workers before and after."""

    sent_s: float
    settled_s: float | None = None
    checks: int = 0
    old_workers: list[int] = field(default_factory=list)
    new_workers: list[int] = field(default_factory=list)

    @property
    def window(self) -> tuple[float, float]:
        """From ``RELOAD_MARGIN_S`` before SIGHUP to as long after every worker was on the new set."""
        end = self.settled_s if self.settled_s is not None else self.sent_s + RELOAD_TIMEOUT_S
        return self.sent_s - RELOAD_MARGIN_S, end + RELOAD_MARGIN_S


def reload_server(server: Server, config: Path, began: float) -> Reload:
    """Add penguins version 3 to the copied config, SIGHUP the master, and wait until every worker serves it.

    Settled means both: none of the workers from before the reload is alive and ``WORKERS`` are (gunicorn
    replaced them by forks of the reloaded master), and ``CHECKS_IN_A_ROW`` answers in a row of
    ``GET /models/penguins`` list version 3. ``settled_s`` stays ``None`` if that takes over
    ``RELOAD_TIMEOUT_S``.
    """
    old = children(server.pid)
    add_version(config)
    sent = time.monotonic()
    server.process.send_signal(signal.SIGHUP)
    reload = Reload(sent - began, old_workers=old)
    in_a_row = 0
    while time.monotonic() - sent < RELOAD_TIMEOUT_S:
        workers = children(server.pid)
        reload.checks += 1
        in_a_row = in_a_row + 1 if NEW_VERSION in listed_versions(server) else 0
        if in_a_row >= CHECKS_IN_A_ROW and len(workers) == WORKERS and not set(workers) & set(old):
            reload.settled_s, reload.new_workers = time.monotonic() - began, workers
            break
        time.sleep(0.05)
    return reload


def reload_outcome(reload: Reload | None) -> tuple[str, bool]:
    """How the reload went, in words, and whether it reached every worker in time."""
    if reload is None:
        return "no reload happened", False
    if reload.settled_s is None:
        return f"not settled {RELOAD_TIMEOUT_S:.0f} s after SIGHUP", False
    return f"settled {reload.settled_s - reload.sent_s:.1f} s after SIGHUP", True


def scan_log(path: Path) -> Counter[str]:
    """What the server's log says about its workers: boots, timeouts, tracebacks, errors."""
    text = path.read_text(errors="replace")
    return Counter(
        {
            "workers booted": text.count("Booting worker"),
            "worker timeouts": text.count("WORKER TIMEOUT"),
            "tracebacks": text.count("Traceback"),
            "ERROR or CRITICAL lines": sum(
                "[ERROR]" in line or " ERROR " in line or "CRITICAL" in line for line in text.splitlines()
            ),
        }
    )
