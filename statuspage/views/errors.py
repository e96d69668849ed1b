"""The handler500 of both URLconfs: an unreachable database is a 503 that says so (or a public
page's last good copy), never a stack trace; any other error is Django's plain 500 page.

Django runs a handler500 inside the except block of whatever raised, anywhere in the stack
(SessionMiddleware, the lazy `request.user`, host routing, a view), so `sys.exc_info()` tells
which error this is. Nothing here touches the database, the session or the user.
"""

import sys

from django.conf import settings
from django.views import defaults

from statuspage import outage, public_cache
from statuspage.hosts import cached_host_ref, normalise_host


def server_error(request):
    error = sys.exc_info()[1]
    if not outage.is_database_unavailable(error):
        return defaults.server_error(request)
    outage.log_outage(error, request.path)
    host = _host(request)
    if host == settings.APP_HOST and getattr(request, "page_ref", None) is None:
        return outage.console_unavailable_response(request.path_info)
    page_ref = _public_page_ref(request, host)
    if page_ref is None or request.method not in ("GET", "HEAD"):
        return outage.public_unavailable_response(request.path)
    variant = public_cache.request_variant(
        request.path, request.path_info, request.META.get("QUERY_STRING", "")
    )
    return public_cache.serve_last_good(request, page_ref.page_id, variant)


def _host(request) -> str:
    try:
        return normalise_host(request.get_host())
    except Exception:  # a Host header Django refuses: not a page of ours either
        return ""


def _public_page_ref(request, host: str):
    """The page a public request is for: from host routing, else (host routing itself failed
    on the database) whatever the cache still maps the host to."""
    page_ref = getattr(request, "page_ref", None)
    if page_ref is not None or not host:
        return page_ref
    try:
        return cached_host_ref(host)
    except Exception as error:  # the cache is down as well: no copy to find anyway
        outage.log_outage(error, "host map")
        return None
