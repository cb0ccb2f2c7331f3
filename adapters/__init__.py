"""What the gateway uses to talk to the outside world: the customs endpoint client over HTTP, its per-agency router,
and ``FakeCustomsEndpoint`` for tests. The mock customs service is not an adapter: it is its own service
(``ecuapass_mock``)."""
