"""Custom domains: validation, the DNS records an operator must create, and verification.

Verification reads one TXT record through the resolver named by `settings.DNS_TXT_RESOLVER`
(tests swap in their own), so nothing else in the code base talks to DNS.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from statuspage.models import Page

VERIFICATION_PREFIX = "_statuspage-verification"
TXT_VALUE_PREFIX = "statuspage-verification="
DOMAIN_PATTERN = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "app", "assets", "auth", "billing", "blog", "cdn", "console", "dashboard",
        "dev", "docs", "help", "internal", "login", "mail", "media", "pages", "smtp", "ftp", "imap",
        "pop", "signup", "static", "status", "support", "test", "www", "webmail", "ns1", "ns2",
    }
)  # fmt: skip


def slug_refusal(slug: str) -> str | None:
    """Why `slug` cannot be a page's subdomain (beyond its form), or None if it can."""
    if slug in RESERVED_SLUGS:
        return f"“{slug}” is reserved; please choose another."
    if slug[2:4] == "--":
        # RFC 5891: "--" in the third and fourth places marks an encoded label (xn--…), which
        # browsers would show as another name.
        return "A subdomain may not have “--” as its third and fourth characters (as in xn--)."
    return None


def normalise_domain(value: str) -> str:
    return value.strip().lower().rstrip(".")


def is_valid_domain(value: str) -> bool:
    return bool(DOMAIN_PATTERN.match(value))


def verification_record_name(domain: str) -> str:
    return f"{VERIFICATION_PREFIX}.{domain}"


def verification_record_value(token: str) -> str:
    return f"{TXT_VALUE_PREFIX}{token}"


def resolve_txt_records(name: str) -> list[str]:
    """The TXT strings published at `name`; empty when there are none or DNS fails."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=5)
    except (dns.exception.DNSException, OSError):
        return []
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def txt_resolver() -> Callable[[str], list[str]]:
    return import_string(settings.DNS_TXT_RESOLVER)


def domain_proves_token(domain: str, token: str) -> bool:
    expected = verification_record_value(token)
    return any(
        value.strip() == expected for value in txt_resolver()(verification_record_name(domain))
    )


def claim_has_lapsed(page: Page, *, now: datetime.datetime | None = None) -> bool:
    """An unverified claim lasts CUSTOM_DOMAIN_CLAIM_DAYS from when it was made; a lapsed one
    can no longer be verified (saving the domain again starts a new claim)."""
    if page.custom_domain_verified_at or not page.custom_domain_claimed_at:
        return False
    age = (now or timezone.now()) - page.custom_domain_claimed_at
    return age > datetime.timedelta(days=settings.CUSTOM_DOMAIN_CLAIM_DAYS)
