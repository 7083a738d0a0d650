"""Passwords in the system keyring, stored only when the keyring truly keeps them.

A headless machine often has keyring's ``null`` backend (stores nothing,
silently) or ``fail`` (raises); either way nothing must claim "stored". The
password is written, read back, and only then reported; otherwise the user
is told where it can go instead, and the command exits 1.
"""

from __future__ import annotations

from deskctl.errors import Refused


def backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def save(service: str, key: str, password: str, *, instead: str) -> str:
    """Store ``password`` and prove it was kept; returns the backend's name.

    ``instead``: where this password can live when there is no usable keyring.
    """
    import keyring

    try:
        backend = keyring.get_keyring()
        name = backend_name(backend)
        if getattr(backend, "priority", 1) <= 0 and _reads_nothing(backend):
            raise _refusal(f"keyring unavailable ({name} stores nothing)", instead)
        keyring.set_password(service, key, password)
        kept = keyring.get_password(service, key)
    except Refused:
        raise
    except Exception as exc:
        raise _refusal(f"keyring unavailable ({type(exc).__name__})", instead) from None
    if kept != password:
        raise _refusal(f"keyring unavailable ({name} did not keep the password)", instead)
    return name


def _reads_nothing(backend: object) -> bool:
    from keyring.backends import fail, null

    return isinstance(backend, null.Keyring | fail.Keyring)


def _refusal(why: str, instead: str) -> Refused:
    return Refused(f"{why}: no password stored; {instead}")


PGPASS_HINT = (
    "put it in ~/.pgpass (host:port:database:user:password, chmod 600), "
    "which libpq reads, or in PGPASSWORD"
)
SMTP_HINT = (
    "set [smtp] password_command in config.toml to a command that prints it "
    "(e.g. `pass show smtp`), or install a keyring backend"
)
