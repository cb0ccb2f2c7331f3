"""One test harness, two brokers: the gateway's flow tests, written once, run in memory and on Tansu.

    bodies.py    the shared test bodies (``GatewayCases``)
    brokers.py   what a body needs of a broker (``Broker``), in memory (``InMemory``) and on Tansu (``OnTansu``)
    memory.py    Kafka in memory: partitions, offsets, a group that rebalances, commits, redelivery
    customs.py   the mock customs service, in process or over HTTP
    waiting.py   ``eventually()``: wait for what can be observed, never for a fixed time

Run by ``tests/unit/test_gateway_in_memory.py`` (no socket) and ``tests/integration/test_gateway_on_tansu.py``.
"""
