"""Business-rule failures that point at a form field."""

from __future__ import annotations


class FieldError(ValueError):
    """A service refused the input; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def attach_to_form(form, error: FieldError) -> None:
    """Show a service's FieldError next to its field (or at the top of the form)."""
    field = getattr(form, error.field, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)
