"""The ``[closure]`` table: the closure protocol's steps."""

from __future__ import annotations

from deskctl.domain.durations import format_duration
from deskctl.domain.policy import (
    OUTCOMES,
    ClosureProtocol,
    ProtocolStep,
)
from deskctl.domain.policy_file.errors import Path
from deskctl.domain.policy_file.reader import Reader

PROTOCOL_ACTIONS = ("contact", "call", "email", "close")


PROTOCOL_CLOCKS = ("calendar", "wall")


class ClosureTables(Reader):
    """``[closure]``."""

    def closure(self, raw: object) -> ClosureProtocol:
        path: Path = ("closure",)
        t = self.table(raw, path, keys=("clock", "steps"), required=("steps",))
        clock = self.choice(
            t.get("clock", "calendar"), (*path, "clock"), PROTOCOL_CLOCKS, "protocol clock"
        )
        items = self.array(t["steps"], (*path, "steps"))
        if not items:
            self.fail((*path, "steps"), "list the protocol steps, ending with a close")
        steps: list[ProtocolStep] = []
        for index, item in enumerate(items):
            step_path: Path = (*path, "steps", index)
            s = self.table(
                item, step_path, keys=("at", "action", "outcome", "note"), required=("at", "action")
            )
            offset = self.duration(s["at"], (*step_path, "at"), positive=False)
            if steps and offset < steps[-1].offset:
                self.fail(
                    (*step_path, "at"),
                    f"{s['at']} is before the previous step ({format_duration(steps[-1].offset)}); "
                    "list steps in time order",
                )
            action = self.choice(s["action"], (*step_path, "action"), PROTOCOL_ACTIONS, "action")
            last = index == len(items) - 1
            if action == "close" and not last:
                self.fail((*step_path, "action"), "close must be the last step")
            if last and action != "close":
                self.fail((*step_path, "action"), "the last step must be a close")
            outcome = None
            if action == "close":
                if "outcome" not in s:
                    self.fail(step_path, 'a close step needs an outcome, e.g. outcome = "accepted"')
                outcome = self.choice(s["outcome"], (*step_path, "outcome"), OUTCOMES, "outcome")
            elif "outcome" in s:
                self.fail((*step_path, "outcome"), "only a close step takes an outcome")
            note = self.string(s.get("note", ""), (*step_path, "note"))
            steps.append(ProtocolStep(offset=offset, action=action, outcome=outcome, note=note))
        return ClosureProtocol(clock=clock, steps=tuple(steps))
