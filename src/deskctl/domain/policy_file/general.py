"""The ``[policy]``, ``[vendor]`` and ``[mail]`` tables."""

from __future__ import annotations

import re
from typing import Any

from deskctl.domain.policy import (
    INTAKE_FIELDS,
    NOTIFICATIONS,
    MailRules,
    VendorIdentity,
)
from deskctl.domain.policy_file.errors import Path
from deskctl.domain.policy_file.reader import Reader

DEFAULT_CHANNELS = ("portal", "email", "phone")


class GeneralTables(Reader):
    """``[policy]``, ``[vendor]``, ``[mail]``."""

    def identity(self, raw: object, vendor: str) -> VendorIdentity:
        """``[vendor]``: the seller on invoices and the issuer on reports."""
        path: Path = ("vendor",)
        keys = (
            "legal_name",
            "address",
            "vat_number",
            "email",
            "phone",
            "logo",
            "templates",
            "payment_terms",
            "country",
            "locale",
        )
        t = self.table(raw, path, keys=keys)
        text = {
            k: self.string(t.get(k, ""), (*path, k)).strip() for k in keys[:5] if k != "address"
        }
        address = t.get("address", [])
        if isinstance(address, str):
            address = [address]
        lines = [
            self.string(v, (*path, "address", i)).strip()
            for i, v in enumerate(self.array(address, (*path, "address")))
        ]
        terms_path = (*path, "payment_terms")
        terms = self.duration(t.get("payment_terms", "30d"), terms_path, positive=False)
        if terms % 86400:
            self.fail(terms_path, 'payment terms are whole days, like "30d"')
        return VendorIdentity(
            legal_name=text["legal_name"] or vendor,
            address=tuple(line for line in lines if line),
            vat_number=text["vat_number"],
            email=text["email"],
            phone=text["phone"],
            logo=self.path_text(t, "logo", path),
            templates=self.path_text(t, "templates", path),
            payment_terms_days=terms // 86400,
            country=self.country(t, path),
            locale=self.string(t.get("locale", ""), (*path, "locale")).strip(),
        )

    def country(self, t: dict[str, Any], path: Path) -> str:
        text = self.string(t.get("country", ""), (*path, "country")).strip().upper()
        if text and not re.fullmatch(r"[A-Z]{2}", text):
            self.fail((*path, "country"), f"{text!r} is not a two-letter country code")
        return text

    def path_text(self, t: dict[str, Any], key: str, path: Path) -> str | None:
        if key not in t:
            return None
        text = self.string(t[key], (*path, key)).strip()
        if not text:
            self.fail((*path, key), "give a file path, or leave the key out")
        return text

    def head(self, raw: object) -> dict[str, Any]:
        path: Path = ("policy",)
        keys = (
            "name",
            "vendor",
            "description",
            "channels",
            "default_channel",
            "required_fields",
            "reopen_window",
        )
        t = self.table(raw, path, keys=keys, required=("name", "vendor"))
        channels = self.names(
            t.get("channels", list(DEFAULT_CHANNELS)), (*path, "channels"), "channel"
        )
        if not channels:
            self.fail((*path, "channels"), "list at least one channel")
        default_channel = self.string(
            t.get("default_channel", channels[0]), (*path, "default_channel")
        )
        if default_channel not in channels:
            self.fail(
                (*path, "default_channel"),
                f"{default_channel!r} is not one of the channels ({', '.join(channels)})",
            )
        window_raw = t.get("reopen_window", "14d")
        window_path = (*path, "reopen_window")
        if window_raw is True:
            self.fail(window_path, 'write a duration like "14d", or false for no time limit')
        window = (
            None if window_raw is False else self.duration(window_raw, window_path, positive=False)
        )
        return {
            "name": self.name(t["name"], (*path, "name"), "policy"),
            "vendor": self.string(t["vendor"], (*path, "vendor")),
            "description": self.string(t.get("description", ""), (*path, "description")),
            "channels": channels,
            "default_channel": default_channel,
            "required_fields": self.names(
                t.get("required_fields", []),
                (*path, "required_fields"),
                "intake field",
                INTAKE_FIELDS,
            ),
            "reopen_window": window,
        }

    def mail(self, raw: object) -> MailRules:
        path: Path = ("mail",)
        t = self.table(raw, path, keys=("notify", "templates", "address"))
        notify = self.names(t.get("notify", []), (*path, "notify"), "notification", NOTIFICATIONS)
        templates = self.string(t["templates"], (*path, "templates")) if "templates" in t else None
        address = self.string(t["address"], (*path, "address")) if "address" in t else None
        if address is not None and "@" not in address:
            self.fail((*path, "address"), f"{address!r} is not an e-mail address")
        return MailRules(notify=notify, templates=templates or None, address=address or None)
