"""Endpoints for the infrastructure in front of us, not for people."""

import ipaddress

from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.http import require_GET

from statuspage.domains import normalise_domain
from statuspage.hosts import find_page_for_host


def is_loopback(request) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
def health(request):
    return HttpResponse("ok", content_type="text/plain")


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
