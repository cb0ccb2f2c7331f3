"""``python -m gateway.tools.asyncapi`` (``make docs``) regenerates ``contracts/asyncapi.yaml`` and prints its path."""

from gateway.tools.asyncapi.rendering import write

print(write())
