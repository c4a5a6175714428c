"""Task API accounts: the connect modal, its notes, the how-to note, the Home section.

Pure: built from values already read. Ids here are the contract (DESIGN.md): the modal's
callback `task_api_connect`, its inputs `public_key` and `private_key` (each a
`plain_text_input` with action id `value`), the Home button `task_api_connect_open`.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.render.answer import Message, mrkdwn
from bot.render.home import _date
from bot.render.text import clip, code

CONNECT_CALLBACK = "task_api_connect"
CONNECT_OPEN = "task_api_connect_open"  # the Home button (and `/taskstatus connect`)
DISCONNECT = "task_api_disconnect"  # the Home button that removes the account
PUBLIC_KEY_BLOCK = "public_key"
PRIVATE_KEY_BLOCK = "private_key"
KEY_INPUT = "value"
MAX_KEY = 256  # characters a key field takes: the vendor's keys are far shorter
HOWTO = (
    "A workspace admin or owner (or whoever installed the app) connects one with "
    "`/taskstatus connect`, or with *Connect task API account* on this app's Home tab."
)


def no_account_text() -> str:
    return (
        ":electric_plug: This workspace has not connected a task API account yet, so I "
        f"cannot look tasks up here.\n{HOWTO}"
    )


def no_account_message() -> Message:
    """To the asker only: why nothing was looked up, and who can change that."""
    text = no_account_text()
    return Message(clip(text.partition("\n")[0], 300), [SectionBlock(text=mrkdwn(text))])


def single_workspace_message() -> Message:
    text = (
        ":information_source: This bot serves one workspace with the task API keys in its "
        "settings (`TASK_API_PUBLIC_KEY`, `TASK_API_PRIVATE_KEY`): there is no account to "
        "connect here. Whoever runs the bot changes them there."
    )
    return Message(clip(text, 300), [SectionBlock(text=mrkdwn(text))])


def connect_modal(connected_key: str = "") -> dict[str, Any]:
    """The form; `connected_key`: the public key connected now (saving replaces it)."""
    intro = (
        "Lookups in this workspace will use this account's keys (from the vendor's User "
        "Center). They are checked with one lookup before they are saved, and the private "
        "key is kept encrypted. Only a workspace admin or owner, or whoever installed the "
        "app, can save."
    )
    if connected_key:
        intro += (
            f"\nConnected now: public key {code(clip(connected_key, 12))}…; saving replaces it."
        )
    blocks: list[Block] = [
        SectionBlock(text=mrkdwn(intro)),
        _key_input(PUBLIC_KEY_BLOCK, "Public key"),
        _key_input(PRIVATE_KEY_BLOCK, "Private key"),
    ]
    return View(
        type="modal",
        callback_id=CONNECT_CALLBACK,
        title=_plain("Task API account"),
        submit=_plain("Check and save"),
        close=_plain("Cancel"),
        blocks=blocks,
    ).to_dict()


def connect_note(text: str) -> dict[str, Any]:
    """The modal once it has only something to say (saved, refused)."""
    return View(
        type="modal",
        callback_id=CONNECT_CALLBACK,
        title=_plain("Task API account"),
        close=_plain("Close"),
        blocks=[SectionBlock(text=mrkdwn(text))],
    ).to_dict()


def not_permitted_text(org_wide: bool = False) -> str:
    """Who may: for an org-wide install the account serves the whole organisation, so
    its admins and owners, not one workspace's."""
    who = "an organisation admin or owner" if org_wide else "a workspace admin or owner"
    return (
        f":lock: Only {who}, or whoever installed this app, can connect "
        "or disconnect the task API account. Nothing was changed."
    )


def connected_text(public_key: str) -> str:
    return (
        f":white_check_mark: Connected: lookups in this workspace now use public key "
        f"{code(clip(public_key, 12))}…"
    )


def rejected_error(detail: str) -> str:
    """Under the private key field (plain text): the vendor's own words, bounded."""
    return clip(f"The task API refused these keys ({detail}). Check both keys.", 150)


def refused_error(detail: str) -> str:
    return clip(f"The task API answered with an error ({detail}); nothing was saved.", 150)


def unavailable_error(seconds: float) -> str:
    return (
        f"The task API did not answer within {seconds:g} s, so the keys are not checked and "
        "nothing was saved. Try again in a moment."
    )


def account_blocks(
    connected: bool, fallback: bool, public_key: str = "", by: str = "", since: float = 0.0
) -> list[Block]:
    """The Home tab's account section (OAuth mode): what serves this workspace, and the
    buttons that change it (shown to everyone; saving checks who presses)."""
    if connected:
        who = f" by <@{by}>" if by.isalnum() else ""
        when = f" {_date(since)}" if since else ""
        text = (
            f":white_check_mark: *Task API account*: connected{who}{when}, public key "
            f"{code(clip(public_key, 12))}…"
        )
    elif fallback:
        text = (
            ":information_source: *Task API account*: none connected; lookups use this "
            f"service's shared account.\n{HOWTO}"
        )
    else:
        text = (
            ":electric_plug: *Task API account*: none connected, so tasks cannot be "
            f"looked up in this workspace yet.\n{HOWTO}"
        )
    buttons = [
        ButtonElement(
            text=_plain("Connect task API account" if not connected else "Change account"),
            action_id=CONNECT_OPEN,
            value="connect",
            style=None if connected else "primary",
        )
    ]
    if connected:
        buttons.append(
            ButtonElement(
                text=_plain("Disconnect"),
                action_id=DISCONNECT,
                value="disconnect",
                style="danger",
                confirm=ConfirmObject(
                    title="Disconnect the account?",
                    text="Lookups in this workspace stop until an account is connected again.",
                    confirm="Disconnect",
                    deny="Cancel",
                ),
            )
        )
    return [
        HeaderBlock(text=_plain("Task API account")),
        SectionBlock(text=mrkdwn(text)),
        ActionsBlock(block_id="task_api_account", elements=buttons),
        ContextBlock(elements=[mrkdwn("Admins and owners only; keys are checked before saving.")]),
    ]


def _key_input(block_id: str, label: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=_plain(label),
        element=PlainTextInputElement(action_id=KEY_INPUT, max_length=MAX_KEY),
    )


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)
