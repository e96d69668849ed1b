"""RQ entry points of the core: load by id, call one function."""

from django_scopes import scopes_disabled

from statuspage.emails import send_invitation_email
from statuspage.models import Invitation


def send_invitation_job(invitation_id: int) -> None:
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("organization", "invited_by")
            .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
            .first()
        )
    if invitation is not None:
        send_invitation_email(invitation)


def reconcile_content_versions_job() -> int:
    """Periodic: push content versions whose Redis mirror update failed (see publishing)."""
    from statuspage.publishing import reconcile_mirrors

    return reconcile_mirrors()
