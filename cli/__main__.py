"""``python -m cli`` is the same as the ``model-registry`` command."""

from cli.entry_point import run

run()
