"""Request schemas and validation: one marshmallow schema per version built from its features
(the reference that words every message), the column-wise checks that serve, request envelopes
and V2 tensors, the bounded 400, and the response schemas the OpenAPI document shows.

May import ``spec`` only (and marshmallow, numpy); never ``registry``, ``batch``, ``api`` or ``cli``.
"""
