"""The install and redirect pages: small HTML, every value escaped. Pure: no I/O."""

from __future__ import annotations

from html import escape

FRIENDLY = {
    "access_denied": (
        "Not installed",
        "The app was not added: the install was cancelled. Nothing was saved. "
        "You can start again from the install page whenever you like.",
    ),
    "invalid_state": (
        "This install link has expired",
        "Each install link works once and for ten minutes. Open the install page again for a "
        "fresh one. Nothing was saved.",
    ),
    "missing_code": (
        "Install not completed",
        "Slack did not send the code this page needs. Open the install page again.",
    ),
    "invalid_code": (
        "Install not completed",
        "Slack did not accept the install code. Open the install page again.",
    ),
    "storage_error": (
        "Install not saved",
        "The installation could not be saved. Try again in a minute.",
    ),
}


def install_page(authorize_url: str) -> str:
    return _page(
        "Add Task Status to Slack",
        "<p>Look up image-generation tasks from Slack, and follow them live.</p>"
        f'<p><a class="add" href="{escape(authorize_url, quote=True)}">Add to Slack</a></p>'
        "<p>The link works once, for ten minutes.</p>",
    )


def installed_page(team_name: str | None) -> str:
    where = f" to {escape(team_name)}" if team_name else ""
    return _page(
        "Installed",
        f"<p>Task Status was added{where}. Try <code>/taskstatus help</code> in a channel, "
        "or open the app's Home tab.</p>",
    )


def failed_page(reason: str) -> str:
    title, text = FRIENDLY.get(
        reason,
        ("Install not completed", "The install did not complete. Open the install page again."),
    )
    return _page(title, f"<p>{escape(text)}</p><p><small>({escape(reason)})</small></p>")


def busy_page() -> str:
    return _page(
        "Too many install links just now",
        "<p>This app handed out many install links in the last minutes. "
        "Open this page again in a minute.</p>",
    )


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
