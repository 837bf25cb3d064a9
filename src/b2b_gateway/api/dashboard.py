"""The web dashboard: server-rendered Jinja2 pages, htmx for partial updates, no front-end build.

Pages: overview, messages (filters and search by order or invoice number), message detail (audit
trail timeline, raw and canonical side by side, located errors, action buttons), partners,
certificates, and the login. Every page needs a session; actions need the operator role and the
session's CSRF token (sent by htmx in the ``X-CSRF-Token`` header, or as a form field).
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from b2b_gateway._version import __version__
from b2b_gateway.api.auth import CSRF_HEADER, Authenticator, Principal
from b2b_gateway.api.charts import throughput_svg
from b2b_gateway.api.ops import Operations
from b2b_gateway.api.ports import Action, MessageQuery
from b2b_gateway.api.routes import query_of
from b2b_gateway.api.users import Role
from b2b_gateway.api.views import message_detail, partner_view
from b2b_gateway.errors import AuthenticationError, GatewayError, NotFoundError, PermissionDeniedError
from b2b_gateway.pipeline.message import Direction, State

__all__ = ["dashboard_router"]

_STATIC = {"htmx.min.js": "text/javascript", "style.css": "text/css"}
_SECTIONS = {
    "overview.html": "overview",
    "messages.html": "messages",
    "message.html": "messages",
    "partners.html": "partners",
    "partner.html": "partners",
    "certificates.html": "certificates",
    "conversation.html": "messages",
}
_ACTIONS_BY_STATE: dict[str, list[Action]] = {
    "failed": [Action.RETRY, Action.REPLAY, Action.CANCEL],
    "rejected": [Action.REPLAY, Action.CANCEL],
    "parked": [Action.REPLAY, Action.CANCEL],
    "quarantined": [Action.RELEASE, Action.REPLAY, Action.CANCEL],
    "delivered": [Action.REPLAY],
    "duplicate": [Action.REPLAY],
    "cancelled": [Action.REPLAY],
}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("b2b_gateway.api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False, default=str)
    env.globals["version"] = __version__
    return env


def _when(value: object) -> str:
    """A timestamp (or ISO string) as ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S")
    return "–" if value is None else str(value)


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after a login (no open redirect)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else "/"


