"""Reading beneficiaries: finding a caller by what they say on the phone."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.core.errors import InvalidInput
from tawasul.core.validators import mobile_clean, national_id_clean

MAX_MATCHES = 20


def beneficiary_find(*, mobile: str = "", national_id: str = "") -> list[Beneficiary]:
    """Beneficiaries whose national ID / iqama or mobile matches exactly (after
    normalisation); the ID wins when both are given. Several people may share one
    mobile (a family), so this is a list, oldest record first.

    Raises InvalidInput when neither is given or the one given is not valid.
    """
    if national_id.strip():
        nid = national_id_clean(national_id)
        return list(Beneficiary.objects.filter(national_id=nid))
    if mobile.strip():
        phone = mobile_clean(mobile)
        return list(Beneficiary.objects.filter(mobile=phone).order_by("pk")[:MAX_MATCHES])
    raise InvalidInput(
        _("Enter the caller's mobile number or national ID / iqama number."),
        code="lookup_missing",
        details={"field": "query"},
    )
