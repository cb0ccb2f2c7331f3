"""``python -m gateway.asyncapi`` (run by ``make docs``) regenerates ``contracts/asyncapi.yaml`` and prints its path."""

from gateway.asyncapi.rendering import write

print(write())
