"""Writes of the tenant: sign-up, pages and their settings, custom domains, members.

One function per operator intent, one transaction each, an audit entry for every change.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from statuspage.actors import Actor
from statuspage.audit import record_audit, snapshot
from statuspage.domains import (
    claim_has_lapsed,
    domain_proves_token,
    is_valid_domain,
    normalise_domain,
    slug_refusal,
)
from statuspage.enums import Role
from statuspage.errors import DomainError
from statuspage.hosts import forget_hosts
from statuspage.models import (
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Page,
    User,
    accent_color_validator,
    slug_validator,
)
from statuspage.publishing import public_content_changed
from statuspage.queue import enqueue_on_commit
from statuspage.time_zones import TIME_ZONE_MESSAGE, is_known_time_zone

PAGE_SETTINGS_FIELDS = [
    "name",
    "slug",
    "time_zone",
    "support_url",
    "accent_color",
    "show_severity",
    "allow_subscribers",
    "allow_feeds",
    "update_reminder_minutes",
]
INVITATION_SALT = "statuspage.invitation"


# --- Pages ------------------------------------------------------------------------------


def forget_hosts_on_commit(*, slugs=(), domains=()) -> None:
    """The cached host → page map must not outlive a slug or domain change (or a page). Now,
    and again after commit in case a request re-cached the old mapping in between."""
    slugs, domains = tuple(slugs), tuple(domains)
    forget_hosts(slugs=slugs, domains=domains)
    transaction.on_commit(lambda: forget_hosts(slugs=slugs, domains=domains))


def check_slug_available(slug: str, *, exclude_page: Page | None = None) -> None:
    refusal = slug_refusal(slug)
    if refusal:
        raise DomainError(refusal, field="slug")
    taken = Page.objects.with_scopes_disabled().filter(slug=slug)
    if exclude_page is not None:
        taken = taken.exclude(pk=exclude_page.pk)
    if taken.exists():
        raise DomainError(f"“{slug}” is already taken; please choose another.", field="slug")


def check_time_zone(name: str) -> None:
    if not is_known_time_zone(name):
        raise DomainError(TIME_ZONE_MESSAGE.format(name=name), field="time_zone")


def check_page_values(changes: dict) -> None:
    """What forms check for the console, checked here for every door (the API too)."""
    validators = [
        ("accent_color", accent_color_validator),
        ("slug", slug_validator),
        ("support_url", URLValidator()),
    ]
    for field, validator in validators:
        value = changes.get(field)
        if value:
            try:
                validator(str(value))
            except ValidationError as error:
                raise DomainError(error.messages[0], field=field) from error
    if "name" in changes and not str(changes["name"] or "").strip():
        raise DomainError("Give the page a name.", field="name")


def create_page(
    organization: Organization,
    *,
    actor: Actor,
    name: str,
    slug: str,
    time_zone: str = "UTC",
) -> Page:
    check_slug_available(slug)
    check_time_zone(time_zone)
    with transaction.atomic(), scope(organization=organization.pk):
        try:
            page = Page.objects.create(
                organization=organization, name=name, slug=slug, time_zone=time_zone
            )
        except IntegrityError as exc:  # a concurrent sign-up took the slug first
            raise DomainError(f"“{slug}” is already taken.", field="slug") from exc
        forget_hosts_on_commit(slugs=[slug])
        record_audit(
            organization,
            actor=actor,
            verb="page.created",
            target=page,
            page=page,
            after=snapshot(page, PAGE_SETTINGS_FIELDS),
        )
    return page


def update_page_settings(page: Page, *, actor: Actor, **changes: object) -> Page:
    unknown = set(changes) - set(PAGE_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not page settings: {sorted(unknown)}")
    if "slug" in changes and changes["slug"] != page.slug:
        check_slug_available(str(changes["slug"]), exclude_page=page)
    if "time_zone" in changes and changes["time_zone"] != page.time_zone:
        # A zone chosen before the list was narrowed stays until it is changed.
        check_time_zone(str(changes["time_zone"]))
    check_page_values(changes)
    before = snapshot(page, PAGE_SETTINGS_FIELDS)
    with transaction.atomic():
        forget_hosts_on_commit(slugs=[page.slug, str(changes.get("slug", page.slug))])
        for field, value in changes.items():
            setattr(page, field, value)
        page.save()
        public_content_changed(page)
        if before["time_zone"] != page.time_zone:
            # Uptime days are the page's days: recount them in the new zone.
            enqueue_on_commit("components.jobs.rebuild_page_uptime_job", page.pk)
        after = snapshot(page, PAGE_SETTINGS_FIELDS)
        record_audit(
            page.organization,
            actor=actor,
            verb="page.settings_changed",
            target=page,
            page=page,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return page


LOGO_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
LOGO_MAX_BYTES = 256 * 1024


def logo_content_type(data: bytes) -> str | None:
    """PNG, JPEG, GIF or WebP by their magic bytes; SVG is refused (it can carry script)."""
    for magic, content_type in LOGO_TYPES.items():
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def set_page_logo(page: Page, *, actor: Actor, data: bytes | None) -> Page:
    """Replace the logo (or remove it with `data=None`)."""
    content_type = ""
    if data is not None:
        if len(data) > LOGO_MAX_BYTES:
            raise DomainError("The logo must be 256 KB or smaller.", field="logo")
        content_type = logo_content_type(data) or ""
        if not content_type:
            raise DomainError("Upload the logo as PNG, JPEG, GIF or WebP.", field="logo")
    with transaction.atomic():
        page.logo = data
        page.logo_content_type = content_type
        page.save(update_fields=["logo", "logo_content_type", "updated_at"])
        public_content_changed(page)
        record_audit(
            page.organization,
            actor=actor,
            verb="page.logo_changed" if data else "page.logo_removed",
            target=page,
            page=page,
            after={"logo_bytes": len(data) if data else 0},
        )
    return page


def delete_page(page: Page, *, actor: Actor, confirm_name: str) -> None:
    if confirm_name.strip() != page.name:
        raise DomainError("Type the page's name exactly to confirm.", field="confirm_name")
    with transaction.atomic():
        if not Page.objects.filter(organization=page.organization).exclude(pk=page.pk).exists():
            raise DomainError(
                "This is the organisation's only page. Delete the organisation instead."
            )
        forget_hosts_on_commit(slugs=[page.slug], domains=[page.custom_domain])
        record_audit(
            page.organization,
            actor=actor,
            verb="page.deleted",
            target=page,
            before=snapshot(page, PAGE_SETTINGS_FIELDS),
        )
        page.delete()


def mark_embed_viewed(page: Page) -> None:
    if page.embed_viewed_at is None:
        Page.objects.filter(pk=page.pk).update(embed_viewed_at=timezone.now())
        page.embed_viewed_at = timezone.now()


# --- Custom domains -----------------------------------------------------------------------


def _verified_elsewhere(page: Page, domain: str) -> bool:
    pages = Page.objects.with_scopes_disabled().exclude(pk=page.pk)
    return pages.filter(custom_domain=domain, custom_domain_verified_at__isnull=False).exists()


DOMAIN_TAKEN = "That domain is already connected to another page."


def set_custom_domain(page: Page, *, actor: Actor, domain: str) -> Page:
    """Start (or restart) connecting a custom domain: it resolves only once verified. Other
    pages' unverified claims on the same domain do not stand in the way: whoever controls its
    DNS proves it, and the first page to verify gets it."""
    domain = normalise_domain(domain)
    if not is_valid_domain(domain):
        raise DomainError("Enter a domain name like status.example.com.", field="domain")
    base = settings.BASE_DOMAIN
    if domain == base or domain.endswith("." + base) or domain == settings.APP_HOST:
        raise DomainError("Use a domain of your own, not one of ours.", field="domain")
    if _verified_elsewhere(page, domain):
        raise DomainError(DOMAIN_TAKEN, field="domain")
    with transaction.atomic():
        before = snapshot(page, ["custom_domain", "custom_domain_verified_at"])
        forget_hosts_on_commit(domains=[page.custom_domain, domain])
        page.custom_domain = domain
        page.custom_domain_token = secrets.token_urlsafe(24)
        page.custom_domain_claimed_at = timezone.now()
        page.custom_domain_verified_at = None
        page.save(
            update_fields=[
                "custom_domain",
                "custom_domain_token",
                "custom_domain_claimed_at",
                "custom_domain_verified_at",
                "updated_at",
            ]
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="page.custom_domain_set",
            target=page,
            page=page,
            before=before,
            after={"custom_domain": domain},
        )
    return page


def verify_custom_domain(page: Page, *, actor: Actor) -> Page:
    """Prove the claim with its TXT record. Only one page holds a domain verified: the partial
    unique constraint decides between two verifications racing each other."""
    if not page.custom_domain:
        raise DomainError("There is no custom domain to verify.")
    if claim_has_lapsed(page):
        raise DomainError(
            f"This claim lapsed after {settings.CUSTOM_DOMAIN_CLAIM_DAYS} days unverified. "
            "Save the domain again for a new TXT record."
        )
    if _verified_elsewhere(page, page.custom_domain):
        raise DomainError(DOMAIN_TAKEN + " It was verified there first.")
    if not domain_proves_token(page.custom_domain, page.custom_domain_token):
        raise DomainError(
            "We could not find the TXT record yet. DNS changes can take a few minutes; "
            "check the record's name and value and try again."
        )
    try:
        with transaction.atomic():
            forget_hosts_on_commit(domains=[page.custom_domain])
            page.custom_domain_verified_at = timezone.now()
            page.save(update_fields=["custom_domain_verified_at", "updated_at"])
            record_audit(
                page.organization,
                actor=actor,
                verb="page.custom_domain_verified",
                target=page,
                page=page,
                after={"custom_domain": page.custom_domain},
            )
    except IntegrityError as exc:
        page.custom_domain_verified_at = None
        raise DomainError(DOMAIN_TAKEN + " It was verified there first.") from exc
    return page


def remove_custom_domain(page: Page, *, actor: Actor) -> Page:
    with transaction.atomic():
        before = snapshot(page, ["custom_domain", "custom_domain_verified_at"])
        forget_hosts_on_commit(domains=[page.custom_domain])
        page.custom_domain = None
        page.custom_domain_token = ""
        page.custom_domain_claimed_at = None
        page.custom_domain_verified_at = None
        page.save(
            update_fields=[
                "custom_domain",
                "custom_domain_token",
                "custom_domain_claimed_at",
                "custom_domain_verified_at",
                "updated_at",
            ]
        )
        record_audit(
            page.organization,
            actor=actor,
            verb="page.custom_domain_removed",
            target=page,
            page=page,
            before=before,
        )
    return page


# --- Sign-up and members ----------------------------------------------------------------


@dataclass(frozen=True)
class SignUp:
    user: User
    organization: Organization
    page: Page


def sign_up(
    *,
    name: str,
    email: str,
    password: str,
    organization_name: str,
    page_name: str,
    page_slug: str,
    time_zone: str = "UTC",
) -> SignUp:
    """A new operator with their organisation (as owner) and its first page — all or nothing."""
    email = email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise DomainError("An account with this email already exists.", field="email")
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, name=name)
        except IntegrityError as exc:  # a concurrent sign-up with the same address won
            raise DomainError("An account with this email already exists.", field="email") from exc
        organization = Organization.objects.create(name=organization_name)
        with scope(organization=organization.pk):
            Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
        actor = Actor.for_user(user)
        record_audit(organization, actor=actor, verb="organization.created", target=organization)
        page = create_page(
            organization, actor=actor, name=page_name, slug=page_slug, time_zone=time_zone
        )
    return SignUp(user=user, organization=organization, page=page)


def invite_member(
    organization: Organization, *, actor: Actor, email: str, role: Role
) -> Invitation:
    email = email.strip().lower()
    with transaction.atomic(), scope(organization=organization.pk):
        if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
            raise DomainError(f"{email} is already a member.", field="email")
        pending = Invitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        )
        if pending.exists():
            raise DomainError(
                f"{email} has already been invited; revoke that invitation to send a new one.",
                field="email",
            )
        invitation = Invitation.objects.create(
            organization=organization, email=email, role=role, invited_by=actor.user
        )
        # After commit, so the job (maybe on a worker) finds the invitation it is given.
        enqueue_on_commit("statuspage.jobs.send_invitation_job", invitation.pk)
        record_audit(
            organization,
            actor=actor,
            verb="member.invited",
            target=invitation,
            target_label=email,
            after={"email": email, "role": str(role)},
        )
    return invitation


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.public_id, salt=INVITATION_SALT)


def find_invitation_by_token(token: str) -> Invitation:
    """The pending invitation a link names; DomainError when expired, used, revoked or forged."""
    try:
        public_id = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise DomainError("This invitation has expired. Ask for a new one.") from exc
    except signing.BadSignature as exc:
        raise DomainError("This invitation link is not valid.") from exc
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("organization", "invited_by")
            .filter(public_id=public_id)
            .first()
        )
    if invitation is None or invitation.revoked_at is not None:
        raise DomainError("This invitation has been withdrawn.")
    if invitation.accepted_at is not None:
        raise DomainError("This invitation has already been used. Log in instead.")
    return invitation


def accept_invitation(invitation: Invitation, *, user: User) -> Membership:
    if user.email.lower() != invitation.email.lower():
        raise DomainError(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}."
        )
    organization = invitation.organization
    with transaction.atomic(), scope(organization=organization.pk):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not locked.is_pending:
            raise DomainError("This invitation has already been used.")
        membership, _ = Membership.objects.get_or_create(
            organization=organization, user=user, defaults={"role": invitation.role}
        )
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        record_audit(
            organization,
            actor=Actor.for_user(user),
            verb="member.joined",
            target=membership,
            target_label=user.email,
            after={"role": membership.role},
        )
    return membership


def accept_invitation_with_new_account(
    invitation: Invitation, *, name: str, password: str
) -> Membership:
    with transaction.atomic():
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise DomainError("You already have an account: log in to accept the invitation.")
        user = User.objects.create_user(email=invitation.email, password=password, name=name)
        return accept_invitation(invitation, user=user)


def revoke_invitation(invitation: Invitation, *, actor: Actor) -> None:
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_audit(
            invitation.organization,
            actor=actor,
            verb="member.invitation_revoked",
            target=invitation,
            target_label=invitation.email,
        )


def _owner_count(organization: Organization) -> int:
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


def change_member_role(membership: Membership, *, actor: Actor, role: Role) -> Membership:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        is_demotion = locked.role == Role.OWNER and role != Role.OWNER
        if is_demotion and _owner_count(locked.organization) <= 1:
            raise DomainError("The organisation needs at least one owner.", field="role")
        before = {"role": locked.role}
        locked.role = role
        locked.save(update_fields=["role"])
        record_audit(
            locked.organization,
            actor=actor,
            verb="member.role_changed",
            target=locked,
            target_label=locked.user.email,
            before=before,
            after={"role": str(role)},
        )
    return locked


def remove_member(membership: Membership, *, actor: Actor) -> None:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if locked.role == Role.OWNER and _owner_count(locked.organization) <= 1:
            raise DomainError("You cannot remove the last owner of the organisation.")
        record_audit(
            locked.organization,
            actor=actor,
            verb="member.removed",
            target=locked,
            target_label=locked.user.email,
            before={"role": locked.role},
        )
        locked.delete()


def rename_organization(organization: Organization, *, actor: Actor, name: str) -> Organization:
    with transaction.atomic():
        before = {"name": organization.name}
        organization.name = name
        organization.save(update_fields=["name"])
        record_audit(
            organization,
            actor=actor,
            verb="organization.renamed",
            target=organization,
            before=before,
            after={"name": name},
        )
    return organization


def delete_organization(organization: Organization, *, actor: Actor, confirm_name: str) -> None:
    """Everything the organisation owns goes with it (rows cascade from `organization`)."""
    if confirm_name.strip() != organization.name:
        raise DomainError("Type the organisation's name exactly to confirm.", field="confirm_name")
    with transaction.atomic():
        pages = list(Page.objects.with_scopes_disabled().filter(organization=organization))
        forget_hosts_on_commit(
            slugs=[p.slug for p in pages], domains=[p.custom_domain for p in pages]
        )
        organization.delete()


# --- API keys -------------------------------------------------------------------------------


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_key(
    organization: Organization,
    *,
    actor: Actor,
    name: str,
    access: str,
    pages: list[Page] = (),  # type: ignore[assignment]
    can_read_personal_data: bool = False,
) -> tuple[ApiKey, str]:
    """The key and its secret, which is shown this once and stored only as a hash."""
    if not (name or "").strip():
        raise DomainError("Name the key after what uses it.", field="name")
    if any(page.organization_id != organization.pk for page in pages):
        raise DomainError("That page belongs to another organisation.", field="pages")
    prefix = secrets.token_hex(4)
    raw = f"sp_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic(), scope(organization=organization.pk):
        key = ApiKey.objects.create(organization=organization, name=name.strip(), access=access,
                                    can_read_personal_data=can_read_personal_data,
                                    prefix=prefix, key_hash=hash_api_key(raw),
                                    created_by=actor.user)  # fmt: skip
        key.pages.set(pages)
        record_audit(organization, actor=actor, verb="api_key.created", target=key,
                     after={"name": key.name, "access": access,
                            "can_read_personal_data": can_read_personal_data})  # fmt: skip
    return key, raw


def revoke_api_key(key: ApiKey, *, actor: Actor) -> None:
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record_audit(key.organization, actor=actor, verb="api_key.revoked", target=key)
