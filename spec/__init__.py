"""The plain data every layer reads: the config file's dataclasses, feature declarations, the
domain exceptions, and the one ordering of version names.

The bottom layer: imports nothing of ours (nor Flask, nor scikit-learn). Layers run one way:
spec <- schemas <- registry <- {batch, api} <- cli (tests/test_layers.py states the rule).
"""
