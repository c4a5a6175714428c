"""Strict decoding of a signed Slack request body, and a check of its documented shape.

Only what Slack sends gets through: UTF-8 (no other charset), a form for slash commands and
interactivity (``payload=`` holding one JSON object), JSON objects for the Events API, nesting
bounded, and the fields Bolt's routing and the handlers rely on of the types Slack documents
(`actions` a non-empty list of objects with an `action_id`, `event` an object with a `type`,
`team`/`user`/`channel` objects in interactive payloads, ...). Anything else raises
`Malformed` with a short reason that names what was wrong, never the body. Pure: no I/O.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NoReturn
from urllib.parse import unquote, unquote_to_bytes

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.slack.delivery.response_url import response_url_allowed

MAX_DEPTH = 64
MAX_FORM_FIELDS = 100
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class Malformed(ValueError):
    """A body that is not what Slack sends; the message says what, in a few words."""

    envelope_id: str | None = None  # Socket Mode: the envelope to ack all the same


Obj = dict[str, Any]
StrOrObj = str | Obj | None


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _ResponseUrl(_Shape):
    response_url: str


class _Ctx(_Shape):
    """The fields Bolt reads to build its context, wherever it looks for them."""

    enterprise: StrOrObj = None
    team: StrOrObj = None
    user: StrOrObj = None
    channel: StrOrObj = None
    # Ids Bolt copies into its context (the app keeps a client per `team_id`: a key).
    team_id: str | None = None
    enterprise_id: str | None = None
    user_id: str | None = None
    channel_id: str | None = None
    user_team: str | None = None
    is_enterprise_install: bool | str | None = None  # a form says "false"
    is_ext_shared_channel: bool | str | None = None
    authorizations: list[_Ctx] | None = None
    message: _Ctx | None = None
    previous_message: _Ctx | None = None
    item: _Ctx | None = None
    assistant_thread: _Ctx | None = None


class _Top(_Ctx):
    """What Bolt reads at the top of any body, whatever came in: it routes on `type` alone
    (a JSON body of type `block_actions` is an action to Bolt), so each kind of body names
    only the types it may carry."""

    response_url: str | None = None
    response_urls: list[_ResponseUrl] = Field(default_factory=list)  # Bolt takes len() of it


class _Event(_Ctx):
    type: str
    text: str = ""  # Bolt's message matching runs a regular expression over it
    # What the message listeners read to decide whether to answer at all.
    subtype: str | None = None
    bot_id: str | None = None
    bot_profile: Obj | None = None
    app_id: str | None = None
    channel_type: str | None = None
    ts: str | None = None
    thread_ts: str | None = None


class _EventsBody(_Top):
    type: Literal["event_callback", "url_verification", "app_rate_limited"]
    event: _Event | None = None
    challenge: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> _EventsBody:
        if self.type == "event_callback" and self.event is None:
            raise ValueError("event_callback without an event object")
        if self.type == "url_verification" and self.challenge is None:
            raise ValueError("url_verification without a challenge")
        return self


class _Action(_Shape):
    action_id: str
    block_id: str | None = None


class _ViewState(_Shape):
    """`values`: block id -> action id -> the element's state, as every input reports it."""

    values: dict[str, dict[str, Obj]] = Field(default_factory=dict)


class _View(_Shape):
    type: str  # "modal" or "home": Slack sends it on every view
    id: str | None = None
    callback_id: str | None = None
    team_id: str | None = None
    app_installed_team_id: str | None = None
    state: _ViewState | None = None


