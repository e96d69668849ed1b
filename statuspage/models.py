"""The tenant: organisations, their members and their status pages, plus the audit log.

Every tenant-owned model uses `ScopedManager(organization=...)` from django-scopes: a query made
outside `scope(organization=...)` raises instead of returning every tenant's rows. The few
cross-tenant reads (host → page, a user's memberships) say so with `with_scopes_disabled()`.
"""

import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django_scopes import ScopedManager

from statuspage.enums import Role
from statuspage.public_ids import PublicIdField


class EmailUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """An operator. Operators log in with their email address."""

    username = None  # type: ignore[assignment]  # email is the login
    first_name = None  # type: ignore[assignment]  # one name field: people's names vary
    last_name = None  # type: ignore[assignment]
    name = models.CharField(max_length=150)
    email = models.EmailField(unique=True)
    public_id = PublicIdField()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = EmailUserManager()

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Organization(models.Model):
    """The tenant and billing unit: it owns pages, members and every content row."""

    public_id = PublicIdField()
    name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization}"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has_role(self, required: Role) -> bool:
        return self.role_enum.includes(required)


class Invitation(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    public_id = PublicIdField()
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESPONDER)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_unique_pending_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    "Use lowercase letters, digits and hyphens; start and end with a letter or digit.",
)
accent_color_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as # followed by six hex digits, e.g. #2563eb."
)


def initial_content_version() -> int:
    """Random, as each step up is (statuspage.publishing), so a page id and version never name
    two different contents, even after a database restore; below 2**53 to stay exact in Redis's
    Lua numbers."""
    return secrets.randbelow(2**40) + 1


class Page(models.Model):
    """A public status page: its own subdomain, optional custom domain, branding and switches."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="pages")
    public_id = PublicIdField()
    name = models.CharField(max_length=100)
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    time_zone = models.CharField(max_length=64, default="UTC")
    support_url = models.URLField(blank=True)
    # Branding
    accent_color = models.CharField(
        max_length=7, default="#2563eb", validators=[accent_color_validator]
    )
    logo = models.BinaryField(null=True, blank=True, editable=True)
    logo_content_type = models.CharField(max_length=32, blank=True)
    # Switches
    show_severity = models.BooleanField(default=True)
    allow_subscribers = models.BooleanField(default=True)
    allow_feeds = models.BooleanField(default=True)
    # Custom domain: resolves only once the TXT record proves the operator controls it. Any
    # number of pages may claim a domain; an unverified claim lapses after
    # CUSTOM_DOMAIN_CLAIM_DAYS, and only one page can hold it verified (the first to prove it).
    # NULL, not "", for "none": it always was (when the column was unique), and the code says so.
    custom_domain = models.CharField(max_length=253, null=True, blank=True, db_index=True)  # noqa: DJ001
    custom_domain_token = models.CharField(max_length=64, blank=True)
    custom_domain_claimed_at = models.DateTimeField(null=True, blank=True)
    custom_domain_verified_at = models.DateTimeField(null=True, blank=True)
    # Remind the responders when an open incident has had no public update for this long.
    update_reminder_minutes = models.PositiveIntegerField(default=30)
    # Getting-started checklist: the one step we cannot observe from data.
    embed_viewed_at = models.DateTimeField(null=True, blank=True)
    # What keys the cached public responses (statuspage.publishing): a number every write that
    # changes what visitors see raises in its transaction. Redis mirrors it for the fast path;
    # False here until the mirror has the new value (the reconcile step finds these).
    content_version = models.PositiveBigIntegerField(
        default=initial_content_version, editable=False
    )
    is_version_mirrored = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "name"]),
            # Across tenants on purpose: the reconcile step reads the few unmirrored pages.
            models.Index(
                fields=["id"],
                condition=models.Q(is_version_mirrored=False),
                name="page_version_unmirrored",
            ),
        ]
        constraints = [
            # Global, not per organisation: a host name serves one page. Two verifications
            # racing each other cannot both commit.
            models.UniqueConstraint(
                fields=["custom_domain"],
                condition=models.Q(custom_domain_verified_at__isnull=False),
                name="page_verified_custom_domain_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_verified_custom_domain(self) -> bool:
        return bool(self.custom_domain and self.custom_domain_verified_at)


class AuditEntry(models.Model):
    """Who changed what, when, with the state before and after (JSON)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_entries"
    )
    page = models.ForeignKey(
        Page, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=200)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ScopedManager(organization="organization")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "verb"]),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.verb} {self.target_type} {self.target_label}"


class ApiKey(models.Model):
    """A key for the management API. Only a hash is stored; the key is shown once."""

    class Access(models.TextChoices):
        READ_ONLY = "read_only", "Read-only"
        RESPONDER = "responder", "Responder"
        ADMIN = "admin", "Admin"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    public_id = PublicIdField()
    name = models.CharField(max_length=100)
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.RESPONDER)
    # Subscribers' email addresses and webhook URLs: admin keys read them anyway; a read-only or
    # responder key only with this scope (console viewers and responders never see them).
    can_read_personal_data = models.BooleanField(default=False)
    # Empty: every page of the organisation.
    pages = models.ManyToManyField(Page, blank=True, related_name="+")
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organization="organization")

    def __str__(self) -> str:
        return self.name

    @property
    def role(self) -> Role:
        return {"read_only": Role.VIEWER, "responder": Role.RESPONDER, "admin": Role.ADMIN}[
            self.access
        ]

    @property
    def reads_personal_data(self) -> bool:
        return self.can_read_personal_data or self.role.includes(Role.ADMIN)
