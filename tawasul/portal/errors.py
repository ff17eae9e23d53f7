"""Turning domain errors into form errors (the message in the active language)."""

from __future__ import annotations

from django import forms

from tawasul.core.errors import DomainError


def form_error_add(form: forms.BaseForm, error: DomainError) -> None:
    """Attach a service's error to the field it names, or to the form as a whole."""
    field = error.details.get("field")
    form.add_error(field if field in form.fields else None, str(error.message))