class _Interactive(_Top):
    type: Literal[
        "block_actions",
        "block_suggestion",
        "message_action",
        "shortcut",
        "view_submission",
        "view_closed",
    ]
    enterprise: Obj | None = None
    team: Obj | None = None
    user: Obj | None = None
    channel: Obj | None = None
    container: Obj | None = None
    message: _Ctx | None = None
    view: _View | None = None
    actions: list[_Action] | None = None
    action_id: str | None = None  # block_suggestion
    callback_id: str | None = None
    trigger_id: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> _Interactive:
        if self.type == "block_actions" and not self.actions:
            raise ValueError("block_actions without actions")
        if self.type == "block_suggestion" and self.action_id is None:
            raise ValueError("block_suggestion without an action_id")
        if self.type in {"shortcut", "message_action"} and self.callback_id is None:
            raise ValueError(f"{self.type} without a callback_id")
        if self.type == "message_action" and None in (
            self.channel,
            self.message,
            self.response_url,
        ):
            raise ValueError("message_action without its channel, message or response_url")
        if self.type in {"view_submission", "view_closed"} and (
            self.view is None or not self.view.callback_id or not self.view.id
        ):
            raise ValueError(f"{self.type} without a view id and callback_id")
        return self


class _Command(_Top):
    type: None = None  # Bolt would route a form with a `type` as something else
    command: str
    text: str | None = None
    response_url: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    channel_id: str | None = None


class _Envelope(_Shape):
    type: str
    envelope_id: str | None = None
    payload: Obj | None = None
    accepts_response_payload: bool | None = None
    retry_attempt: int | None = None
    retry_reason: str | None = None


