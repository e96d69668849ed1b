"""`POST /integrations/<kind>/<token>`: where monitoring tools send their alerts.

Answers fast: 200 with what was done, 400 for a payload it cannot read (logged for the console),
401 for a bad signature, 404 for an unknown token. A 5xx only comes from a real failure, which
Alertmanager retries.
"""

import json

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_scopes import scope

from incidents import services
from incidents.intake import PayloadError, parse, signature_matches
from incidents.models import Integration


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
    body = request.body
    with scope(organization=integration.organization_id):
        if integration.signing_secret:
            header = request.headers.get("X-Grafana-Alerting-Signature") or request.headers.get(
                "X-Signature", ""
            )
            if not signature_matches(integration.signing_secret, body, header):
                services.log_integration_event(
                    integration, payload=body.decode(errors="replace"), error="Bad signature."
                )
                return JsonResponse({"error": "Bad signature."}, status=401)
        try:
            alerts = parse(kind, json.loads(body or b"null"))
        except (ValueError, PayloadError) as error:
            message = str(error) if isinstance(error, PayloadError) else "Malformed JSON."
            services.log_integration_event(
                integration, payload=body.decode(errors="replace"), error=message
            )
            return JsonResponse({"error": message}, status=400)
        counts = services.receive_alerts(integration, alerts, payload=body.decode(errors="replace"))
    return JsonResponse(counts)
