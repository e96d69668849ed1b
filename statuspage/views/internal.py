"""Endpoints for the infrastructure in front of us, not for people."""

import ipaddress

from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from statuspage.cache_backend import cache_health
from statuspage.domains import normalise_domain
from statuspage.hosts import find_page_for_host
from statuspage.queue import queue_health


def is_loopback(request) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
@never_cache
def health(request):
    """Liveness: the process answers. No dependency is asked (a restart would not fix one)."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@never_cache
def readiness(request):
    """Readiness: each dependency by name. 200 while the database answers, even with Redis
    gone (we serve degraded: pages from PostgreSQL, jobs waiting in the outbox); 503 without
    the database."""
    checks = {"database": _database_health(), "cache": cache_health(), "queue": queue_health()}
    database_up = checks["database"]["status"] == "ok"
    all_ok = all(check["status"] == "ok" for check in checks.values())
    status = "ok" if all_ok else "degraded" if database_up else "unavailable"
    return JsonResponse({"status": status, "checks": checks}, status=200 if database_up else 503)


def _database_health() -> dict[str, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return {"status": "unavailable", "reason": f"{type(error).__name__}: {error}".strip()}
    return {"status": "ok"}


@require_GET
def tls_ask(request):
    """Caddy's on-demand TLS asks here before getting a certificate for `?domain=`: 200 only for a
    page's subdomain or verified custom domain, so nobody can make us request certificates for
    arbitrary names. Reachable from loopback only (the proxy runs beside us)."""
    if not is_loopback(request):
        return HttpResponseForbidden("loopback only", content_type="text/plain")
    domain = normalise_domain(request.GET.get("domain", ""))
    if domain and find_page_for_host(domain) is not None:
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponseNotFound("unknown domain", content_type="text/plain")
