"""`manifest.yaml` asks for exactly what the code handles and uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.slack.basics.ids import COMMAND, EVENTS, SCOPES, Callback

ROOT = Path(__file__).resolve().parent.parent


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    return loaded


def test_surfaces_match_the_code() -> None:
    features = manifest()["features"]
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    assert features["slash_commands"][0]["usage_hint"]
    assert {s["callback_id"] for s in features["shortcuts"]} == {c.value for c in Callback}
    kinds = {s["callback_id"]: s["type"] for s in features["shortcuts"]}
    assert kinds == {c.value: "global" if c == Callback.LOOKUP else "message" for c in Callback}
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["bot_user"]


def test_scopes_are_exactly_the_used_ones() -> None:
    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted(SCOPES)


def test_events_interactivity_and_socket_mode() -> None:
    settings = manifest()["settings"]
    assert settings["event_subscriptions"]["bot_events"] == list(EVENTS)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True


def test_every_setting_is_documented() -> None:
    from bot.config import Settings

    settings_page = (ROOT / "docs" / "settings.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert name.upper() in settings_page, f"{name.upper()} missing from docs/settings.md"
        assert name.upper() in example, f"{name.upper()} missing from .env.example"


# -- Workflow Builder steps ------------------------------------------------------------------


def test_functions_match_the_handled_steps() -> None:
    from bot.render.step import OUTPUTS, TIMEOUT_MINUTES
    from bot.slack.basics.ids import Function

    loaded = manifest()
    functions = loaded["functions"]
    assert set(functions) == {f.value for f in Function}
    assert "function_executed" in loaded["settings"]["event_subscriptions"]["bot_events"]
    assert loaded["settings"]["org_deploy_enabled"] is True  # Slack: steps need org-ready apps
    assert loaded["settings"]["function_runtime"] == "remote"
    assert loaded["_metadata"]["major_version"] == 2
    types = {"summary": "string", "all_done": "boolean", "failed_count": "integer"}
    for name, function in functions.items():
        outputs = function["output_parameters"]["properties"]
        assert {k: v["type"] for k, v in outputs.items()} == {**types, "statuses": "string"}, name
        assert tuple(outputs) == OUTPUTS
        assert function["input_parameters"]["required"] == ["task_uids"]
        assert function["input_parameters"]["properties"]["task_uids"]["type"] == "string"
    timeout = functions["wait_for_tasks"]["input_parameters"]["properties"]["timeout_minutes"]
    assert timeout["type"] == "integer"
    assert (timeout["minimum"], timeout["maximum"]) == TIMEOUT_MINUTES
    assert timeout["default"] == 10
    assert set(functions["get_task_status"]["input_parameters"]["properties"]) == {"task_uids"}
