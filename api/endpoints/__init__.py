"""The GET endpoints and pages: model descriptions, health, V2 metadata, the home page and the
OpenAPI docs."""
