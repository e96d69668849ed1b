"""Console access: one decorator decides who may open a page's screens, in one place.

Roles (statuspage.enums.Role) nest: viewer reads; responder posts incidents, updates,
maintenance and postmortems; admin also configures the page, components, subscribers,
integrations and API keys; owner also manages members and deletes the organisation.

A page the user is not a member of is a 404 (indistinguishable from a missing one); a page they
can see but not change with their role is a 403 that says which role is needed.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django_scopes import scope

from statuspage.enums import Role
from statuspage.queries import get_page_for_member

# What each role may do, named by intent, so templates and views ask the same question.
CAPABILITIES: dict[str, Role] = {
    "view": Role.VIEWER,
    "respond": Role.RESPONDER,
    "configure": Role.ADMIN,
    "manage_members": Role.OWNER,
}


def capabilities_for(role: Role) -> dict[str, bool]:
    return {name: role.includes(required) for name, required in CAPABILITIES.items()}


def page_console(required: Role = Role.VIEWER):
    """For views under /console/<page_slug>/: sets request.page, .organization, .membership and
    .can (the capabilities), and runs the view inside the page organisation's scope."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, page_slug, *args, **kwargs):
            page, membership = get_page_for_member(request.user, page_slug)
            if not membership.has_role(required):
                raise PermissionDenied(
                    f"This needs the {Role(required).label.lower()} role; "
                    f"you are {membership.role_enum.label.lower()}."
                )
            request.page = page
            request.organization = page.organization
            request.membership = membership
            request.can = capabilities_for(membership.role_enum)
            with scope(organization=page.organization_id):
                return view(request, *args, **kwargs)

        return wrapped

    return decorator
