"""Where things live and who is acting: data dir, config file, store URL, user."""

from __future__ import annotations

import getpass
import os
import stat
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from deskctl.errors import BadInput, notice

APP = "deskctl"


def data_dir() -> Path:
    from platformdirs import user_data_path

    return Path(os.environ.get("DESKCTL_DATA_DIR") or user_data_path(APP, appauthor=False))


def config_path() -> Path:
    from platformdirs import user_config_path

    explicit = os.environ.get("DESKCTL_CONFIG")
    return Path(explicit) if explicit else user_config_path(APP, appauthor=False) / "config.toml"


@lru_cache(maxsize=4)
def _read_config(path: str) -> dict[str, Any]:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block every command
            raise BadInput(f"{path}: not a regular file")
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: {exc}") from None
    except RecursionError:
        raise BadInput(f"{path}: nested too deeply") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None


# The keys deskctl reads, per table; a key outside these is a typo (warned about).
KNOWN_KEYS: dict[str, set[str]] = {
    "database": {"url"},
    "smtp": {"host", "port", "starttls", "ssl", "username", "from", "timeout",
             "password_command"},
    "attachments": {"max_mb"},
}


def config() -> dict[str, Any]:
    """The user's config file (``config.toml``); empty when there is none.

    Secrets never sit here: database and SMTP passwords live in the keyring; a
    ``password`` key anywhere is refused (exit 2), other unknown keys of the
    tables above get one warning line.
    """
    return _checked(str(config_path()))


@lru_cache(maxsize=4)
def _checked(path: str) -> dict[str, Any]:
    cfg = _read_config(path)
    for table, keys in cfg.items():
        if not isinstance(keys, dict):
            continue
        for key in keys:
            if "password" in key.lower():
                continue  # refused where the table is read (services.mail), never echoed
            if table in KNOWN_KEYS and key not in KNOWN_KEYS[table]:
                known = ", ".join(sorted(KNOWN_KEYS[table]))
                notice(f"warning: {path}: [{table}] {key} is unknown (known: {known})")
    return cfg


def database_url() -> str:
    """``DESKCTL_DB`` (an SQLAlchemy URL or a file path), else the config, else the default."""
    raw = os.environ.get("DESKCTL_DB") or config().get("database", {}).get("url")
    if not raw:
        return f"sqlite:///{data_dir() / 'deskctl.db'}"
    return _url_from(raw)


def _url_from(raw: str) -> str:
    return raw if "://" in raw else f"sqlite:///{Path(raw).expanduser().resolve()}"


def explicit_database_url() -> str | None:
    """The store named by ``DESKCTL_DB`` alone (the demo honours it, never the config's)."""
    raw = os.environ.get("DESKCTL_DB")
    return _url_from(raw) if raw else None


def demo_store_path() -> Path:
    """Where `deskctl demo` builds its own store when DESKCTL_DB is not set."""
    return data_dir() / "demo.db"


# The identity a write transaction established (store.db.session): on PostgreSQL the
# database login's agent, which DESKCTL_USER or the OS login must not contradict.
ACTING: ContextVar[str | None] = ContextVar("deskctl_acting", default=None)


def acting_user() -> str:
    """The acting agent: inside a write transaction the one the store decided, else
    ``DESKCTL_USER`` or the OS login."""
    decided = ACTING.get()
    if decided:
        return decided
    user = os.environ.get("DESKCTL_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Paths:
    data: Path

    @property
    def attachments(self) -> Path:
        return self.data / "attachments"

    @property
    def outbox(self) -> Path:
        return self.data / "outbox"


def paths() -> Paths:
    return Paths(data_dir())
