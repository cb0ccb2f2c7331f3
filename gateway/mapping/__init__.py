"""Mappers: one module per e-document, each a pure function from a canonical event to a ``Document``."""
