"""What is served: loading artifacts (path confined to the store, sha256 before unpickling, skops
or joblib), checking them against their features, the immutable ``Registry`` with aliases,
reloads that never drop what serves, the ``Predictor`` built once per version, and ``add``'s
introspection of a fitted estimator.

May import ``spec`` and ``schemas``; never ``batch``, ``api`` or ``cli``.
"""
