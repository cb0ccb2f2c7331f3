"""XML toolkit shared by the mappers, the HTTP adapter and the mock: namespaces, hardened parsing, schemas."""
