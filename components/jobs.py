"""RQ entry points of components."""

from django_scopes import scope

from components.services import rebuild_page_uptime
from statuspage.models import Page


def rebuild_page_uptime_job(page_id: int) -> None:
    page = Page.objects.with_scopes_disabled().filter(pk=page_id).first()
    if page is not None:
        with scope(organization=page.organization_id):
            rebuild_page_uptime(page)
