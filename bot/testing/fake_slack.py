"""A fake Slack Web API (and Socket Mode and response_url endpoints) on loopback.

It records what the bot sent, keeps messages per channel so threads, updates and
metadata searches behave like Slack's, checks a few Block Kit limits as Slack does, and
can be told to fail: `not_in_channel`, `rate_limited`, `message_not_found`, broken images,
and "trouble windows": a time span in which a method (for one channel, or all) answers
429 with `Retry-After`, a 5xx, or an error such as `internal_error`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = "UBOT"
BOT_ID = "BBOT"
HOME_TEAM = "T0HOME"
WORKSPACE_URL = "https://fake-workspace.slack.com/"
DROPPED = "dropped"  # a fault that serves the request, then drops the connection unanswered


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the fake received it
    refused: str = ""  # the error a trouble window answered with, else ""
    token: str = ""  # the bearer token it was made with


@dataclass
class Trouble:
    """A window of Slack trouble: until `until` (time.monotonic()), calls to `method` (in
    `channel`, or in any channel when None) are answered `status` with `error`.

    For a 429, `Retry-After` is `retry_after`, or by default the rest of the window rounded
    up to whole seconds, as Slack sends it.
    """

    method: str
    until: float
    status: int = 429
    error: str = "ratelimited"
    retry_after: float | None = None
    channel: str | None = None

    def matches(self, method: str, args: dict[str, Any], now: float) -> bool:
        channel = args.get("channel") or args.get("channel_id")
        return (
            now < self.until
            and method == self.method
            and (self.channel is None or str(channel) == self.channel)
        )

    def answer(self, now: float) -> web.Response:
        headers = {}
        if self.status == 429:
            wait = self.retry_after if self.retry_after is not None else self.until - now
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return web.json_response(
            {"ok": False, "error": self.error}, status=self.status, headers=headers
        )


@dataclass
class Fault:
    error: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Tenant:
    """Whom an installed token belongs to: a team, or an enterprise when installed org-wide."""

    team: str | None
    enterprise: str | None = None
    org_wide: bool = False
    team_name: str = ""

    @property
    def ws(self) -> str:
        return (self.enterprise if self.org_wide else self.team) or ""


@dataclass
class Grant:
    """What an OAuth `code` installs (see `FakeSlack.grant`)."""

    tenant: Tenant
    installer: str
    rotating: bool


@dataclass
class FakeSlack:
    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    troubles: list[Trouble] = field(default_factory=list)  # see `trouble`
    stalls: dict[str, asyncio.Event] = field(default_factory=dict)  # see `stall`
    not_in_channel: set[str] = field(default_factory=set)
    broken_images: set[str] = field(default_factory=set)
    respond_faults: list[int] = field(default_factory=list)  # statuses for the next responses
    socket_acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected_tokens: set[str] = field(default_factory=set)  # answered `invalid_auth`
    expired_responses: set[str] = field(default_factory=set)  # response_url keys that 404
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # by view id
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # published, by user
    refuse_sockets: bool = False  # the websocket handshake fails (a proxy that blocks it)
    # A response_url refuses a broken picture with a bare `invalid_blocks`, naming none.
    bare_picture_refusals: bool = False
    unfurls: list[dict[str, Any]] = field(default_factory=list)  # accepted chat.unfurl calls
    # Workflow Builder steps: each execution's one completion, by execution id.
    completions: dict[str, Call] = field(default_factory=dict)
    # `users.info`: what it says of each person beyond their id (`is_admin`, `is_owner`);
    # anyone not named is a plain member of the home team.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Many workspaces (OAuth): tokens installed by `oauth.v2.access`, each its tenant's only.
    # A channel or user registered in `owners` answers `channel_not_found`/`user_not_found`
    # to any other tenant's token, so a token used across workspaces fails the tests.
    client_id: str = "fake-client-id"
    client_secret: str = "fake-client-secret"  # noqa: S105 - the fake's own, not a secret
    tenants: dict[str, Tenant] = field(default_factory=dict)  # token -> its owner
    token_expiry: dict[str, float] = field(default_factory=dict)  # token -> wall time
    owners: dict[str, str] = field(default_factory=dict)  # channel or user id -> team
    enterprises: dict[str, str] = field(default_factory=dict)  # team -> its enterprise
    codes: dict[str, Grant] = field(default_factory=dict)  # unused install codes
    refresh_tokens: dict[str, Tenant] = field(default_factory=dict)  # unspent ones
    rotation_seconds: int = 43_200  # expires_in of a rotating token (Slack: 12 hours)
    issued: list[str] = field(default_factory=list)  # every token and refresh token given out
    _serving: tuple[str, tuple[str, str]] = ("", ("", ""))  # the token and app credentials
    _changed: asyncio.Condition | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)

    # -- test helpers ------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1, **kwargs: Any) -> None:
        self.faults.setdefault(method, []).extend(Fault(error, **kwargs) for _ in range(times))

    def trouble(
        self,
        method: str,
        seconds: float,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: float | None = None,
        channel: str | None = None,
    ) -> Trouble:
        """Open a trouble window of `seconds` from now (see `Trouble`)."""
        window = Trouble(method, time.monotonic() + seconds, status, error, retry_after, channel)
        self.troubles.append(window)
        return window

    def stall(self, method: str) -> asyncio.Event:
        """Serve calls to `method` at once, but hold their answers until the returned event
        is set: a test can act while the bot waits on Slack (or cancel it there)."""
        return self.stalls.setdefault(method, asyncio.Event())

    def calls_to(self, method: str, channel: str | None = None) -> list[Call]:
        """The calls to `method` (in `channel`), with when each arrived and how it was met."""
        return [
            c
            for c in self.calls
            if c.method == method
            and (
                channel is None or str(c.args.get("channel") or c.args.get("channel_id")) == channel
            )
        ]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages.get(channel, [])
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def add_message(self, channel: str, **fields: Any) -> dict[str, Any]:
        message = {"ts": self._next_ts(), "type": "message", **fields}
        self.messages.setdefault(channel, []).append(message)
        return message

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `check()` is truthy; re-checked on every request the fake serves."""
        assert self._changed is not None
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(check), timeout)

    async def connected(self, timeout: float = 10.0) -> None:
        """Wait until the bot has a Socket Mode connection open (its HTTP listener, which
        it opens first, is then up too)."""
        await self.wait_for(lambda: self._sockets, timeout)

    async def socket_send(self, envelope: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Push a Socket Mode envelope to the bot and wait for its ack."""
        await self.wait_for(lambda: self._sockets, timeout)
        await self._sockets[-1].send_json(envelope)
        envelope_id = envelope["envelope_id"]
        return dict(await self.wait_for(lambda: self.socket_acks.get(envelope_id), timeout))

    async def drop_sockets(self) -> None:
        """Close every Socket Mode connection, as Slack does when it rotates them."""
        for ws in list(self._sockets):
            await ws.close()

    async def socket_send_raw(self, text: str, timeout: float = 10.0) -> None:
        """Push any text frame, well-formed or not, to the bot (no ack to wait for)."""
        await self.wait_for(lambda: self._sockets, timeout)
        await self._sockets[-1].send_str(text)

    def grant(
        self,
        code: str,
        team: str | None = "T0ONE",
        *,
        enterprise: str | None = None,
        org_wide: bool = False,
        installer: str = "U0INSTALLER",
        team_name: str = "",
        rotating: bool = True,
    ) -> None:
        """Let `code` install the app once: for `team`, or org-wide for `enterprise`."""
        tenant = Tenant(None if org_wide else team, enterprise, org_wide, team_name)
        self.codes[code] = Grant(tenant, installer, rotating)
        if team and enterprise:
            self.enterprises[team] = enterprise

    def own(self, team: str, *ids: str) -> None:
        """Channels and users that belong to `team`: other tenants' tokens cannot reach them."""
        for item in ids:
            self.owners[item] = team

    def add_user(
        self,
        user: str,
        team: str,
        *,
        admin: bool = False,
        owner: bool = False,
        org_admin: bool = False,
        org_owner: bool = False,
    ) -> None:
        """A person of `team`; on Enterprise Grid (`enterprises`) also what the org says of
        them, as `users.info`'s `enterprise_user`."""
        self.own(team, user)
        self.users[user] = {"id": user, "team_id": team, "is_admin": admin, "is_owner": owner}
        enterprise = self.enterprises.get(team)
        if enterprise:
            self.users[user]["enterprise_user"] = {
                "id": user,
                "enterprise_id": enterprise,
                "is_admin": org_admin,
                "is_owner": org_owner,
                "teams": [team],
            }

    def expire(self, token: str) -> None:
        """The access token's 12 hours are over: Slack answers `token_expired`."""
        self.token_expiry[token] = time.time() - 1

    def refresh_grants(self) -> list[Call]:
        return [
            c
            for c in self.calls_to("oauth.v2.access")
            if c.args.get("grant_type") == "refresh_token"
        ]

    def tokens_of(self, ws: str) -> list[str]:
        return [t for t, tenant in self.tenants.items() if tenant.ws == ws]

    def _tenancy_problem(self, method: str, token: str, args: dict[str, Any]) -> str | None:
        """Why an installed token may not make this call: expired, or another tenant's."""
        if not self.tenants or method in ("oauth.v2.access", "apps.connections.open"):
            return None
        tenant = self.tenants.get(token)
        if tenant is None:
            return "not_authed" if not token else "invalid_auth"
        if self.token_expiry.get(token, math.inf) < time.time():
            return "token_expired"
        for key, error in _OWNED_ARGS:
            owner = self.owners.get(str(args.get(key) or ""))
            if owner is not None and not self._reaches(tenant, owner):
                return error
        return None

    def _reaches(self, tenant: Tenant, team: str) -> bool:
        if tenant.org_wide:
            return self.enterprises.get(team) == tenant.enterprise
        return tenant.team == team

    def _issue(self, tenant: Tenant, rotating: bool) -> dict[str, Any]:
        n = next(self._ts)
        token = f"xoxb-{tenant.ws}-{n}"
        self.tenants[token] = tenant
        self.issued.append(token)
        answer: dict[str, Any] = {"access_token": token, "token_type": "bot"}
        if rotating:
            refresh = f"xoxe-1-{tenant.ws}-{n}"
            self.refresh_tokens[refresh] = tenant
            self.issued.append(refresh)
            self.token_expiry[token] = time.time() + self.rotation_seconds
            answer.update(refresh_token=refresh, expires_in=self.rotation_seconds)
        return answer

    # -- the server --------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=50_000_000)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        app.on_startup.append(self._startup)
        return app

    async def _startup(self, _: web.Application) -> None:
        self._changed = asyncio.Condition()

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(method, args, token=token or str(args.get("token") or ""))
        self.calls.append(call)
        try:
            if (token or args.get("token")) in self.rejected_tokens:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            refused = self._tenancy_problem(method, token, args)
            if refused is not None:
                call.refused = refused
                return web.json_response({"ok": False, "error": refused})
            call.token = token or str(args.get("token") or "")
            self._serving = call.token, _app_credentials(request, args)
            window = next((t for t in self.troubles if t.matches(method, args, call.at)), None)
            if window is not None:
                call.refused = window.error
                return window.answer(call.at)
            queued = self.faults.get(method)
            fault = queued.pop(0) if queued else None
            if fault is not None and fault.error != DROPPED:
                return web.json_response(
                    {"ok": False, "error": fault.error}, status=fault.status, headers=fault.headers
                )
            handler = self._handler(method, call)
            if handler is None:
                return web.json_response({"ok": False, "error": "unknown_method"})
            if fault is not None:  # Slack did the work, but its answer never arrives
                handler(args)
                if request.transport is not None:
                    request.transport.abort()
                raise ConnectionResetError("dropped after the request was served")
            body = handler(args)
            stalled = self.stalls.get(method)
            if stalled is not None:
                await self._notify()
                await stalled.wait()
            return web.json_response(
                {"ok": True, **body} if "error" not in body else {"ok": False, **body}
            )
        finally:
            await self._notify()

    def _handler(
        self, method: str, call: Call
    ) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        if method in ("functions.completeSuccess", "functions.completeError"):
            return lambda _: self._complete(call)  # kept with its call: whose token it was
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        return handler

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        tenant = self.tenants.get(self._serving[0])
        if tenant is not None:  # an installed token answers for its own team
            return {
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": tenant.team or "",
                "enterprise_id": tenant.enterprise,
                "is_enterprise_install": tenant.org_wide,
                "user": "taskbot",
                "url": WORKSPACE_URL,
            }
        return {
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "team_id": HOME_TEAM,
            "user": "taskbot",
            "url": WORKSPACE_URL,
        }

    def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        """The code grant and the refresh grant, each answering a new refresh token; a spent
        refresh token or code answers Slack's error."""
        if self._serving[1] != (self.client_id, self.client_secret):
            return {"error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            tenant = self.refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
            if tenant is None:
                return {"error": "invalid_refresh_token"}
            return {**self._issue(tenant, rotating=True), "team": _team(tenant)}
        grant = self.codes.pop(str(args.get("code") or ""), None)
        if grant is None:
            return {"error": "invalid_code"}
        tenant = grant.tenant
        return {
            **self._issue(tenant, grant.rotating),
            "scope": "commands,chat:write",
            "bot_user_id": BOT_USER,
            "app_id": "A0FAKE",
            "team": _team(tenant),
            "enterprise": {"id": tenant.enterprise, "name": "Org"} if tenant.enterprise else None,
            "is_enterprise_install": tenant.org_wide,
            "authed_user": {"id": grant.installer},
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user") or "")
        if not user:
            return {"error": "user_not_found"}
        flags = {"is_admin": False, "is_owner": False, "is_primary_owner": False}
        return {"user": {"id": user, "team_id": HOME_TEAM, **flags, **self.users.get(user, {})}}

    def _apps_connections_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.base_url.replace("http", "ws", 1) + "socket?ticket=fake-ticket"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel in self.not_in_channel:
            return {"error": "not_in_channel"}
        problem = _check_blocks(args.get("blocks"), self.broken_images)
        if problem:
            return problem
        if channel.startswith("U"):
            channel = "D" + channel
        message = self.add_message(
            channel,
            text=args.get("text"),
            blocks=_blocks(args.get("blocks")),
            thread_ts=args.get("thread_ts"),
            metadata=args.get("metadata"),
            bot_id=BOT_ID,
            user=BOT_USER,
        )
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if str(args.get("channel")) in self.not_in_channel:
            return {"error": "not_in_channel"}
        problem = _check_blocks(args.get("blocks"), self.broken_images)
        if problem:
            return problem
        for message in self.messages.get(str(args.get("channel")), []):
            if message["ts"] == args.get("ts"):
                message.update(text=args.get("text"), blocks=_blocks(args.get("blocks")))
                return {"channel": args.get("channel"), "ts": message["ts"]}
        return {"error": "message_not_found"}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(args.get("users"))}}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        found = [m for m in self.messages.get(channel, []) if ts in (m["ts"], m.get("thread_ts"))]
        return _page(found, args)

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        found = [
            m
            for m in self.messages.get(str(args.get("channel")), [])
            if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]
        ]
        return _page(list(reversed(found)), args)

    # Workflow Builder steps: an execution completes once; Slack refuses a second completion
    # as it documents (`function_execution_not_found`: complete, so no longer found).

    def _complete(self, call: Call) -> dict[str, Any]:
        execution = str(call.args.get("function_execution_id") or "")
        if not execution:
            return {"error": "invalid_arguments"}
        if execution in self.completions:
            return {"error": "function_execution_not_found"}
        outputs = call.args.get("outputs")
        if isinstance(outputs, str):
            call.args["outputs"] = json.loads(outputs)
        self.completions[execution] = call
        return {}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("message_ts"))
        if not any(m["ts"] == ts for m in self.messages.get(channel, [])):
            return {"error": "message_not_found"}
        return {"channel": channel, "permalink": f"{WORKSPACE_URL}archives/{channel}/p{ts}"}

    # Link unfurls and Work Objects, checked as Slack checks them.

    def _chat_unfurl(self, args: dict[str, Any]) -> dict[str, Any]:
        """Either `unfurl_id` + `source` or `channel` + `ts`; `unfurls` (URL -> blocks) or
        `metadata`; a malformed entity is answered ok with a warning, as Slack does."""
        by_id = bool(args.get("unfurl_id")) and args.get("source") in UNFURL_SOURCES
        by_message = bool(args.get("channel")) and bool(args.get("ts"))
        if not (by_id or by_message) or bool(args.get("unfurl_id")) != bool(args.get("source")):
            return {"error": "invalid_arguments"}
        unfurls, metadata = _json_arg(args.get("unfurls")), _json_arg(args.get("metadata"))
        if not unfurls and not metadata:
            return {"error": "invalid_unfurls"}
        if unfurls is not None and not isinstance(unfurls, dict):
            return {"error": "invalid_unfurls"}
        for unfurl in (unfurls or {}).values():
            problem = _check_blocks((unfurl or {}).get("blocks"), self.broken_images)
            if problem or not (unfurl or {}).get("blocks"):
                return problem or {"error": "invalid_unfurls"}
        self.unfurls.append({"unfurls": unfurls or {}, "metadata": metadata})
        if metadata is not None:
            entities = metadata.get("entities") if isinstance(metadata, dict) else None
            if not isinstance(entities, list) or not all(map(_entity_ok, entities)):
                return {"warning": "invalid_metadata_format"}
        return {}

    def _entity_presentDetails(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"error": "invalid_trigger_id"}
        metadata, error = _json_arg(args.get("metadata")), _json_arg(args.get("error"))
        if metadata is None and error is None:
            return {"error": "invalid_arguments"}
        if metadata is not None and not _entity_ok(metadata):
            return {"error": "invalid_metadata"}
        return {}

    # Views: the App Home tab and modals, checked as Slack checks them.

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"error": "invalid_arguments"}
        return self._keep_view(args, f"V{next(self._ts):08d}")

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if view_id not in self.views:
            return {"error": "not_found"}
        return self._keep_view(args, view_id)

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if not user:
            return {"error": "invalid_arguments"}
        kept = self._keep_view(args, f"V{next(self._ts):08d}")
        if "view" in kept:
            if kept["view"].get("type") != "home":
                return {"error": "invalid_arguments", "errors": ["views.publish takes home views"]}
            self.homes[user] = kept["view"]
        return kept

    def _keep_view(self, args: dict[str, Any], view_id: str) -> dict[str, Any]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        problem = _check_view(view, self.broken_images)
        if problem:
            return problem
        assert isinstance(view, dict)
        view = {**view, "id": view_id}
        self.views[view_id] = view
        return {"view": view}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        return {"upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        channel = str(args.get("channel_id"))
        self.add_message(
            channel, files=files, thread_ts=args.get("thread_ts"), bot_id=BOT_ID, user=BOT_USER
        )
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        await self._notify()
        return web.Response(text="OK")

    async def _respond(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await request.json()
        self.calls.append(Call("response_url", {"key": key, **body}))
        queued = self.faults.get("response_url")
        if queued:  # Slack answers a response_url with plain text, not JSON
            fault = queued.pop(0)
            await self._notify()
            return web.Response(status=fault.status, text=fault.error, headers=fault.headers)
        self.responses.setdefault(key, []).append(body)
        await self._notify()
        if self.respond_faults:
            status = self.respond_faults.pop(0)
            return web.Response(status=status, text="rate_limited", headers={"Retry-After": "0"})
        if key in self.expired_responses:
            return web.Response(status=404, text="expired_url")
        problem = _check_blocks(body.get("blocks"), self.broken_images)
        if problem and self.bare_picture_refusals:
            return web.Response(status=400, text="invalid_blocks")
        if problem:  # named like the Web API's, so the one broken picture can be found
            return web.json_response({"ok": False, **problem}, status=400)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_sockets:
            return web.Response(status=403)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        await self._notify()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                ack = json.loads(msg.data)
                if "envelope_id" in ack:
                    self.socket_acks[ack["envelope_id"]] = ack
                    await self._notify()
        self._sockets.remove(ws)
        return ws

    def response_url(self, key: str) -> str:
        return f"{self.base_url}respond/{key}"


async def _args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(await request.post())
    return args


def _app_credentials(request: web.Request, args: dict[str, Any]) -> tuple[str, str]:
    """oauth.v2.access: the app's id and secret, by Basic auth (the SDK's way) or in the form."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return "", ""
        return user, password
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")


# Arguments naming something a workspace owns, and Slack's answer to another tenant's token.
_OWNED_ARGS = (
    ("channel", "channel_not_found"),
    ("channel_id", "channel_not_found"),
    ("user", "user_not_found"),
    ("user_id", "user_not_found"),
    ("users", "user_not_found"),
)


def _team(tenant: Tenant) -> dict[str, str] | None:
    return {"id": tenant.team, "name": tenant.team_name or tenant.team} if tenant.team else None


def _page(messages: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """Slack's paging: `oldest` filter, `limit` per page (100 by default), opaque cursor."""
    if args.get("oldest"):
        messages = [m for m in messages if float(m["ts"]) > float(args["oldest"])]
    start = int(args.get("cursor") or 0)
    limit = int(args.get("limit") or 100)
    rest = start + limit < len(messages)
    return {
        "messages": messages[start : start + limit],
        "has_more": rest,
        "response_metadata": {"next_cursor": str(start + limit) if rest else ""},
    }


def _blocks(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        raw = json.loads(raw)
    return list(raw or [])


UNFURL_SOURCES = ("composer", "conversations_history")


def _json_arg(raw: Any) -> Any:
    """An argument sent as JSON text (form-encoded) or as JSON (a JSON body)."""
    return json.loads(raw) if isinstance(raw, str) else raw


def _entity_ok(entity: Any) -> bool:
    """What a Work Object entity needs: its type, id, URLs and a titled payload."""
    if not isinstance(entity, dict):
        return False
    title = (((entity.get("entity_payload") or {}).get("attributes") or {}).get("title")) or {}
    return bool(
        str(entity.get("entity_type", "")).startswith("slack#/entities/")
        and (entity.get("external_ref") or {}).get("id")
        and str(entity.get("url", "")).startswith(("http://", "https://"))
        and isinstance(title, dict)
        and title.get("text")
    )


def _check_blocks(
    raw: Any, broken_images: set[str], max_blocks: int = 50, max_chars: int | None = 13_000
) -> dict[str, Any] | None:
    """The checks Slack makes that matter here: counts, sizes, and downloading images."""
    blocks = _blocks(raw)
    if len(blocks) > max_blocks or (max_chars is not None and len(json.dumps(blocks)) > max_chars):
        return {"error": "invalid_blocks", "errors": ["too many blocks or too long"]}
    for index, block in enumerate(blocks):
        for path, url in (
            ("image_url", block.get("image_url")),
            ("accessory/image_url", (block.get("accessory") or {}).get("image_url")),
        ):
            if url in broken_images:
                return {
                    "error": "invalid_blocks",
                    "errors": [f"downloading image failed [json-pointer:/blocks/{index}/{path}]"],
                }
    return None


def _check_view(view: Any, broken_images: set[str]) -> dict[str, Any] | None:
    """What Slack refuses in a modal or Home view: bad types, too many blocks, long titles,
    inputs without labels or a submit button, repeated block ids, pictures it cannot fetch."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return {"error": "invalid_arguments", "errors": ["view must be a modal or home view"]}
    blocks = _blocks(view.get("blocks"))
    errors = []
    if len(blocks) > 100:
        errors.append("no more than 100 items allowed [json-pointer:/view/blocks]")
    ids = [b["block_id"] for b in blocks if b.get("block_id")]
    if len(ids) != len(set(ids)):
        errors.append("block_id must be unique [json-pointer:/view/blocks]")
    if view["type"] == "modal":
        for key in ("title", "submit", "close"):
            text = (view.get(key) or {}).get("text", "")
            if (key == "title" and not text) or len(text) > 24:
                errors.append(f"must be 1 to 24 characters [json-pointer:/view/{key}/text]")
        if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
            errors.append("a view with inputs needs submit [json-pointer:/view/submit]")
    for index, block in enumerate(blocks):
        if block.get("type") == "input" and not (block.get("label") and block.get("element")):
            errors.append(f"input needs a label and an element [json-pointer:/view/blocks/{index}]")
        if block.get("type") == "section" and len((block.get("text") or {}).get("text", "")) > 3000:
            errors.append(f"must be less than 3001 characters [json-pointer:/view/blocks/{index}]")
    if len(json.dumps(view)) > 250_000:
        errors.append("view too large")
    if errors:
        return {"error": "invalid_arguments", "response_metadata": {"messages": errors}}
    return _check_blocks(blocks, broken_images, max_blocks=100, max_chars=None)
