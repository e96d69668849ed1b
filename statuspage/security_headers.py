"""Content-Security-Policy and Permissions-Policy.

- The console (the app host: sign-up, console, API reference) gets a nonce-based policy: each
  request has a fresh `request.csp_nonce`, and the few inline scripts carry
  `nonce="{{ request.csp_nonce }}"`; an injected script has no nonce and does not run.
- Public pages are rendered once and served as stored bytes and headers (statuspage.public_cache
  and its WSGI fast path), so a per-request nonce is impossible there: they get a fixed, strict
  policy with no inline script at all (they have none; scripts, if any, are static files).
- A view may set directives of its own in `Content-Security-Policy` (the public views say
  `frame-ancestors 'none'`, the embed frame `frame-ancestors *`, as any site may frame it):
  they replace the same directives of the policy here, and the rest is added.
- Every response gets the Permissions-Policy: nothing here needs a camera, a microphone, the
  location or payments.

`SecurityHeadersMiddleware` sits just inside `PublicCacheMiddleware`, so the public policy is
stored with each cached response; `BaselineHeadersMiddleware`, outermost, gives the responses
that never reach it (unknown hosts, static files, redirects) the Permissions-Policy and a
restrictive default policy.

Styles keep 'unsafe-inline': the templates use style attributes and the public pages an inline
`<style>` with the page's accent colour. Style injection is far less dangerous than script, and
every value in those templates is escaped.
"""

from __future__ import annotations

import secrets

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)
PUBLIC_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
FALLBACK_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def console_policy(nonce: str) -> str:
    # Images are ours only (a page's logo through its /s/<slug>/ preview): Redoc's "powered
    # by" logo from its CDN stays out. Workers: Redoc runs its search in a blob: worker.
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def _directives(policy: str) -> dict[str, str]:
    parsed = {}
    for directive in policy.split(";"):
        name, _, value = directive.strip().partition(" ")
        if name:
            parsed[name.lower()] = value.strip()
    return parsed


def merged_policy(base: str, from_view: str) -> str:
    """`base` with the view's own directives in place of the same-named ones."""
    directives = {**_directives(base), **_directives(from_view)}
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_public = getattr(request, "page_ref", None) is not None
        # Public pages are cached for everyone: no nonce (a template using one would be
        # blocked, which the browser tests would show).
        request.csp_nonce = "" if is_public else secrets.token_urlsafe(16)
        response = self.get_response(request)
        base = PUBLIC_POLICY if is_public else console_policy(request.csp_nonce)
        response["Content-Security-Policy"] = merged_policy(
            base, response.get("Content-Security-Policy", "")
        )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class BaselineHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 304:
            # A 304's headers replace the ones the browser stored with the page: a fallback
            # policy here would overwrite the page's own (and stop the embed being framed).
            return response
        response.headers.setdefault("Content-Security-Policy", FALLBACK_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
