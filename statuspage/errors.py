class DomainError(Exception):
    """A rule of the domain refused a write. The message is written for the operator to read."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist or belongs to someone else: callers answer both the same way."""
