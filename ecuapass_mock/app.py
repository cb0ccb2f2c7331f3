"""The mock Ecuapass endpoint over HTTP (ASGI): the customs API (``api.py``) and the mock's own tooling
(``admin.py``: admin routes, metrics, health), over one store, one fault injector and one set of metrics.

The API routes (``/api/v1/...``) answer 401 without the bearer token given as ``require_token`` (one token, or
several by client name: one per agency), and 403 without a client certificate when ``client_certificates`` (the
server asks for them, see ``server.py``); the admin, metrics and health routes stay open. ``signatures`` says which
CAs the signature check trusts and whether documents must be signed (``signatures.py``); ``procedures`` which
documents the mock knows (``procedures.PROCEDURES``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from ecuapass_mock.access import Access
from ecuapass_mock.admin import Admin
from ecuapass_mock.api import Customs, CustomsApi
from ecuapass_mock.faults import FaultInjector
from ecuapass_mock.metrics import MockMetrics
from ecuapass_mock.procedures import PROCEDURES, Procedure
from ecuapass_mock.signatures import SignatureCheck
from ecuapass_mock.store import FilingStore
from gateway.contract.schemas import compile_all


def create_app(
    store: FilingStore,
    *,
    clock: Callable[[], datetime] | None = None,
    seed: int = 51,
    faults: FaultInjector | None = None,
    decision_delay_s: float = 0.0,
    require_token: str | Mapping[str, str] | None = None,
    client_certificates: bool = False,
    signatures: SignatureCheck | None = None,
    procedures: Sequence[Procedure] = PROCEDURES,
) -> Starlette:
    """The ASGI app over ``store``. ``seed`` makes the inspection-channel draw reproducible; the server that runs
    the app sets ``app.state.abort`` to a function that resets a request's connection, and
    ``app.state.client_certificate`` to one that tells whether it came with a client certificate (``server.py``).
    Every XSD of ``procedures`` is compiled now: a broken one is a ``ConfigurationError`` naming the file."""
    compile_all(procedure.spec for procedure in procedures)
    customs = Customs(
        store,
        clock or (lambda: datetime.now(UTC)),
        seed,
        timedelta(seconds=decision_delay_s),
        signatures,
        tuple(procedures),
    )
    injector = faults or FaultInjector()
    metrics = MockMetrics()
    filed_by: dict[str, str] = {}  # message id -> name of the token that filed it (first filing)
    access = Access(require_token, client_certificates=client_certificates)
    api = CustomsApi(customs, access, injector, metrics, filed_by)
    app = Starlette(routes=[*api.routes(), *Admin(store, injector, metrics, filed_by).routes()])
    app.state.abort = lambda request: None  # replaced by the server that runs the app
    app.state.client_certificate = lambda request: False  # likewise
    return app
