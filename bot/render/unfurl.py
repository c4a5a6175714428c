"""A pasted task link, shown compactly: its unfurl blocks and, for Work Objects, its entity.

Pure: the caller looks the tasks up and passes the results in. An unfurl is one small card
(status word and emoji, the linked UID, the error, one picture when finished, a *Watch*
button while under way), so it stays far inside Slack's limits whatever the API returned.
The Work Object side uses slack_sdk's entity models (`slack_sdk.models.metadata`), whose
validators check the entity type; every text in it is plain (Slack does not read mrkdwn
there) but clipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ImageBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.metadata import (
    EntityActionButton,
    EntityActions,
    EntityAttributes,
    EntityCustomField,
    EntityMetadata,
    EntityPayload,
    EntityStringField,
    EntityTimestampField,
    EntityTitle,
    EventAndEntityMetadata,
    ExternalRef,
    TaskEntityFields,
)

from bot.render.answer import Message, mrkdwn, task_line
from bot.render.links import TaskLinks
from bot.render.status import status_of
from bot.render.text import clip, code, escape, is_previewable, one_line
from bot.taskapi.models import Failed, Found, NotFound, TaskResult, is_done

ACTION_UNFURL_WATCH = "task_unfurl_watch"
TASK_ENTITY = "slack#/entities/task"
MAX_UNFURLS = 5  # links unfurled per message; more are left as plain links
UNFURL_ERROR_CHARS = 500
FIELD_CHARS = 2000  # a Work Object field: plain text, kept well short
MAX_DETAIL_FIELDS = 40  # vendor fields and picture links in the flexpane
PRODUCT = "Task Status"

# Vendor fields that may carry a task's dates (none are documented; some deployments add them).
_CREATED = ("CreateTime", "CreatedAt", "CreateAt", "CreatedTime", "StartTime")
_LATEST_MS = 1e16  # beyond any real date in milliseconds; a larger number (or inf) is no date
_UPDATED = ("UpdateTime", "UpdatedAt", "UpdateAt", "UpdatedTime", "FinishTime", "EndTime")


def unfurl_message(
    result: TaskResult, links: TaskLinks, watch_value: str, *, picture: bool = True
) -> Message:
    """The card for one pasted task link; `watch_value` is the *Watch* button's value;
    `picture=False` leaves the picture out (Slack could not download one)."""
    if isinstance(result, NotFound):
        text = f":mag: *Not found:* {code(result.uid)} is unknown to the task API."
        return Message(_fallback(result.uid, "not found"), [_section(text)])
    if isinstance(result, Failed):
        text = (
            f":warning: Could not look up {code(result.uid)} just now (the task API is not "
            "answering). Open the link, or ask again with `/taskstatus`."
        )
        return Message(_fallback(result.uid, "lookup failed"), [_section(text)])
    blocks: list[Block] = [_section(task_line(result, UNFURL_ERROR_CHARS, links))]
    shown = _first_picture(result) if picture else None
    count = len(result.task.final_picture_urls)
    if shown is not None:
        blocks.append(
            ImageBlock(
                image_url=shown,
                alt_text=clip(f"Picture 1 of task {result.uid}", 2000),
                title=PlainTextObject(text=f"Picture 1 of {count}", emoji=False),
            )
        )
    if not is_done(result):
        blocks.append(_watch_row(watch_value))
    elif count - (1 if shown else 0) > 0:
        more = count - (1 if shown else 0)
        word = "picture" if more == 1 else "pictures"
        note = f"{more} {'more ' if shown else ''}{word} on the task's page."
        blocks.append(ContextBlock(elements=[mrkdwn(note)]))
    return Message(_fallback(result.uid, status_of(result)), blocks)


def unfurls_payload(messages: dict[str, Message]) -> dict[str, dict[str, Any]]:
    """`chat.unfurl`'s `unfurls`: each pasted URL to its card's blocks."""
    return {url: {"blocks": message.as_payload()["blocks"]} for url, message in messages.items()}


def _fallback(uid: str, status: str) -> str:
    """The card's plain text (notifications, old clients), escaped like everything else."""
    return escape(f"Task {clip(uid, 128)}: {clip(one_line(status), 60)}")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text))


def _first_picture(result: Found) -> str | None:
    if result.task.task_status != "Finished":
        return None
    return next((u for u in result.task.final_picture_urls if is_previewable(u)), None)


def _watch_row(value: str) -> ActionsBlock:
    button = ButtonElement(
        text=PlainTextObject(text="Watch", emoji=False),
        action_id=ACTION_UNFURL_WATCH,
        value=value,
        style="primary",
    )
    return ActionsBlock(elements=[button])


# -- Work Objects -----------------------------------------------------------------------------


def unfurl_entities(
    results: dict[str, TaskResult],
    links: TaskLinks,
    checked_at: float,
    watch_values: dict[str, str] | None = None,
) -> EventAndEntityMetadata | None:
    """`chat.unfurl`'s `metadata`: one task entity per pasted URL that was looked up. A
    client that shows the entity shows no blocks, so a task under way carries the *Watch*
    action there too (`watch_values`: the button's value per URL, as on the card)."""
    values = watch_values or {}
    entities: list[dict[str, Any] | EntityMetadata] = [
        task_entity(result, links, url, checked_at, watch_value=values.get(url, ""))
        for url, result in results.items()
        if not isinstance(result, Failed)
    ]
    return EventAndEntityMetadata(entities=entities) if entities else None


