"""``python -m api`` is the same as the ``model-registry`` command."""

from api.cli import run

run()
