"""Signed, login-free links in subscriber emails, built from the page's canonical URL."""

from django.conf import settings
from django.core import signing

from statuspage.page_urls import public_base_url
from subscribers.models import Subscriber

CONFIRM_SALT = "subscribers.confirm"
MANAGE_SALT = "subscribers.manage"


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps(subscriber.public_id, salt=CONFIRM_SALT)


def manage_signer() -> signing.TimestampSigner:
    """One signer for a batch of tokens: setting one up costs more than the signature. Its
    tokens are exactly `signing.dumps(public_id, salt=MANAGE_SALT)`."""
    return signing.TimestampSigner(salt=MANAGE_SALT)


def manage_token(subscriber: Subscriber, signer: signing.TimestampSigner | None = None) -> str:
    # No expiry: an old email's unsubscribe link must keep working.
    return (signer or manage_signer()).sign_object(subscriber.public_id)


def read_confirm_token(token: str) -> str:
    """The subscriber's public id; raises signing.BadSignature (or SignatureExpired)."""
    return signing.loads(token, salt=CONFIRM_SALT, max_age=settings.SUBSCRIPTION_CONFIRM_MAX_AGE)


def read_manage_token(token: str) -> str:
    return signing.loads(token, salt=MANAGE_SALT)


def confirm_url(subscriber: Subscriber) -> str:
    return f"{public_base_url(subscriber.page)}/subscribe/confirm/{confirm_token(subscriber)}"


def subscription_base_url(page) -> str:
    return f"{public_base_url(page)}/subscribe"


def manage_links(
    subscriber: Subscriber, *, base: str = "", signer: signing.TimestampSigner | None = None
) -> tuple[str, str, str]:
    """(manage URL, unsubscribe URL, token) from one signature. A batch passes the page's
    `subscription_base_url` and one `manage_signer` in."""
    token = manage_token(subscriber, signer)
    base = base or subscription_base_url(subscriber.page)
    return f"{base}/manage/{token}", f"{base}/unsubscribe/{token}", token


def manage_url(subscriber: Subscriber) -> str:
    return manage_links(subscriber)[0]


def unsubscribe_url(subscriber: Subscriber) -> str:
    return manage_links(subscriber)[1]
