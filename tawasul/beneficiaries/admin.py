"""Admin for beneficiaries: a read-only, masked view for looking a person up.

Only masked identifiers are shown; a person is found by their exact national ID
or mobile number (typed in any usual form), never by a partial match, and there
is no bulk action or export. Changes go through the beneficiary services.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.core.admin import ReadOnlyAdminMixin
from tawasul.core.errors import InvalidInput
from tawasul.core.validators import mobile_clean, national_id_clean


def beneficiary_lookup_filter(term: str) -> dict[str, str] | None:
    """The exact-match filter for a typed national ID or mobile, or None if it is neither."""
    for field, clean in (("national_id", national_id_clean), ("mobile", mobile_clean)):
        try:
            return {field: clean(term)}
        except InvalidInput:
            continue
    return None


@admin.register(Beneficiary)
class BeneficiaryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("full_name", "national_id_masked", "mobile_masked", "kind", "created_at")
    list_filter = ("kind", "language", "preferred_contact")
    search_fields = ("national_id",)  # shows the search box; matching is exact (see below)
    search_help_text = _("Exact national ID / iqama or mobile number.")
    actions = None
    show_full_result_count = False
    fields = (
        "full_name",
        "national_id_masked",
        "mobile_masked",
        "kind",
        "language",
        "preferred_contact",
        "consent_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("national ID / iqama"))
    def national_id_masked(self, obj: Beneficiary) -> str:
        return obj.masked_national_id

    @admin.display(description=_("mobile"))
    def mobile_masked(self, obj: Beneficiary) -> str:
        return obj.masked_mobile

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Beneficiary], search_term: str
    ) -> tuple[QuerySet[Beneficiary], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        lookup = beneficiary_lookup_filter(term)
        if lookup is None:
            return queryset.none(), False
        return queryset.filter(**lookup), False
