"""Who is calling: bearer tokens for machines, signed session cookies (with CSRF tokens) for people.

A session cookie holds the user name, role, expiry and a CSRF token, signed with HMAC-SHA256 under
``security.session_secret``. Unsafe requests (POST, PUT, PATCH, DELETE) authenticated by the cookie
must carry the same CSRF token, in the ``X-CSRF-Token`` header (htmx) or a ``csrf_token`` form field.
Bearer-token requests need no CSRF token: browsers never send them on their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request, Response

from b2b_gateway.api.users import Role, User, UserStore
from b2b_gateway.errors import AuthenticationError, PermissionDeniedError

__all__ = ["COOKIE", "CSRF_HEADER", "Admin", "Authenticator", "Operator", "Principal", "Viewer"]

COOKIE = "b2b_session"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the ``name`` recorded in the audit trail as the actor."""

    name: str
    role: Role
    via: Literal["token", "session"]
    csrf: str = ""

    def can(self, role: Role) -> bool:
        return self.role.allows(role)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    """Checks bearer tokens and session cookies; issues and clears sessions.

    Args:
        users: the user store (dashboard logins).
        session_secret: the HMAC key for session cookies (random per process when not configured:
            sessions then end with the process).
        api_token: the machine token; a bearer of it acts as ``api-token`` with the operator role.
        max_age_s: how long a session lasts.
        secure_cookies: mark cookies ``Secure`` (served over HTTPS).
    """

    def __init__(
        self,
        users: UserStore,
        *,
        session_secret: str | None = None,
        api_token: str | None = None,
        max_age_s: int = 8 * 3600,
        secure_cookies: bool = False,
    ) -> None:
        self.users = users
        self._key = hashlib.sha256((session_secret or secrets.token_hex(32)).encode()).digest()
        self._token = api_token
        self.max_age_s = max_age_s
        self.secure_cookies = secure_cookies

    # --- sessions ------------------------------------------------------------------------------

    def _sign(self, body: str) -> str:
        return _b64e(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def issue(self, user: User, response: Response) -> Principal:
        """Start a session for ``user``: set the signed cookie on ``response``."""
        csrf = secrets.token_urlsafe(24)
        payload = {"u": user.name, "r": user.role.value, "exp": int(time.time()) + self.max_age_s, "c": csrf}
        body = _b64e(json.dumps(payload, separators=(",", ":")).encode())
        response.set_cookie(
            COOKIE,
            f"{body}.{self._sign(body)}",
            max_age=self.max_age_s,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookies,
            path="/",
        )
        return Principal(user.name, user.role, "session", csrf)

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    def _from_cookie(self, value: str) -> Principal | None:
        body, _, sig = value.partition(".")
        if not sig or not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            data = json.loads(_b64d(body))
            if int(data["exp"]) < time.time():
                return None
            user = self.users.get(str(data["u"]))
        except (ValueError, KeyError, TypeError):
            return None
        if user is None or user.role.value != data["r"]:
            return None  # deleted or re-roled since the login
        return Principal(user.name, user.role, "session", str(data["c"]))

    # --- requests ------------------------------------------------------------------------------

    def identify(self, request: Request) -> Principal | None:
        """The caller of ``request``, or ``None`` when it carries no valid credentials."""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            if self._token and hmac.compare_digest(token.encode(), self._token.encode()):
                return Principal("api-token", Role.OPERATOR, "token")
            return None
        cookie = request.cookies.get(COOKIE)
        return self._from_cookie(cookie) if cookie else None

    async def check_csrf(self, request: Request, principal: Principal) -> None:
        """Refuse an unsafe cookie-authenticated request without the session's CSRF token.

        Raises:
            PermissionDeniedError: the token is missing or wrong.
        """
        if principal.via != "session" or request.method not in _UNSAFE:
            return
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            sent = str((await request.form()).get("csrf_token", ""))
        if not sent or not hmac.compare_digest(sent.encode(), principal.csrf.encode()):
            raise PermissionDeniedError("missing or wrong CSRF token", hint="reload the page and try again")

    def require(self, role: Role) -> Callable[[Request], Awaitable[Principal]]:
        """A FastAPI dependency: the authenticated caller, who must hold ``role``.

        Raises:
            AuthenticationError: no valid credentials.
            PermissionDeniedError: the role is too low, or the CSRF token is missing.
        """

        async def dependency(request: Request) -> Principal:
            principal = self.identify(request)
            if principal is None:
                raise AuthenticationError("authentication required", hint="log in, or send a bearer token")
            if not principal.can(role):
                raise PermissionDeniedError(f"{principal.name} ({principal.role.value}) may not do this")
            await self.check_csrf(request, principal)
            return principal

        return dependency

    def bind(self) -> Callable[[Request], Awaitable[None]]:
        """A router dependency that makes this authenticator the one ``Viewer``/``Operator``/``Admin`` use."""

        async def dependency(request: Request) -> None:
            request.state.authenticator = self

        return dependency


async def _caller(request: Request, role: Role) -> Principal:
    auth = getattr(request.state, "authenticator", None)
    assert isinstance(auth, Authenticator), "the router must bind its Authenticator (Authenticator.bind)"
    return await auth.require(role)(request)


async def _viewer(request: Request) -> Principal:
    return await _caller(request, Role.VIEWER)


async def _operator(request: Request) -> Principal:
    return await _caller(request, Role.OPERATOR)


async def _admin(request: Request) -> Principal:
    return await _caller(request, Role.ADMIN)


Viewer = Annotated[Principal, Depends(_viewer)]
"""A route parameter: the authenticated caller, with at least the viewer role."""
Operator = Annotated[Principal, Depends(_operator)]
"""A route parameter: the authenticated caller, with at least the operator role (and a CSRF token)."""
Admin = Annotated[Principal, Depends(_admin)]
"""A route parameter: the authenticated caller, with the admin role."""
