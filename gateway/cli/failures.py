"""How the CLI (``gateway/cli/``) fails: the exit statuses, and every error of the tree as one line on stderr.

``reported`` runs a command and is the one place a user's mistake (settings, files, arguments, settings the broker
or the endpoint refuse) becomes one line and exit 2, a Kafka broker that cannot be reached exit 3 and Ctrl-C 130;
nothing else is caught. Settings are named as the environment variables their user sets
(``GATEWAY_ECUAPASS__TOKEN_FILE``), which only the CLI does: the core names them by field path.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable

from pydantic import ValidationError
from pydantic_settings import SettingsError

from gateway.errors import ConfigurationError, KafkaUnavailableError
from gateway.runtime.logs import mask
from gateway.settings import Settings, environment_variable, setting_fields

PROG = "ecuapass-gateway"
EXIT_MISTAKE = 2  # settings, files or arguments; settings the broker or the endpoint refuse; invalid events
EXIT_KAFKA_UNAVAILABLE = 3  # no Kafka broker can be reached, or one stopped answering
EXIT_STATUS = f"""exit status:
  0    done
  1    nothing to show (case: no outcome known) or the demo failed (dev)
  {EXIT_MISTAKE}    a mistake in the settings, a file or the arguments, settings the broker or the endpoint refuse
       (TLS, SASL, token), or invalid events or documents (render, validate): one line on stderr says which
  {EXIT_KAFKA_UNAVAILABLE}    Kafka cannot be reached (connection refused, no answer, host unknown) or stopped
       answering: the settings may be right; try again once the broker is up
  130  interrupted (Ctrl-C)"""


def reported(command: Callable[[], int]) -> int:
    """``command``'s exit status, or that of the mistake it raised, told on one line of stderr."""
    try:
        return command()
    except KafkaUnavailableError as exc:
        return failed(str(exc), EXIT_KAFKA_UNAVAILABLE)
    except ConfigurationError as exc:
        return failed(exc.explain(environment_variable))
    except ValidationError as exc:
        return failed(invalid(exc))
    except SettingsError as exc:
        return failed(unparsable(exc))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        return failed(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))
    except KeyboardInterrupt:
        return 130


def failed(message: str, status: int = EXIT_MISTAKE) -> int:
    """``message`` on one line of stderr, after the program's name; ``status`` returned."""
    print(f"{PROG}: {' '.join(message.split())}", file=sys.stderr)  # one line, whatever the message holds
    return status


def invalid(exc: ValidationError) -> str:
    """Every problem of a settings model on one line, without the values given (they may be secrets); those of the
    gateway's ``Settings`` named as the environment variables its user sets."""
    ours = exc.title == Settings.__name__
    paths = [path for path, _ in setting_fields() if "." in path] if ours else []  # not "source": a plain word
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(part) for part in error["loc"]]
        agency = ""
        if ours and parts[:1] == ["agencies"] and len(parts) > 1:
            agency, parts[1] = f" (agency {mask(parts[1])})", "<RUC>"  # the RUC masked, as in logs
        where = ".".join(parts)
        cause = (error.get("ctx") or {}).get("error")
        text = str(cause) if error["type"] == "value_error" and cause is not None else error["msg"]
        text = ConfigurationError(text, fields=[path for path in paths if path in text]).explain(environment_variable)
        if where:
            text = f"{environment_variable(where) if ours else where}{agency}: {text}"
        problems.append(text)
    return f"invalid {'settings' if ours else exc.title}: " + "; ".join(problems)


def unparsable(exc: SettingsError) -> str:
    """pydantic-settings' failure to parse a variable (malformed JSON in a nested setting), named as the variable."""
    field = re.search(r'field "([^"]+)"', str(exc))
    where = environment_variable(field.group(1)) if field else "a GATEWAY_* variable"
    cause = exc.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"invalid settings: {where} is not valid JSON ({cause.msg} at line {cause.lineno} column {cause.colno})"
    return f"invalid settings: {where}: {cause or exc}"