def decode(raw: bytes, content_type: str, charset: str | None, api_base: str) -> dict[str, Any]:
    """The body Bolt should see (a form, or the JSON object a form's `payload` holds)."""
    if charset is not None and charset.lower().replace("_", "-") not in {"utf-8", "utf8"}:
        raise Malformed("charset other than UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("body is not UTF-8") from None
    if content_type == JSON:
        return events(json_object(text, "body"))
    if content_type != FORM:
        raise Malformed("content type is neither a form nor JSON")
    form = _form(text)
    if "payload" in form:
        return interactive(json_object(form["payload"], "payload"), api_base)
    if "command" in form:
        return command(form, api_base)
    if form.get("ssl_check") == "1" and set(form) <= {"ssl_check", "token"}:
        return dict(form)  # answered by Bolt before any routing
    raise Malformed("form is neither a command nor an interactive payload")


def identity_only(content_encodings: list[str]) -> bool:
    """True when every `Content-Encoding` header, and every coding listed in each, is
    `identity`. aiohttp inflates by one of several headers and the signature covers the bytes
    as sent, so a single `gzip` anywhere refuses the body before it is read."""
    return all(
        coding.strip().lower() == "identity"
        for header in content_encodings
        for coding in header.split(",")
    )


def interactive(payload: dict[str, Any], api_base: str) -> dict[str, Any]:
    """A button, shortcut or modal payload."""
    _checked(_Interactive, payload, "payload")
    urls = [payload.get("response_url")] + [
        item.get("response_url") for item in payload.get("response_urls") or []
    ]
    for url in urls:
        if url is not None and not response_url_allowed(url, api_base):
            raise Malformed("response_url is not a Slack URL")
    return payload


def command(fields: dict[str, Any], api_base: str) -> dict[str, Any]:
    """A slash command: string fields, a /name, and a response_url on Slack."""
    if not _plain_command(fields):
        _checked(_Command, fields, "command")
        if not all(isinstance(value, str) for value in fields.values()):
            raise Malformed("command field is not a string")  # Slack sends strings only
    if not fields["command"].startswith("/"):
        raise Malformed("command does not start with /")
    if not response_url_allowed(fields.get("response_url"), api_base):
        raise Malformed("command without a Slack response_url")
    return fields


def _accepts_text(name: str) -> bool:
    try:
        _Command.model_validate({"command": "/x", name: "text"})
    except ValidationError:
        return False
    return True


# The command's fields that may not hold a string (`type`, `response_urls`, `message`, ...),
# worked out from the model itself so that the two cannot disagree.
_NOT_TEXT = frozenset(name for name in _Command.model_fields if not _accepts_text(name))


def _plain_command(fields: dict[str, Any]) -> bool:
    """True when `_Command` would accept `fields` without a doubt: a `command`, every value a
    string, and no field that may not be one. Every form body is all strings, so this spares
    the model for nearly every slash command; anything else still goes through it, and its
    refusal names the field."""
    return (
        "command" in fields
        and fields.keys().isdisjoint(_NOT_TEXT)
        and all(type(value) is str for value in fields.values())
    )


def events(body: dict[str, Any], what: str = "body") -> dict[str, Any]:
    """An Events API body (`event_callback`, `url_verification`, ...)."""
    return _checked(_EventsBody, body, what)


def socket_envelope(text: str, api_base: str) -> dict[str, Any]:
    """A Socket Mode message, with its payload checked as the HTTP body would be.

    Raises `Malformed` whose `envelope_id` is set when the envelope could still be acked.
    """
    envelope = json_object(text, "envelope")
    envelope_id = envelope.get("envelope_id")
    try:
        _checked(_Envelope, envelope, "envelope")
        payload = envelope.get("payload")
        kind = envelope["type"]
        if kind in _PAYLOAD_CHECKS:
            if envelope_id is None or payload is None:
                raise Malformed(f"{kind} envelope without envelope_id or payload")
            _PAYLOAD_CHECKS[kind](payload, api_base)
    except Malformed as exc:
        exc.envelope_id = envelope_id if isinstance(envelope_id, str) else None
        raise
    return envelope


def _form(text: str) -> dict[str, str]:
    if not text:
        raise Malformed("empty body")
    try:
        pairs = _fields(text)
    except UnicodeDecodeError:
        raise Malformed("form field is not UTF-8") from None
    except ValueError:
        raise Malformed("form is not url-encoded fields") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Malformed("form repeats a field")
    return form


def _fields(text: str) -> list[tuple[str, str]]:
    """`parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict",
    max_num_fields=MAX_FORM_FIELDS)` for a non-empty `text`: the same pairs and the same
    errors, field by field. Written out because its generic path (argument coercion, and
    `unquote` called with keywords for every name and value, even those with nothing to
    unquote) was most of the cost of reading a slash command."""
    fields = text.split("&")
    if len(fields) > MAX_FORM_FIELDS:
        raise ValueError("Max number of fields exceeded")
    pairs = []
    for field in fields:
        name, equals, value = field.partition("=")
        if not equals:
            raise ValueError("bad query field")
        if "+" in field:
            name, value = name.replace("+", " "), value.replace("+", " ")
        if "%" in field:
            if "%" in name:
                name = _unquote(name)
            if "%" in value:
                value = _unquote(value)
        pairs.append((name, value))
    return pairs


def _unquote(text: str) -> str:
    """`unquote(text, errors="strict")`: for ASCII text (what Slack sends) that is what it
    does itself, without first splitting the text into ASCII and other runs."""
    if text.isascii():
        return unquote_to_bytes(text).decode("utf-8", "strict")
    return unquote(text, errors="strict")


def json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise Malformed(f"{what} is nested too deeply") from None
    except ValueError:
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is JSON but not an object")
    if _depth(value) > MAX_DEPTH:
        raise Malformed(f"{what} is nested too deeply")
    return value


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (a hostile body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _checked(model: type[_Shape], value: dict[str, Any], what: str) -> dict[str, Any]:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        raise Malformed(f"{what}: {_first_problem(exc)}") from None
    return value


_PAYLOAD_CHECKS: dict[str, Any] = {
    "events_api": lambda payload, _: events(payload, "payload"),
    "interactive": interactive,
    "slash_commands": command,
}


def _first_problem(exc: ValidationError) -> str:
    """`actions.0.action_id: field required`: where and what, never the input."""
    error = exc.errors(include_input=False, include_url=False)[0]
    parts = [str(part) for part in error["loc"]]
    field = [part for part in parts if part not in _TYPE_TAGS and "[" not in part]
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(field) < len(parts):  # one of several allowed types: name none of them
        message = "has the wrong type"
    where = ".".join(field)
    return f"{where}: {message}" if where else message


_TYPE_TAGS = frozenset({"str", "int", "bool", "float", "list", "dict"})
