"""Mutation score per module, from the results `mutmut run` leaves in `mutants/`.

A mutant is *caught* when a test failed (or timed out) with it in place; it *survived* when
every test still passed, and has *no tests* when no fast test runs its function at all. The
score is caught / all mutants: one that no test reaches, or that was not tried (an
interrupted run), counts against its module. Equivalent mutants are not generated: their
lines carry `# pragma: no mutate` and the reason (docs/mutation-testing.md lists them).
`--survivors` lists the mutants to look at (`mutmut show NAME` prints one as a diff);
`--min P` exits 1 when a module scores under P %.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

CAUGHT = {"killed", "timeout", "caught by type check"}


def load(root: Path) -> dict[str, dict[str, str]]:
    """Module path -> mutant name -> status."""
    results: dict[str, dict[str, str]] = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            module = str(meta.relative_to(root)).removesuffix(".meta")
            results[module] = {name: status_by_exit_code[code] for name, code in codes.items()}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    parser.add_argument("--min", type=float, default=0.0, help="lowest acceptable score, %%")
    args = parser.parse_args()
    results = load(args.mutants)
    if not results:
        print("no mutation results: run `make mutation` first", file=sys.stderr)
        return 2
    print(f"{'module':28} {'mutants':>7} {'caught':>7} {'survived':>8} {'no tests':>8}  score")
    low = []
    totals: Counter[str] = Counter()
    for module, statuses in results.items():
        count = Counter(statuses.values())
        totals += count
        score = _score(count)
        low += [module] if score < args.min else []
        print(_row(module, count, score))
    print(_row("all", totals, _score(totals)))
    if args.survivors:
        for statuses in results.values():
            for name, status in statuses.items():
                if status not in CAUGHT:
                    print(f"  {status:10} {name}")
    if low:
        print(f"under {args.min:g} %: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


def _score(count: Counter[str]) -> float:
    total = sum(count.values())
    return 100.0 * sum(count[s] for s in CAUGHT) / total if total else 100.0


def _row(module: str, count: Counter[str], score: float) -> str:
    caught = sum(count[s] for s in CAUGHT)
    return (
        f"{module:28} {sum(count.values()):7} {caught:7} {count['survived']:8} "
        f"{count['no tests']:8} {score:6.1f}%"
    )


if __name__ == "__main__":
    sys.exit(main())
