"""Signed, login-free links in subscriber emails, built from the page's canonical URL."""

from django.conf import settings
from django.core import signing

from statuspage.page_urls import public_base_url
from subscribers.models import Subscriber

CONFIRM_SALT = "subscribers.confirm"
MANAGE_SALT = "subscribers.manage"


def confirm_token(subscriber: Subscriber) -> str:
    return signing.dumps(subscriber.public_id, salt=CONFIRM_SALT)


def manage_token(subscriber: Subscriber) -> str:
    # No expiry: an old email's unsubscribe link must keep working.
    return signing.dumps(subscriber.public_id, salt=MANAGE_SALT)


def read_confirm_token(token: str) -> str:
    """The subscriber's public id; raises signing.BadSignature (or SignatureExpired)."""
    return signing.loads(token, salt=CONFIRM_SALT, max_age=settings.SUBSCRIPTION_CONFIRM_MAX_AGE)


def read_manage_token(token: str) -> str:
    return signing.loads(token, salt=MANAGE_SALT)


def confirm_url(subscriber: Subscriber) -> str:
    return f"{public_base_url(subscriber.page)}/subscribe/confirm/{confirm_token(subscriber)}"


def manage_links(subscriber: Subscriber) -> tuple[str, str, str]:
    """(manage URL, unsubscribe URL, token) from one signature."""
    token = manage_token(subscriber)
    base = f"{public_base_url(subscriber.page)}/subscribe"
    return f"{base}/manage/{token}", f"{base}/unsubscribe/{token}", token


def manage_url(subscriber: Subscriber) -> str:
    return manage_links(subscriber)[0]


def unsubscribe_url(subscriber: Subscriber) -> str:
    return manage_links(subscriber)[1]
