from django.core.exceptions import ValidationError


class ApplicationError(ValidationError):
    """A change the application rules do not allow."""
