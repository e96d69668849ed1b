"""The team: members, invitations and the organisation itself."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from statuspage import services
from statuspage.access import page_console
from statuspage.account_forms import InviteForm, OrganizationForm, RoleForm
from statuspage.actors import Actor
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.forms import ConfirmNameForm, add_domain_error
from statuspage.queries import (
    get_invitation_for_member,
    get_membership_for_member,
    list_members,
    list_pending_invitations,
)


def render_team(request, invite_form=None, status=200):
    context = {
        "members": list_members(request.organization),
        "invitations": list_pending_invitations(request.organization),
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
    }
    return render(request, "console/members.html", context, status=status)


@page_console(Role.VIEWER)
def member_list(request):
    return render_team(request)


@require_POST
@page_console(Role.OWNER)
def member_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = services.invite_member(
                request.organization,
                actor=Actor.for_user(request.user),
                email=form.cleaned_data["email"],
                role=Role(form.cleaned_data["role"]),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("console:members", request.page.slug)
    return render_team(request, invite_form=form, status=400)


@require_POST
@page_console(Role.OWNER)
def member_role(request, user_id):
    membership = get_membership_for_member(request.organization, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return redirect("console:members", request.page.slug)
    role = Role(form.cleaned_data["role"])
    try:
        services.change_member_role(membership, actor=Actor.for_user(request.user), role=role)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{membership.user.email} is now {role.label.lower()}.")
    return redirect("console:members", request.page.slug)


@require_POST
@page_console(Role.OWNER)
def member_remove(request, user_id):
    membership = get_membership_for_member(request.organization, user_id)
    try:
        services.remove_member(membership, actor=Actor.for_user(request.user))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("console:members", request.page.slug)
    if membership.user_id == request.user.pk:
        messages.success(request, f"You left {request.organization.name}.")
        return redirect("console:home")
    messages.success(request, f"{membership.user.email} was removed.")
    return redirect("console:members", request.page.slug)


@require_POST
@page_console(Role.OWNER)
def invitation_revoke(request, invitation_id):
    invitation = get_invitation_for_member(request.organization, invitation_id)
    if not invitation.is_pending:
        messages.error(request, f"The invitation to {invitation.email} is no longer pending.")
        return redirect("console:members", request.page.slug)
    services.revoke_invitation(invitation, actor=Actor.for_user(request.user))
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("console:members", request.page.slug)


def render_organization(request, form=None, delete_form=None, status=200):
    context = {
        "form": form or OrganizationForm(initial={"name": request.organization.name}),
        "delete_form": delete_form or ConfirmNameForm(),
    }
    return render(request, "console/organization.html", context, status=status)


@page_console(Role.ADMIN)
def organization_settings(request):
    """Admins see the organisation; only owners rename it."""
    if request.method != "POST":
        return render_organization(request)
    if not request.can["manage_members"]:
        raise PermissionDenied("Only owners can rename the organisation.")
    form = OrganizationForm(request.POST)
    if not form.is_valid():
        return render_organization(request, form=form, status=400)
    services.rename_organization(
        request.organization, actor=Actor.for_user(request.user), name=form.cleaned_data["name"]
    )
    messages.success(request, "Organisation renamed.")
    return redirect("console:organization", request.page.slug)


@require_POST
@page_console(Role.OWNER)
def organization_delete(request):
    organization = request.organization
    form = ConfirmNameForm(request.POST)
    if form.is_valid():
        try:
            services.delete_organization(
                organization,
                actor=Actor.for_user(request.user),
                confirm_name=form.cleaned_data["confirm_name"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"{organization.name} and everything it owned were deleted.")
            return redirect("console:home")
    return render_organization(request, delete_form=form, status=400)
