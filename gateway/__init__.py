"""Ecuapass régimen-51 gateway: canonical case events on Kafka in, XSD-valid e-documents filed, outcomes out."""

__version__ = "0.1.0"
