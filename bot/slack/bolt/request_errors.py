"""What a failure inside Bolt's dispatch becomes, in both modes: the one guard around every
listener, matcher and middleware.

- No listener takes the request (an unknown action id, an event not subscribed): 404 and one
  short line, not Bolt's multi-line suggestion with the body in it.
- A body whose shape was not what the code reading it expected, found before the listener
  acknowledged (the strict decoder in `request_body` checks the shapes listeners read, so this
  is what it missed): 400 and one short WARNING naming the error and the line that met it,
  never a traceback. Such errors are the ones Python raises for a value of the wrong type or
  a missing key (`AttributeError`, `TypeError`, `KeyError`, `IndexError`, `ValueError`); the
  bot's own code is checked by mypy --strict, so on this path they come from the body, which
  is typed `Any`. The file and line in the warning are enough to find a bug all the same.
- Anything else (the store down, a bug after the ack): 500 and an ERROR with its traceback.
"""

from __future__ import annotations

import logging
import sysconfig
from types import TracebackType
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.ops.limited_log import LimitedLog

log = logging.getLogger("bot.slack.front.front_door")  # the logger of every other refusal

SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


_refused = LimitedLog(log)


def refuse(error: BaseException) -> BoltResponse:
    """A 400 for a body the code reading it could not use, said in one line."""
    _refused.warning(
        "refused a signed request: its body is not as expected (%s at %s) (400)",
        type(error).__name__,
        where(error.__traceback__),
    )
    return BoltResponse(status=400, body="")


def install(app: AsyncApp) -> None:
    unhandled = LimitedLog(log)

    async def on_error(
        error: Exception, body: dict[str, Any], request: AsyncBoltRequest
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            kind = body.get("type") or body.get("command") or "?"
            unhandled.warning("no handler for this request (%.40r)", kind)  # repr: one line
            return None
        if isinstance(error, SHAPE_ERRORS) and not acknowledged(request):
            return refuse(error)
        log.error("request handler failed: %s", type(error).__name__, exc_info=error)
        return None

    app.error(on_error)


def acknowledged(request: AsyncBoltRequest) -> bool:
    ack = request.context.get("ack")
    return ack is not None and getattr(ack, "response", None) is not None


def where(traceback: TracebackType | None) -> str:
    """`module:line` of the innermost frame of the app's own code (not Python's nor a
    library's; else the innermost): the line that met the unexpected value."""
    found = "?"
    while traceback is not None:
        frame = traceback.tb_frame
        module = str(frame.f_globals.get("__name__", "?"))
        own = module.startswith("bot.") or not frame.f_code.co_filename.startswith(_LIBRARIES)
        if found == "?" or own:  # the bot may be installed among the libraries (a wheel)
            found = f"{module}:{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return found


_LIBRARIES = tuple(
    {sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
)
