"""Signing in and out of the web pages.

* The development sign-in page (only in development, and only while the development issuer is trusted): pick
  one of the demo users (`register.access.development`, the same list `register demo` writes tokens for); no
  password.
* Each identity provider of REGISTER_OIDC_ISSUERS: the OpenID Connect authorization code flow with PKCE (S256)
  through Authlib's Starlette client. The provider's access token is verified exactly as the API verifies a
  bearer token (issuer, audience, signature, expiry) and its claims become the principal through the same
  claim mapping (auth/issuers.yaml), so the pages and the API agree on who someone is.
* Sign-out (a POST with the CSRF token) ends the register's session and then the provider's (RP-initiated
  logout: its end_session_endpoint with client_id and post_logout_redirect_uri, no id_token_hint, so no token
  or personal data goes into a URL; the provider may ask its user to confirm).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError  # type: ignore[import-untyped]
from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..access.development import DemoUser, demo_users
from ..access.tokens import DEV_ISSUER, AuthenticationFailed, TokenVerifier
from ..api.deps import request_id
from ..api.observability import count_sign_in
from ..api.routing import APIRouter
from ..config import Settings
from ..signin import service as signin_service
from . import sessions
from .common import PageProblem, local_path, redirect, render, verify_csrf, work

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

DEVELOPMENT = "development"


@dataclass(frozen=True)
class Provider:
    """One identity provider the web pages sign in through."""

    index: int
    issuer: str

    @property
    def name(self) -> str:
        return f"idp{self.index}"

    @property
    def label(self) -> str:
        parts = urlsplit(self.issuer)
        realm = parts.path.rstrip("/").rsplit("/", 1)[-1]
        return f"{parts.hostname}" + (f" ({realm})" if realm else "")


class SignIn:
    """How this register signs people in to its pages: configured once, kept on `app.state.sign_in`."""

    def __init__(self, settings: Settings, verifier: TokenVerifier) -> None:
        self.settings = settings
        self.verifier = verifier
        self.development = settings.environment == "development" and DEV_ISSUER in verifier.issuers
        self.providers = [Provider(i, url) for i, url in enumerate(settings.oidc_issuer_urls)]
        self.oauth = OAuth()
        for provider in self.providers:
            self.oauth.register(
                name=provider.name,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret or None,
                server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
                client_kwargs={
                    "scope": "openid profile",
                    "code_challenge_method": "S256",
                    "token_endpoint_auth_method": "client_secret_basic"
                    if settings.oidc_client_secret
                    else "none",
                },
            )

    @property
    def form_targets(self) -> list[str]:
        """Origins a form's response may redirect to (sign-out goes on to the provider's end-session
        endpoint)."""
        return sorted({f"{urlsplit(p.issuer).scheme}://{urlsplit(p.issuer).netloc}" for p in self.providers})

    def provider(self, index: int) -> Provider:
        if not 0 <= index < len(self.providers):
            raise PageProblem(404, "Page not found", "There is no such way to sign in.", rule="not_found")
        return self.providers[index]

    def client(self, provider: Provider) -> Any:
        return self.oauth.create_client(provider.name)

    def by_issuer(self, issuer: str | None) -> Provider | None:
        return next((p for p in self.providers if p.issuer == issuer), None)


def _sign_in(request: Request) -> SignIn:
    value: SignIn = request.app.state.sign_in
    return value


def _users_by_id() -> dict[str, DemoUser]:
    return {u.user_id: u for u in demo_users()}


def _plural(n: float, unit: str) -> str:
    return f"{n:g} {unit}{'' if n == 1 else 's'}"


def _page(request: Request, next_path: str, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    sign_in = _sign_in(request)
    sessions.ensure(request)  # the form's CSRF token lives in a session that exists before anyone signs in
    ended = request.query_params.get("ended")
    settings = sign_in.settings
    return render(
        request,
        "pages/sign-in.html",
        {
            "title": ("Error: " if error else "") + "Sign in",
            "next": next_path,
            "development": sign_in.development,
            "users": demo_users() if sign_in.development else [],
            "providers": sign_in.providers,
            "error": error,
            "ended": ended if ended in ("idle", "absolute") else None,
            "idle": _plural(settings.session_idle_minutes, "minute"),
            "max_age": _plural(settings.session_max_hours, "hour"),
        },
        status_code=status,
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    session = sessions.current(request)
    if session is not None and session.principal is not None:
        return redirect(local_path(next))
    return _page(request, local_path(next))


@router.post("/sign-in", response_class=HTMLResponse)
def development_sign_in(
    request: Request,
    user: Annotated[str | None, Form(max_length=100)] = None,
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    sign_in = _sign_in(request)
    if not sign_in.development:
        raise PageProblem(
            404,
            "Page not found",
            "This register signs people in through its identity provider.",
            rule="not_found",
        )
    chosen = _users_by_id().get(user or "")
    if chosen is None:
        return _page(request, local_path(next), error="Choose who to sign in as", status=400)
    principal = chosen.principal()
    with work(request) as uow:
        signin_service.signed_in(
            uow, principal, method=DEVELOPMENT, issuer=DEV_ISSUER, request_id=request_id(request)
        )
    count_sign_in(request, DEVELOPMENT, "success")
    sessions.begin_signed_in(request, principal, issuer=DEVELOPMENT)
    return redirect(local_path(next))


@router.get("/sign-in/oidc/{index}")
async def oidc_start(request: Request, index: int, next: str | None = None) -> Response:
    sign_in = _sign_in(request)
    provider = sign_in.provider(index)
    session = sessions.ensure(request)
    session.data["next"] = local_path(next)
    redirect_uri = str(request.url_for("oidc_callback", index=str(index)))
    try:
        response: Response = await sign_in.client(provider).authorize_redirect(request, redirect_uri)
    except Exception as exc:  # noqa: BLE001 - the provider unreachable or its metadata unreadable: say so
        log.warning("cannot start signing in at %s: %s", provider.issuer, exc)
        raise PageProblem(
            503,
            "Sign-in is not available",
            f"The identity provider ({provider.label}) cannot be reached. Try again in a few minutes.",
            rule="identity_provider_unavailable",
        ) from None
    return response


@router.get("/sign-in/oidc/{index}/callback", name="oidc_callback")
async def oidc_callback(request: Request, index: int) -> Response:
    sign_in = _sign_in(request)
    provider = sign_in.provider(index)
    session = sessions.current(request)
    next_path = local_path(session.data.get("next") if session is not None else None)
    try:
        token = await sign_in.client(provider).authorize_access_token(request)
        principal = sign_in.verifier.verify(token["access_token"])
    except (OAuthError, AuthenticationFailed, KeyError) as exc:
        reason = (
            exc.reason
            if isinstance(exc, AuthenticationFailed)
            else getattr(exc, "error", None) or "no_access_token"
        )
        claim = exc.claim if isinstance(exc, AuthenticationFailed) else None
        with work(request) as uow:
            signin_service.sign_in_refused(
                uow, reason=str(reason), issuer=provider.issuer, claim=claim, request_id=request_id(request)
            )
        count_sign_in(request, "oidc", "refused")
        message = (
            exc.message
            if isinstance(exc, AuthenticationFailed)
            else "The identity provider did not complete the sign-in. Start again from the sign-in page."
        )
        raise PageProblem(403, "You could not be signed in", message, rule=str(reason)) from None
    with work(request) as uow:
        signin_service.signed_in(
            uow, principal, method="oidc", issuer=provider.issuer, request_id=request_id(request)
        )
    count_sign_in(request, "oidc", "success")
    sessions.begin_signed_in(request, principal, issuer=provider.issuer)
    return redirect(next_path)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    session = sessions.end(request)
    if session is None or session.principal is None:
        return redirect("/signed-out")
    with work(request) as uow:
        signin_service.signed_out(uow, session.principal, request_id=request_id(request))
    sign_in = _sign_in(request)
    provider = sign_in.by_issuer(session.issuer)
    if provider is not None:
        try:
            metadata = await sign_in.client(provider).load_server_metadata()
            end_session = metadata.get("end_session_endpoint")
        except Exception as exc:  # noqa: BLE001 - signed out of the register regardless
            log.warning("cannot reach %s to end its session: %s", provider.issuer, exc)
            end_session = None
        if end_session:
            query = urlencode(
                {
                    "client_id": sign_in.settings.oidc_client_id,
                    "post_logout_redirect_uri": str(request.url_for("signed_out")),
                }
            )
            return RedirectResponse(f"{end_session}?{query}", status_code=303)
    return redirect("/signed-out")


@router.get("/signed-out", name="signed_out", response_class=HTMLResponse)
def signed_out(request: Request) -> HTMLResponse:
    return render(request, "pages/signed-out.html", {"title": "You have signed out"})
