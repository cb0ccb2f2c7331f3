"""The contract layer: what the gateway and the mock customs service both read and write, and nothing else.

    documents.py      one ``DocumentSpec`` per e-document: name, namespace, prefix, root element, XSD, sample number
    namespaces.py     the namespaces every document shares (common types, reply, signature) and ``PREFIXES``
    parsing.py        the one hardened XML parser (no DTD, no entities, no network, bounded size)
    schemas.py        the XSDs, compiled once (``compile_all`` at start-up); validation with reason, path and line
    replies.py        what customs answers (``CustomsReply`` and its parts) and its XML (``reply.xsd``)
    notifications.py  what customs tells on its own initiative: the catalogue of types, a notification
    feed.py           the feed that carries them and its XML (``notifications.xsd``), both ways
    certificates.py   which RUCs a signing certificate names
    customs_codes.py  the catalogue of customs' error codes
    codelists.py      the procedure's code lists (districts, ports, units, …)

Both sides build on it: the gateway attaches an event model and a mapper to each spec (``gateway.documents``), the
mock its business rules (``ecuapass_mock.procedures``). It imports nothing of the gateway but the error tree
(``gateway.errors``) and the data locator (``gateway.resources``): no events, mappers, Kafka or pipeline, so that
the mock, a separate service, loads none of them (``tests/unit/test_contract_layer.py``).
"""
