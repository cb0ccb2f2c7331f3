"""The mock Ecuapass endpoint over HTTP (ASGI): the customs API (``api.py``: filing and status; ``feed.py``: the
notification feed) and the mock's own tooling (``admin.py``: admin routes, metrics, health), over one store, one
fault injector, one set of metrics and one outbox of notifications (``outbox.py``).

The API routes (``/api/v1/...``) answer 401 without the bearer token given as ``require_token`` (one token, or
several by client name: one per agency), and 403 without a client certificate when ``client_certificates`` (the
server asks for them, see ``server.py``); the admin, metrics and health routes stay open. ``signatures`` says which
CAs the signature check trusts and whether documents must be signed (``signatures.py``); ``procedures`` which
documents the mock knows (``procedures.PROCEDURES``); ``lifecycle`` the pace of customs after a warehouse entry
(``lifecycle.py``) and ``feed`` the feed's retention and page sizes (``MockSettings`` holds both).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from ecuapass_mock.access import Access
from ecuapass_mock.admin import Admin
from ecuapass_mock.api import Customs, CustomsApi
from ecuapass_mock.faults import FaultInjector
from ecuapass_mock.feed import FeedSettings, NotificationFeed
from ecuapass_mock.lifecycle import LifecycleSettings
from ecuapass_mock.metrics import MockMetrics
from ecuapass_mock.outbox import Outbox
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
    lifecycle: LifecycleSettings | None = None,
    feed: FeedSettings | None = None,
) -> Starlette:
    """The ASGI app over ``store``. ``seed`` makes the inspection-channel draw reproducible; the server that runs
    the app sets ``app.state.abort`` to a function that resets a request's connection, and
    ``app.state.client_certificate`` to one that tells whether it came with a client certificate (``server.py``).
    Every XSD of ``procedures`` is compiled now (and the reply's and the feed's): a broken one is a
    ``ConfigurationError`` naming the file."""
    compile_all(procedure.spec for procedure in procedures)
    lifecycle = lifecycle or LifecycleSettings()
    feed = feed or FeedSettings()
    now = clock or (lambda: datetime.now(UTC))
    customs = Customs(store, now, seed, timedelta(seconds=decision_delay_s), signatures, tuple(procedures), lifecycle)
    injector = faults or FaultInjector()
    metrics = MockMetrics()
    access = Access(require_token, client_certificates=client_certificates)
    outbox = Outbox(store, now, timedelta(days=feed.retention_days))
    routes = [
        *CustomsApi(customs, access, injector, metrics).routes(),
        *NotificationFeed(outbox, feed, access, injector, metrics, now).routes(),
        *Admin(store, injector, metrics, outbox, lifecycle.timings()).routes(),
    ]
    app = Starlette(routes=routes)
    app.state.abort = lambda request: None  # replaced by the server that runs the app
    app.state.client_certificate = lambda request: False  # likewise
    return app
