"""The ``model-registry`` command line: ``serve``, ``check``, ``add``, ``predict``.

The top layer: it may import ``api``, ``batch``, ``registry``, ``schemas`` and ``spec``; nothing
imports it. cli.entry_point is the console script and must stay light (see its docstring).
"""
