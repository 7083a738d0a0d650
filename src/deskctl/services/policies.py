"""Loading policy files into the store, and finding the policy that applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session, col

from deskctl.domain.policy import Policy, pick_policy_name
from deskctl.domain.roles import Act
from deskctl.errors import BadInput, NotFound
from deskctl.store import identity
from deskctl.store.models import PolicyVersion


@dataclass(frozen=True)
class Loaded:
    name: str
    version: int
    id: int
    changed: bool

    def to_json(self) -> dict:
        return {"name": self.name, "version": self.version, "id": self.id, "changed": self.changed}


def parse_cached(text: str, source: str) -> Policy:
    from deskctl.domain import policy_file

    return policy_file.parse_cached(text, source)


def validate(text: str, source: str) -> Policy:
    """Parse a file about to be stored, and check its holiday codes exist.

    The codes are checked here (the ``holidays`` package is slow to import) so
    a typo is refused at load time, not at the first deadline computed.
    """
    from deskctl import i18n
    from deskctl.domain.calendar import check_holiday_codes
    from deskctl.errors import BadInput

    policy = parse_cached(text, source)
    if policy.identity.locale:
        try:
            i18n.normalise(policy.identity.locale)
        except ValueError as exc:
            raise BadInput(f"{source}: vendor.locale: {exc}") from None
    for name, cal in policy.calendars.items():
        try:
            check_holiday_codes(list(cal.holidays))
        except BadInput as exc:
            raise BadInput(f"{source}: calendars.{name}.holidays: {exc.message}") from None
    return policy


def read_policy_file(path: str) -> str:
    from deskctl import files

    return files.read_text(path, what="policy file")


def examples_dir() -> Path:
    """The example policies shipped inside the package (an installed wheel included)."""
    from importlib.resources import files

    return Path(str(files("deskctl") / "examples"))


def examples() -> list[dict]:
    """The shipped example policies: name, vendor and file, for `policy examples`."""
    rows = []
    for path in sorted(examples_dir().glob("*.toml")):
        policy = parse_cached(path.read_text(encoding="utf-8"), str(path))
        rows.append({"name": path.stem, "vendor": policy.vendor, "file": str(path)})
    return rows


def example_path(name: str) -> str:
    """The file of the shipped example policy ``name``; unknown names list the choices."""
    path = examples_dir() / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(examples_dir().glob("*.toml")))
        raise NotFound(f"no example policy {name!r}; the examples are: {known}")
    return str(path)


def load(session: Session, text: str, *, source: str, actor: str, now: datetime) -> Loaded:
    """Validate and store a new version (a manager's act); an unchanged file stores nothing."""
    from deskctl.domain.policy_file import policy_digest

    identity.require(session, Act.LOAD_POLICY)
    policy = validate(text, source)
    digest = policy_digest(text)
    latest = _latest_row(session, policy.name)
    if latest is not None and latest.digest == digest:
        assert latest.id is not None
        return Loaded(policy.name, latest.version, latest.id, changed=False)
    row = PolicyVersion(
        name=policy.name,
        version=(latest.version + 1) if latest else 1,
        digest=digest,
        source=_where(source)[-500:],
        text=text,
        loaded_at=now,
        loaded_by=actor,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return Loaded(row.name, row.version, row.id, changed=True)


def _where(source: str) -> str:
    """The file's absolute path when it is one: a policy's logo and template folder are
    relative to it, whatever folder later commands run in."""
    from pathlib import Path

    path = Path(source)
    return str(path.resolve()) if path.is_file() else source


def _latest_row(session: Session, name: str) -> PolicyVersion | None:
    stmt = (
        select(PolicyVersion)
        .where(col(PolicyVersion.name) == name)
        .order_by(col(PolicyVersion.version).desc())
        .limit(1)
    )
    return session.execute(stmt).scalars().first()


def with_calendar(session: Session, calendar: str, policy: str | None) -> Policy:
    """The policy whose calendar ``calendar`` is meant: --policy, else the one that has it.

    ``--policy`` is needed only when two loaded policies have a calendar of that name.
    """
    loaded = names(session)
    if policy is not None or len(loaded) <= 1:
        return latest(session, policy)[1]
    owners = [p for p in (latest(session, n)[1] for n in loaded) if calendar in p.calendars]
    if len(owners) == 1:
        return owners[0]
    if not owners:
        raise NotFound(
            f"no calendar {calendar!r} in the policies {', '.join(loaded)}; "
            "see `deskctl calendar list`"
        )
    raise BadInput(
        f"calendar {calendar!r} is in the policies {', '.join(p.name for p in owners)}: "
        "name one with --policy"
    )


def names(session: Session) -> list[str]:
    stmt = select(col(PolicyVersion.name)).distinct().order_by(col(PolicyVersion.name))
    return list(session.execute(stmt).scalars())


def resolve_name(session: Session, name: str | None) -> str:
    """The policy a command means: the one named, else the only one loaded."""
    return pick_policy_name(names(session), name)


def latest(session: Session, name: str | None = None) -> tuple[PolicyVersion, Policy]:
    row = _latest_row(session, resolve_name(session, name))
    assert row is not None
    return row, parse_cached(row.text, f"{row.name} v{row.version}")


def by_version_id(session: Session, version_id: int) -> tuple[PolicyVersion, Policy]:
    row = session.get(PolicyVersion, version_id)
    if row is None:
        raise NotFound(f"no policy version {version_id}")
    return row, parse_cached(row.text, f"{row.name} v{row.version}")


def versions(session: Session) -> list[dict]:
    stmt = select(
        col(PolicyVersion.name),
        col(PolicyVersion.version),
        col(PolicyVersion.loaded_at),
        col(PolicyVersion.loaded_by),
        col(PolicyVersion.source),
        col(PolicyVersion.digest),
    ).order_by(col(PolicyVersion.name), col(PolicyVersion.version))
    return [dict(r._mapping) for r in session.execute(stmt)]


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(PolicyVersion)).scalar_one())


def severity_names(session: Session) -> list[str]:
    """Every severity of every loaded policy version, in first-seen order."""
    import tomllib

    seen: dict[str, None] = {}
    for text in session.execute(select(col(PolicyVersion.text))).scalars():
        for name in tomllib.loads(text).get("severities", {}).get("order", []):
            seen[str(name)] = None
    return list(seen)


def check_severities(session: Session, values: list[str], what: str = "--severity") -> None:
    """A severity filter names a severity some policy has (a typo would list nothing)."""
    if not values:
        return
    from deskctl.domain import validate as rules

    known = severity_names(session)
    for value in values:
        rules.choice(value, known, what)
