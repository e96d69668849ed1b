"""`POST /integrations/<kind>/<token>`: where monitoring tools send their alerts.

Answers fast: 200 with what was done; 400 for a payload it cannot read and 413 for one too big
(both name the problem); 401 for a bad signature; 429 with Retry-After past the integration's
rate limit; 404 for an unknown token. Every answer but the 404 leaves a row in the
integration's event log (the console shows the last ones). A 5xx only comes from a real
failure, which Alertmanager retries.
"""

import logging
import time

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_scopes import scope

from incidents import services
from incidents.intake import (
    LOGGED_PAYLOAD_CHARS,
    PayloadError,
    limit,
    load_json,
    parse,
    signature_matches,
)
from incidents.models import Integration
from statuspage import throttle
from statuspage.errors import DomainError

logger = logging.getLogger(__name__)
RATE_WINDOW_SECONDS = 60


class Refused(Exception):
    def __init__(self, status: int, message: str, *, payload: str = "", headers=None):
        super().__init__(message)
        self.status, self.message, self.payload, self.headers = status, message, payload, headers


@csrf_exempt
@require_POST
def receive(request, kind, token):
    integration = (
        Integration.objects.with_scopes_disabled()
        .select_related("page")
        .filter(kind=kind, token=token)
        .first()
    )
    if integration is None:
        raise Http404("No such integration.")
    with scope(organization=integration.organization_id):
        try:
            payload, alerts = _read(request, integration)
        except Refused as refusal:
            services.log_integration_event(
                integration, payload=refusal.payload, error=refusal.message
            )
            return JsonResponse(
                {"error": refusal.message}, status=refusal.status, headers=refusal.headers
            )
        try:
            counts = services.receive_alerts(integration, alerts, payload=payload)
        except DomainError as error:  # logged by receive_alerts, like any failure
            return JsonResponse({"error": error.message}, status=400)
    return JsonResponse(counts)


def _read(request, integration: Integration):
    """The request's payload (as text, for the log) and its alerts, or Refused."""
    if not _within_rate_limit(integration):
        retry_after = str(int(RATE_WINDOW_SECONDS - time.time() % RATE_WINDOW_SECONDS) + 1)
        message = (
            f"Rate limit: at most {limit('INTAKE_RATE_LIMIT_PER_MINUTE')} requests a minute "
            "per integration."
        )
        raise Refused(429, message, payload=_peek(request), headers={"Retry-After": retry_after})
    body = _body(request)
    payload = body[: LOGGED_PAYLOAD_CHARS * 4].decode(errors="replace")
    if integration.signing_secret:
        header = request.headers.get("X-Grafana-Alerting-Signature") or request.headers.get(
            "X-Signature", ""
        )
        if not signature_matches(integration.signing_secret, body, header):
            raise Refused(401, "Bad signature.", payload=payload)
    try:
        return payload, parse(integration.kind, load_json(body))
    except PayloadError as error:
        raise Refused(error.status, str(error), payload=payload) from error


def _within_rate_limit(integration: Integration) -> bool:
    try:
        return throttle.allow(
            "intake",
            str(integration.pk),
            limit=limit("INTAKE_RATE_LIMIT_PER_MINUTE"),
            window_seconds=RATE_WINDOW_SECONDS,
        )
    except Exception:  # the cache cannot count (Redis down): fail open, alerts matter more
        logger.warning("intake rate limit not checked for %s", integration.pk, exc_info=True)
        return True


def _body(request) -> bytes:
    cap = limit("INTAKE_MAX_BODY_BYTES")
    too_large = f"The body is larger than {cap} bytes."
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        raise Refused(413, too_large, payload=_peek(request))
    try:
        body = request.body
    except RequestDataTooBig as error:  # past DATA_UPLOAD_MAX_MEMORY_SIZE, if lower
        raise Refused(413, too_large) from error
    if len(body) > cap:
        raise Refused(413, too_large, payload=body[:LOGGED_PAYLOAD_CHARS].decode(errors="replace"))
    return body


def _peek(request) -> str:
    """The start of a body we will not read in full, for the log."""
    try:
        return request.read(LOGGED_PAYLOAD_CHARS).decode(errors="replace")
    except Exception:  # only for the log: a broken stream leaves it empty
        return ""
