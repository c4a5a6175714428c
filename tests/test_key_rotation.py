"""The key rotation walk-through of docs/distribution.md, as two processes see it during a
rolling restart: at every step, each process opens whatever the other one seals."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.store.keyring import Keyring, SealError

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()

# The settings a fleet goes through, one step at a time; during each restart some
# processes still run the step before.
STEPS = [OLD, f"{OLD},{NEW}", f"{NEW},{OLD}"]


@pytest.mark.parametrize(("before", "after"), list(itertools.pairwise(STEPS)))
def test_each_step_of_the_rotation_opens_what_the_step_before_seals(
    before: str, after: str
) -> None:
    old_process, new_process = Keyring(before), Keyring(after)
    assert new_process.open(old_process.seal("xoxb-a")) == "xoxb-a"
    assert old_process.open(new_process.seal("xoxb-b")) == "xoxb-b"


def test_putting_the_new_key_first_at_once_breaks_a_rolling_restart() -> None:
    """Why the walk-through adds the new key second first."""
    with pytest.raises(SealError):
        Keyring(OLD).open(Keyring(f"{NEW},{OLD}").seal("xoxb-c"))


def test_after_reseal_the_old_key_can_go() -> None:
    resealed = Keyring(f"{NEW},{OLD}").reseal(Keyring(OLD).seal("xoxb-d"))
    assert Keyring(NEW).open(resealed) == "xoxb-d"


def test_the_walk_through_adds_the_new_key_second_before_putting_it_first() -> None:
    text = (Path(__file__).parent.parent / "docs" / "distribution.md").read_text()
    walk = text[text.index("## Rotating SECRETS_KEY") :]
    assert "SECRETS_KEY=<old>,<new>" in walk
    assert walk.index("SECRETS_KEY=<old>,<new>") < walk.index("SECRETS_KEY=<new>,<old>")
    assert walk.index("SECRETS_KEY=<new>,<old>") < walk.index("python -m bot reseal")
