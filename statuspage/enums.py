from django.db import models


class Role(models.TextChoices):
    """A member's role in an organisation; each role can do everything the ones before it can."""

    VIEWER = "viewer", "Viewer"
    RESPONDER = "responder", "Responder"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, required: "Role") -> bool:
        return self.rank >= Role(required).rank


# The roles that respond to incidents: they see the internal side and can be paged.
RESPONDER_ROLES = [Role.RESPONDER, Role.ADMIN, Role.OWNER]