def task_entity(
    result: Found | NotFound,
    links: TaskLinks,
    shared_url: str,
    checked_at: float,
    *,
    details: bool = False,
    watch_value: str = "",
) -> EntityMetadata:
    """A task as a Work Object: title, status and the dates the vendor gave; with `details`
    (the flexpane) also every field the vendor returned and each picture link; with
    `watch_value`, a *Watch* action while the task is under way."""
    custom = _vendor_fields(result) if details and isinstance(result, Found) else None
    keys = [f.key if isinstance(f, EntityCustomField) else "" for f in custom or []]
    order = [*_ORDER, *keys] if custom else None
    return EntityMetadata(
        entity_type=TASK_ENTITY,
        external_ref=ExternalRef(id=result.uid, type="task"),
        url=links.url_for(result.uid),
        app_unfurl_url=shared_url,
        entity_payload=EntityPayload(
            attributes=_attributes(result, checked_at),
            fields=_task_fields(result),
            custom_fields=list(custom) if custom else None,
            display_order=order,
            actions=_watch_action(result, watch_value),
        ),
    )


def _watch_action(result: Found | NotFound, value: str) -> EntityActions | None:
    """The card's *Watch* button as an entity action (same `action_id`, same handler)."""
    if not value or not isinstance(result, Found) or is_done(result):
        return None
    button = EntityActionButton(
        text="Watch", action_id=ACTION_UNFURL_WATCH, value=value, style="primary"
    )
    return EntityActions(primary_actions=[button])


def entity_details(
    result: Found | NotFound, links: TaskLinks, shared_url: str, checked_at: float
) -> EntityMetadata:
    """The flexpane: the entity with every field the vendor returned and each picture link."""
    return task_entity(result, links, shared_url, checked_at, details=True)


_ORDER = ("status", "description", "date_created", "date_updated")


def _attributes(result: Found | NotFound, checked_at: float) -> EntityAttributes:
    kind = result.task.task_type if isinstance(result, Found) else ""
    title = f"Task {result.uid}" + ("" if isinstance(result, Found) else " (not found)")
    return EntityAttributes(
        title=EntityTitle(text=clip(one_line(title), 200)),
        display_type=clip(one_line(kind), 80) or "Task",
        display_id=clip(result.uid, 128),
        product_name=PRODUCT,
        metadata_last_modified=int(checked_at),
    )


def _task_fields(result: Found | NotFound) -> TaskEntityFields:
    status = status_of(result)
    fields = TaskEntityFields(
        status=EntityStringField(
            value=clip(one_line(status), 60), label="Status", tag_color=_tag(status)
        )
    )
    if isinstance(result, Found):
        task = result.task
        if task.task_error_code or task.task_error_msg:
            error = f"Error {task.task_error_code}: {one_line(task.task_error_msg) or 'no message'}"
            fields.description = EntityStringField(value=clip(error, FIELD_CHARS), long=True)
        created, updated = _date(task.raw(), _CREATED), _date(task.raw(), _UPDATED)
        if created is not None:
            fields.date_created = EntityTimestampField(value=created)
        if updated is not None:
            fields.date_updated = EntityTimestampField(value=updated)
    return fields


def _tag(status: str) -> str:
    return {"Finished": "green", "Error": "red", "Running": "blue"}.get(status, "gray")


def _vendor_fields(result: Found) -> list[dict[str, Any] | EntityCustomField]:
    """One link per picture, then each vendor field as it came (extras included), within
    `MAX_DETAIL_FIELDS`: the vendor's fields are cut first (the last one says how many more
    are on the task's page), since the picture links are what people open the pane for."""
    pictures: list[dict[str, Any] | EntityCustomField] = [
        EntityCustomField(
            label=f"Picture {n}",
            key=f"picture_{n}",
            type="string",
            value=clip(url, FIELD_CHARS),
            link=url if len(url) <= FIELD_CHARS and url.startswith("http") else None,
        )
        for n, url in enumerate(result.task.final_picture_urls[:MAX_DETAIL_FIELDS], 1)
    ]
    vendor = [(n, v) for n, v in result.task.raw().items() if n != "FinalPictureUrls"]
    room = MAX_DETAIL_FIELDS - len(pictures)
    if len(vendor) > room:
        shown, hidden = vendor[: max(room - 1, 0)], len(vendor) - max(room - 1, 0)
    else:
        shown, hidden = vendor, 0
    fields: list[dict[str, Any] | EntityCustomField] = []
    keys: set[str] = set()
    for name, value in shown:
        text = value if isinstance(value, str) else _plain_json(value)
        key = _unique_key("vendor_" + "".join(c if c.isalnum() else "_" for c in name)[:60], keys)
        fields.append(
            EntityCustomField(
                label=clip(name, 100), key=key, type="string", value=clip(text, FIELD_CHARS)
            )
        )
    if hidden and room > 0:
        fields.append(
            EntityCustomField(
                label="More fields",
                key=_unique_key("vendor_more", keys),
                type="string",
                value=f"{hidden} more on its page",
            )
        )
    return fields + pictures


def _unique_key(key: str, taken: set[str]) -> str:
    """`Task-Type` and `Task_Type` read alike as keys: the second gets a number."""
    unique, n = key, 1
    while unique in taken:
        n += 1
        unique = f"{key}_{n}"
    taken.add(unique)
    return unique


def _plain_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _date(raw: dict[str, Any], names: Sequence[str]) -> int | None:
    """Seconds since the epoch from the first named field that reads as a date."""
    for name in names:
        value = raw.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float) and 0 < value < _LATEST_MS:
            return int(value / 1000 if value > 1e12 else value)  # milliseconds, as some send
        if isinstance(value, str) and value.strip():
            try:
                when = datetime.fromisoformat(value.strip())
                return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
            except (ValueError, OverflowError):
                continue
    return None
