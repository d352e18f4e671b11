"""``python -m api`` is the same as the ``model-registry`` command."""

from api.entry_point import run

run()
