"""The plain data every layer reads: the config file's dataclasses, feature declarations, the
domain exceptions, and the one ordering of version names.

The bottom layer: imports nothing from ``schemas``, ``registry`` or ``api`` (nor Flask, nor
scikit-learn). Layers run one way: spec <- schemas <- registry <- api.
"""
