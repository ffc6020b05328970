"""The domain's error hierarchy, mapped once to HTTP responses and once to WebSocket errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected domain failure. ``code`` is a stable dotted string."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class InvalidState(DomainError):
    code = "invalid_state"


class Invalid(DomainError):
    """Input that breaks a domain rule (too long, unknown zone, end before start …)."""

    code = "invalid"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after=retry_after)
        self.retry_after = retry_after
