"""Dashboard users and roles, with passwords hashed by scrypt.

Users live in a JSON file (``security.users_file``, default ``<data_dir>/users.json``, mode 0600) that
``b2b-gateway users add|list|passwd`` edits. The ``admin`` user is bootstrapped from the
``security.admin_password`` (or ``admin_password_file``) setting and never written to the file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from b2b_gateway.errors import ActionNotAllowedError, AuthenticationError, Location, NotFoundError, SettingsError

__all__ = ["Role", "User", "UserStore", "hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1
_MIN_PASSWORD = 8


class Role(StrEnum):
    """What a user may do. Each role includes the ones before it."""

    VIEWER = "viewer"
    """Reads messages, partners, certificates, queues and statistics."""
    OPERATOR = "operator"
    """Also retries, replays, cancels and releases messages."""
    ADMIN = "admin"
    """Also manages users."""

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self) >= order.index(needed)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """An scrypt hash string ``scrypt$N$r$p$salt$hash`` (base64) for ``password``."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the hash string (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * int(n) * int(r) * 2,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard or API user. ``password_hash`` never leaves the server."""

    name: str
    role: Role
    password_hash: str = ""
    created_at: str = ""
    builtin: bool = False

    def public(self) -> dict[str, str | bool]:
        return {"name": self.name, "role": self.role.value, "created_at": self.created_at, "builtin": self.builtin}


class UserStore:
    """Users from the JSON file, plus the ``admin`` user whose password comes from the settings."""

    def __init__(self, path: Path, *, admin_password: str | None = None) -> None:
        self.path = path
        self._admin = User("admin", Role.ADMIN, hash_password(admin_password), builtin=True) if admin_password else None

    def _load(self) -> dict[str, User]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SettingsError(f"cannot read the users file: {exc}", location=Location(file=str(self.path))) from None
        return {
            u["name"]: User(u["name"], Role(u["role"]), u["password_hash"], u.get("created_at", ""))
            for u in raw.get("users", [])
        }

    def _save(self, users: dict[str, User]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "users": [
                {"name": u.name, "role": u.role.value, "password_hash": u.password_hash, "created_at": u.created_at}
                for u in sorted(users.values(), key=lambda u: u.name)
            ]
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        tmp.replace(self.path)

    def list(self) -> list[User]:
        users = self._load()
        if self._admin is not None:
            users[self._admin.name] = self._admin
        return sorted(users.values(), key=lambda u: u.name)

    def get(self, name: str) -> User | None:
        if self._admin is not None and name == self._admin.name:
            return self._admin
        return self._load().get(name)

    def add(self, name: str, role: Role, password: str) -> User:
        """Create a user.

        Raises:
            ActionNotAllowedError: the name is taken or the password is too short.
        """
        _check_password(password)
        users = self._load()
        if name in users or (self._admin is not None and name == self._admin.name):
            raise ActionNotAllowedError(f"user {name!r} already exists", hint="use `users passwd` to change it")
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        users[name] = User(name, role, hash_password(password), now)
        self._save(users)
        return users[name]

    def set_password(self, name: str, password: str) -> None:
        """Change a file user's password.

        Raises:
            NotFoundError: no such user in the file (the built-in admin's password lives in the settings).
        """
        _check_password(password)
        users = self._load()
        if name not in users:
            raise NotFoundError(f"no user {name!r} in {self.path}")
        old = users[name]
        users[name] = User(old.name, old.role, hash_password(password), old.created_at)
        self._save(users)

    def authenticate(self, name: str, password: str) -> User:
        """The user whose name and password these are.

        Raises:
            AuthenticationError: unknown user or wrong password (the message does not say which).
        """
        user = self.get(name)
        if user is None:
            verify_password(password, hash_password("timing-equaliser"))
        elif verify_password(password, user.password_hash):
            return user
        raise AuthenticationError("wrong user name or password")


def _check_password(password: str) -> None:
    if len(password) < _MIN_PASSWORD:
        raise ActionNotAllowedError(f"a password needs at least {_MIN_PASSWORD} characters")
