from django.core.paginator import Paginator
from django.shortcuts import render

from statuspage.access import page_console
from statuspage.enums import Role
from statuspage.forms import AuditFilterForm
from statuspage.queries import list_audit_verbs, search_audit_log


@page_console(Role.ADMIN)
def audit_log(request):
    organization = request.organization
    filters = AuditFilterForm(request.GET).values
    entries = search_audit_log(
        organization,
        verb=filters["verb"],
        actor=filters["actor"],
        page=request.page if filters["this_page_only"] else None,
    )
    paginator = Paginator(entries, 50)
    entries_page = paginator.get_page(request.GET.get("page"))
    context = {
        "entries": entries_page,
        "verbs": list_audit_verbs(organization),
        "filters": filters,
    }
    return render(request, "console/audit_log.html", context)
