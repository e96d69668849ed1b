"""Reads of the tenant: which organisations and pages a user can reach, and the audit log."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django_scopes import scopes_disabled

from statuspage.models import AuditEntry, Invitation, Membership, Organization, Page, User


def list_memberships_for_user(user: User) -> list[Membership]:
    """Every organisation the user belongs to, each with its pages prefetched, by name."""
    with scopes_disabled():
        return list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .order_by("organization__name", "organization_id")
        )


def list_pages_for_user(user: User) -> list[Page]:
    with scopes_disabled():
        return list(
            Page.objects.filter(organization__memberships__user=user)
            .select_related("organization")
            .order_by("organization__name", "name")
        )


def get_page_for_member(user: User, page_slug: str) -> tuple[Page, Membership]:
    """The page and the user's membership of its organisation; 404 for missing and not-yours."""
    with scopes_disabled():
        membership = (
            Membership.objects.filter(user=user, organization__pages__slug=page_slug)
            .select_related("organization")
            .first()
        )
        if membership is None:
            raise Http404("No such page.")
        page = Page.objects.select_related("organization").get(slug=page_slug)
    return page, membership


def list_pages_of_organization(organization: Organization) -> QuerySet[Page]:
    return Page.objects.filter(organization=organization).order_by("name")


def list_members(organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def list_pending_invitations(organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def get_membership_for_member(organization: Organization, user_public_id: str) -> Membership:
    membership = (
        Membership.objects.filter(organization=organization, user__public_id=user_public_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    return membership


def get_invitation_for_member(organization: Organization, public_id: str) -> Invitation:
    invitation = Invitation.objects.filter(organization=organization, public_id=public_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def search_audit_log(
    organization: Organization,
    *,
    verb: str = "",
    actor: str = "",
    target_type: str = "",
    page: Page | None = None,
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.filter(organization=organization).select_related("page")
    if verb:
        entries = entries.filter(verb=verb)
    if actor:
        entries = entries.filter(actor_label__icontains=actor)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if page is not None:
        entries = entries.filter(page=page)
    return entries.order_by("-created_at", "-id")


def list_audit_verbs(organization: Organization) -> list[str]:
    return list(
        AuditEntry.objects.filter(organization=organization)
        .order_by("verb")
        .values_list("verb", flat=True)
        .distinct()
    )


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()
