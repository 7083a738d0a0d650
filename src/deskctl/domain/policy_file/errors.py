"""A policy problem and where it is: key paths, the located error, TOML syntax errors."""

from __future__ import annotations

import re
import tomllib

from deskctl.errors import BadInput

Key = str | int


Path = tuple[Key, ...]


BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


class PolicyError(BadInput):
    """A policy file problem, located: ``<source>:<line>: <key.path>: <problem>``."""

    def __init__(self, source: str, line: int, path: str, problem: str) -> None:
        where = f"{source}:{line}: "
        message = f"{where}{path}: {problem}" if path else f"{where}{problem}"
        details = {"source": source, "line": line, "path": path, "problem": problem}
        super().__init__(message, details=details)
        self.source = source
        self.line = line
        self.path = path
        self.problem = problem


def format_path(path: Path) -> str:
    """``plans.8x5.sla.response.1``, ``closure.steps[2].at``; odd keys are quoted."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            part = key if BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
            out += f".{part}" if out else part
    return out


def syntax_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> PolicyError:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    problem = message[: match.start()] if match else message
    if match and match.group(1):
        line = int(match.group(1))
        problem += f" (column {match.group(2)})"
    else:
        line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return PolicyError(source, line, "", f"invalid TOML: {problem}")
