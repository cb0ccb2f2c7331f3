"""The mock Ecuapass endpoint: a stateful, rule-enforcing customs service for tests, demos and certification.

A separate service, not a part of the gateway: it shares only the contract layer with it (``gateway.contract``:
document specifications, XML parsing, schemas, replies, code catalogues) and never sees the gateway's events,
mappers or Kafka entrypoint (``tests/unit/test_contract_layer.py`` fails if it loads them).

    app.py          the ASGI app: ``create_app`` puts the route groups together
    api.py          the customs API: filing, status queries (bearer tokens and client certificates: ``access.py``)
    feed.py         the customs API's notification feed, pulled per agency (``NOTIFICATIONS.md``)
    admin.py        the mock's own tooling: admin routes (notification injection: ``injection.py``), metrics, health
    filing.py       what customs does with one received document, independent of HTTP
    procedures/     one ``Procedure`` per document: its rules and numbering (the mock's registry of documents)
    lifecycle.py    what customs does after a warehouse entry, per inspection channel: the case's notifications
    scenarios.py    magic values in references that choose a case's path;  outbox.py  publication and feed pages
    signatures.py   the check of a document's XAdES signature
    faults.py       fault injection;  store.py  SQLite state;  metrics.py  Prometheus;  settings.py  MOCK_*
    server.py       serving it with uvicorn (HTTPS, client certificates)
"""
