"""Command line: `run` (default), `check UID...`, `fake-api`, `demo`, `reseal`."""

from __future__ import annotations

import signal
import sys


def _stop_before_start(signum: int, frame: object) -> None:
    """SIGTERM before the event loop takes it over (imports, settings) exits 0 too: the
    process had nothing to hand back yet, and an orchestrator reads 143 as a crash."""
    raise SystemExit(0)


if __name__ == "__main__":  # first, before the imports that take most of start-up
    signal.signal(signal.SIGTERM, _stop_before_start)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402

from bot.config import SettingsError, load_settings, require, secret_values  # noqa: E402
from bot.ops.logs import configure  # noqa: E402
from bot.reading.parse import split_valid  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.handler is not _run and __name__ == "__main__":
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # `check` cut short did not succeed
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `check ... | head`: the reader left. Exit as a program killed by SIGPIPE would,
        # and point stdout at /dev/null so the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a program ended by SIGPIPE


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    require(settings, "run")
    configure(settings.log_level, settings.log_format, secret_values(settings))
    from bot.ops import event_loop
    from bot.slack.front.server import serve

    try:
        return event_loop.run(serve(settings))
    finally:
        if __name__ == "__main__":
            # The closed loop gave SIGTERM back to its default (exit 143); the exit under
            # way keeps its own status instead.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _check(args: argparse.Namespace) -> int:
    from bot.check import run_check

    settings = load_settings()
    require(settings, "check")
    configure("WARNING", settings.log_format, secret_values(settings))
    tokens = [t for raw in args.uids for t in raw.replace(",", " ").split()]
    uids, invalid = split_valid(tokens)
    if invalid or not uids:
        shown = ", ".join(repr(t[:40]) for t in invalid) or "none given"
        print(
            f"error: not task UIDs: {shown} (letters, digits, - and _, up to 128)",
            file=sys.stderr,
        )
        return 2
    output = "json" if args.json else "blocks" if args.blocks else "table"
    return asyncio.run(run_check(settings, uids, output))


def _fake_api(args: argparse.Namespace) -> int:
    from bot.taskapi.fake import Faults
    from bot.taskapi.fake_server import serve_fake

    faults = Faults(
        latency=args.latency,
        http_500=args.fail_5xx,
        broken_json=args.broken_json,
        ret_code=args.ret_code_errors,
    )
    return asyncio.run(serve_fake(args.host, args.port, args.step, faults))


def _demo(args: argparse.Namespace) -> int:
    try:
        from bot.demo.script import run as run_demo
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(("bot.demo", "bot.testing")):
            raise
        # The runtime image leaves the fakes (bot/testing) and the demo out.
        print(
            "error: `demo` is a development command: it needs the bundled fakes, which this "
            "installation leaves out. Run it from a source checkout: make demo",
            file=sys.stderr,
        )
        return 2
    from bot.ops import event_loop

    configure("WARNING", "text")  # the transcript goes to stdout; only trouble to stderr
    return event_loop.run(run_demo(args.interactive))


def _reseal(args: argparse.Namespace) -> int:
    """Key rotation, step two: every stored secret sealed again with SECRETS_KEY's first key."""
    settings = load_settings()
    if settings.secrets_key is None:
        raise SettingsError(
            "Missing settings:\n  SECRETS_KEY\nEvery setting is described in docs/settings.md."
        )
    configure("WARNING", settings.log_format, secret_values(settings))
    from bot.slack.oauth.reseal import reseal_all
    from bot.store import open_store
    from bot.store.keyring import Keyring

    async def run() -> int:
        store = await open_store(settings.state_url, settings.state_retention)
        try:
            assert settings.secrets_key is not None
            result = await reseal_all(store, Keyring(settings.secrets_key.get_secret_value()))
        finally:
            await store.close()
        print(
            f"resealed {result.done} installation(s) and {result.accounts} task API "
            "account(s) with the first key of SECRETS_KEY"
        )
        if result.busy:
            print(
                f"{len(result.busy)} were being refreshed or changed: run reseal again",
                file=sys.stderr,
            )
            return 1
        return 0

    return asyncio.run(run())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.set_defaults(handler=_run)
    commands = parser.add_subparsers(title="commands")
    commands.add_parser("run", help="run the Slack bot (the default)").set_defaults(handler=_run)
    check = commands.add_parser("check", help="look tasks up and print them")
    check.add_argument("uids", nargs="+", metavar="UID")
    shown = check.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the raw task details")
    shown.add_argument("--blocks", action="store_true", help="print the Block Kit the bot posts")
    check.set_defaults(handler=_check)
    fake = commands.add_parser("fake-api", help="serve the bundled fake task API on loopback")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8765)
    fake.add_argument("--step", type=float, default=5.0, help="seconds each status lasts")
    fake.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    fake.add_argument("--fail-5xx", type=int, default=0, metavar="N", help="next N answers: 500")
    fake.add_argument("--broken-json", type=int, default=0, metavar="N", help="next N: bad JSON")
    fake.add_argument(
        "--ret-code-errors", type=int, default=0, metavar="N", help="next N: RetCode 500"
    )
    fake.set_defaults(handler=_fake_api)
    demo = commands.add_parser(
        "demo", help="play a conversation with the real bot, a fake Slack and the fake task API"
    )
    demo.add_argument(
        "--interactive", action="store_true", help="then take typed /taskstatus lines from stdin"
    )
    demo.set_defaults(handler=_demo)
    commands.add_parser(
        "reseal", help="seal every stored secret again with SECRETS_KEY's first key (rotation)"
    ).set_defaults(handler=_reseal)
    return parser


if __name__ == "__main__":
    sys.exit(main())
