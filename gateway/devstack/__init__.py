"""The embedded dev stack behind `make run`: a Tansu broker, the mock endpoint and the gateway, on 127.0.0.1."""