class _Pages:
    def __init__(self, ops: Operations, auth: Authenticator) -> None:
        self.ops = ops
        self.auth = auth
        self.env = _environment()

    def render(self, name: str, user: Principal | None, status: int = 200, **context: Any) -> HTMLResponse:
        section = _SECTIONS.get(name, "")
        html = self.env.get_template(name).render(user=user, csrf_header=CSRF_HEADER, section=section, **context)
        return HTMLResponse(html, status_code=status)

    def who(self, request: Request) -> Principal | None:
        return self.auth.identify(request)

    def to_login(self, request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def dashboard_router(ops: Operations, auth: Authenticator) -> APIRouter:
    """The dashboard's pages over ``ops``, guarded by ``auth`` sessions."""
    router = APIRouter(include_in_schema=False)
    pages = _Pages(ops, auth)

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in _STATIC:
            raise NotFoundError(f"no static file {name!r}")
        data = resources.files("b2b_gateway.api").joinpath("static", name).read_bytes()
        return Response(data, media_type=_STATIC[name], headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/login")
    async def login_form(request: Request, next: str = "/") -> Response:
        return pages.render("login.html", None, next=_safe_next(next), error=None)

    @router.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.url.netloc:
            raise PermissionDeniedError("login from another site refused")
        try:
            user = auth.users.authenticate(username, password)
        except AuthenticationError as exc:
            return pages.render("login.html", None, status=401, next=_safe_next(next), error=exc.message)
        response = RedirectResponse(_safe_next(next), status_code=303)
        auth.issue(user, response)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        user = pages.who(request)
        if user is not None:
            await auth.check_csrf(request, user)
        response = RedirectResponse("/login", status_code=303)
        auth.clear(response)
        return response

    @router.get("/")
    async def overview(request: Request, hours: int = 24) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        data = await ops.overview(hours=max(1, min(hours, 24 * 31)))
        return pages.render("overview.html", user, o=data, chart=throughput_svg(data.throughput), hours=hours)

    @router.get("/messages")
    async def messages(
        request: Request,
        state: str = "",
        partner: str = "",
        document_type: str = "",
        direction: str = "",
        q: str = "",
        offset: int = 0,
    ) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        query = query_of(
            State(state) if state in State.__members__.values() else None,
            partner,
            document_type,
            Direction(direction) if direction in Direction.__members__.values() else None,
            q=q,
            offset=offset,
        )
        page = await ops.list_messages(query)
        context: dict[str, Any] = {
            "page": page,
            "query": query,
            "filters": {"state": state, "partner": partner, "document_type": document_type, "direction": direction},
            "q": q,
            "states": [s.value for s in State],
            "partners": sorted(p.id for p in ops.partners),
        }
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "rows":
            return pages.render("_message_rows.html", user, **context)
        return pages.render("messages.html", user, **context)

    @router.get("/messages/{message_id}")
    async def message(request: Request, message_id: str) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        found = await ops.message(message_id)
        if found is None:
            return pages.render("not_found.html", user, status=404, what=f"message {message_id}")
        detail = message_detail(found, lineage=await ops.lineage(found.message.id))
        actions = _ACTIONS_BY_STATE.get(found.message.state.value, [Action.CANCEL])
        return pages.render("message.html", user, m=detail, actions=actions, can_act=user.can(Role.OPERATOR))

    @router.post("/messages/{message_id}/{action}")
    async def act(request: Request, message_id: str, action: Action) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        htmx = bool(request.headers.get("HX-Request"))
        try:
            if not user.can(Role.OPERATOR):
                raise PermissionDeniedError(f"{user.name} ({user.role.value}) may not {action.value} messages")
            await auth.check_csrf(request, user)
            result = await ops.act(action, message_id, actor=user.name)
        except GatewayError as exc:
            if not htmx:
                raise
            return pages.render("_action_result.html", user, ok=False, action=action, error=exc, result=None)
        if not htmx:
            return RedirectResponse(f"/messages/{message_id}", status_code=303)
        return pages.render("_action_result.html", user, ok=True, action=action, error=None, result=result)

    @router.get("/conversations/{business_key}")
    async def conversation(request: Request, business_key: str) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        rows = await ops.conversation(business_key)
        awaiting = {a.message_id: a for a in await ops.awaiting()}
        now = dt.datetime.now(dt.UTC)
        return pages.render("conversation.html", user, key=business_key, rows=rows, awaiting=awaiting, now=now)

    @router.get("/partners")
    async def partners(request: Request) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        awaiting = await ops.awaiting()
        rows = [
            {"profile": p, "awaiting": sum(1 for a in awaiting if a.partner == p.id)}
            for p in sorted(ops.partners, key=lambda p: p.id)
        ]
        return pages.render("partners.html", user, rows=rows)

    @router.get("/partners/{partner_id}")
    async def partner(request: Request, partner_id: str) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        profile = ops.partners.get(partner_id)
        if profile is None:
            return pages.render("not_found.html", user, status=404, what=f"partner {partner_id}")
        recent = await ops.list_messages(MessageQuery(partner=partner_id, limit=25))
        now = dt.datetime.now(dt.UTC)
        awaiting = [a for a in await ops.awaiting() if a.partner == partner_id]
        return pages.render(
            "partner.html",
            user,
            p=profile,
            profile=partner_view(profile),
            recent=recent,
            awaiting=awaiting,
            now=now,
            certs=[c for c in ops.certificates() if c.partner == partner_id],
        )

    @router.get("/certificates")
    async def certificates(request: Request) -> Response:
        user = pages.who(request)
        if user is None:
            return pages.to_login(request)
        now = dt.datetime.now(dt.UTC)
        return pages.render(
            "certificates.html",
            user,
            certs=ops.certificates(),
            now=now,
            warning_days=ops.settings.security.cert_warning_days,
        )

    return router
