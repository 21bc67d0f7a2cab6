"""`ztl demo load`: the demo city in the database, through the same paths production uses.

Idempotent: the city (zones, calendars, gates, categories) comes from the rules file as on any
start-up; the registers are imported
with `import_registry` (an upsert by key); users are created only when missing. Demo passwords are
random on the first load and kept in the instance folder (mode 0600), so every later load prints
the same logins and nothing secret is in the repository.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from ztl.accounts.staff import create_user, find_user_by_email
from ztl.city import sync_city
from ztl.city.rules_config import current_rules
from ztl.demo.generator import FILE_ORDER, CitySize, codice_fiscale, generate
from ztl.infrastructure.unit_of_work import Actor
from ztl.models.enums import Role
from ztl.registries.importer import ImportResult, import_registry

LOGINS_FILE = "demo_logins.txt"
DEMO_DOMAIN = "demo.ztl"
DEMO_CITY = CitySize(residents=400, vehicles=340, badges=16, businesses=40)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass
class DemoSummary:
    imports: dict[str, ImportResult] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)
    users_created: int = 0


def load_city_configuration() -> None:
    """The city from the rules file in force, as start-up and `ztl db upgrade` bring it in."""
    sync_city(current_rules())


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    logins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        email, _, password = line.partition("\t")
        if email and password:
            logins[email] = password
    return logins


def _write_logins(path: Path, logins: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for email, password in logins.items():
            handle.write(f"{email}\t{password}\n")
    os.chmod(path, 0o600)


# The demo's people, named as a person is (the pages show these names, never a role's code).
DEMO_NAMES = {
    Role.RESIDENT: "Mario Rossi",
    Role.CLERK: "Giulia Conti",
    Role.SUPERVISOR: "Marco Ferri",
    Role.POLICE: "Sara Galli",
    Role.ADMIN: "Paolo Bruni",
}


def ensure_demo_users(summary: DemoSummary) -> None:
    """One user per role; the resident is tied to generated resident 0 (zone A, owns a car)."""
    path = Path(current_app.instance_path) / LOGINS_FILE
    logins = _read_logins(path)
    for role in Role:
        email = f"{role.value}@{DEMO_DOMAIN}"
        password = logins.get(email)
        if find_user_by_email(email) is None:
            password = password or secrets.token_urlsafe(12) + "-7"
            create_user(
                role.value,
                email,
                password,
                full_name=DEMO_NAMES[role],
                codice_fiscale=codice_fiscale(0) if role is Role.RESIDENT else None,
                actor=Actor("demo"),
            )
            summary.users_created += 1
        logins[email] = password or "(set before this file existed)"
        summary.logins.append(DemoLogin(role.value, email, logins[email]))
    _write_logins(path, logins)


def load_demo(progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Configuration, registers and users of the demo city; safe to run again."""
    say = progress or (lambda _message: None)
    summary = DemoSummary()
    load_city_configuration()
    say("zones, gates and categories loaded")
    with tempfile.TemporaryDirectory(prefix="ztl-demo-") as tmp:
        paths = generate(Path(tmp), DEMO_CITY)
        for kind in FILE_ORDER:
            result = import_registry(kind, paths[kind], actor=Actor("demo"))
            summary.imports[kind] = result
            say(f"{kind}: {result.rows_imported} imported, {result.rows_rejected} refused")
    ensure_demo_users(summary)
    return summary
