"""The shell completes option values, from the rules and from the store, without the ORM."""

from __future__ import annotations

from tests.cli.test_completion import _complete
from tests.factory import seed_medisoft


def _bash(words: str) -> tuple[list[str], str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    done = _complete({"_DESKCTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
                      "COMP_CWORD": str(cword)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), done.stderr


def test_states_outcomes_and_categories_complete() -> None:
    assert _bash("deskctl ticket list --status awaiting_v")[0] == ["awaiting_verification"]
    assert "unresolved" in _bash("deskctl ticket close 1 --outcome ")[0]
    assert _bash("deskctl ticket triage 1 --category mis")[0] == ["misuse"]
    assert _bash("deskctl ticket wait 1 --on ")[0] == ["customer", "third-party"]


def test_agents_customers_policies_plans_severities_come_from_the_store(cli) -> None:
    seed_medisoft(cli)
    cli("agent", "add", "maria", "--name", "Maria")
    words, loaded = _bash("deskctl ticket assign 1 --to ")
    assert words == ["maria"]
    assert "loaded:\n" in loaded  # no ORM, no driver, no keyring on the completion path
    assert _bash("deskctl ticket list --customer h")[0] == ["hosp"]
    assert _bash("deskctl calendar list --policy ")[0] == ["medisoft"]
    assert "maintenance" in _bash("deskctl contract add hosp --plan ")[0]
    assert _bash("deskctl ticket list --severity ")[0] == ["high", "medium", "low"]


def test_no_store_completes_nothing_and_says_nothing() -> None:
    words, stderr = _bash("deskctl ticket assign 1 --to ")
    assert words == [] and stderr == "loaded:\n"


def test_a_date_named_to_is_not_completed_with_agents(cli) -> None:
    seed_medisoft(cli)
    cli("agent", "add", "maria", "--name", "Maria")
    assert _bash("deskctl bill --customer hosp --to ")[0] == []
