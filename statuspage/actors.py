"""Who is acting: a signed-in person, an API key, an alert integration or the system itself.

Services take an `Actor` so the audit log and timelines can say who did what, whichever door
(console, REST API, alert intake, scheduler) the request came through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from statuspage.models import User


@dataclass(frozen=True)
class Actor:
    label: str
    user: User | None = None
    kind: str = "user"

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(label=user.email, user=user, kind="user")

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(label=what, kind="system")

    @classmethod
    def api_key(cls, name: str, user: User | None = None) -> Actor:
        return cls(label=f"API key {name}", user=user, kind="api")

    @classmethod
    def integration(cls, name: str) -> Actor:
        return cls(label=f"integration {name}", kind="integration")
