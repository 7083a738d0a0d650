"""Policy files: TOML text in, a validated :class:`~deskctl.domain.policy.Policy` out.

The format is documented in ``docs/policy-format.md``. Every problem raises
:class:`PolicyError` with ``<source>:<line>: <key.path>: <problem>``; the
loader stops at the first problem, checking the tables in this order: unknown
top-level tables, missing required tables, ``policy``, ``calendars``,
``severities``, ``metrics``, ``clock``, ``scope``, ``rates``, ``entitlement``,
``plans``, ``closure`` (within a table, keys in file order).

Choices the spec leaves open:

- Money is a string (``"45.00"``) or an integer; a TOML float is refused
  because it cannot hold cents exactly. More than two decimals is refused.
- A VAT rate is ``"22%"`` or a fraction ``"0.22"``; it is stored as a fraction.
- ``reopen_window = false`` means no time limit (``Policy.reopen_window`` is
  ``None``); ``"0s"`` forbids reopening.
- Under ``[plans.P.sla]`` a metric maps severity -> target, or is one target for
  every severity (``report = "72h"``). A target is ``"8h"`` or
  ``{goal = "5h", limit = "9h"}``; so ``goal`` and ``limit`` cannot be severity
  names.
- Touching intervals of one day (``08:00-12:00`` and ``12:00-18:00``) are merged.
- ``clock.start = "info_complete"`` needs ``policy.required_fields``: otherwise
  information would be complete at once and the setting would mean nothing.

The modules: ``loader`` reads the file table by table through ``general``, ``calendars``,
``service_levels``, ``money``, ``plans`` and ``closure``, on the typed reads of ``reader``;
``locator`` finds the line of a key for the message, ``errors`` holds :class:`PolicyError`.
"""

from __future__ import annotations

import hashlib
import tomllib
from functools import lru_cache

from deskctl.domain.policy import Policy
from deskctl.domain.policy_file.errors import PolicyError, syntax_error
from deskctl.domain.policy_file.loader import Loader
from deskctl.domain.policy_file.locator import Locator
from deskctl.domain.policy_file.reader import MAX_SPAN_SECONDS


def policy_digest(text: str) -> str:
    """SHA-256 hex of the exact text; the store uses it to skip reloading a same version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def parse_cached(text: str, source: str) -> Policy:
    """A stored policy version parsed once per process (many tickets share one)."""
    return parse_policy(text, source=source)


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and validate a policy file; raise :class:`PolicyError` on the first problem."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise syntax_error(exc, text, source) from None
    except RecursionError:
        raise PolicyError(source, 1, "", "nested too deeply to be a policy") from None
    return Loader(source, Locator(text)).policy(data)


__all__ = [
    "MAX_SPAN_SECONDS",
    "PolicyError",
]
