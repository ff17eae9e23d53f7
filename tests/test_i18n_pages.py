"""Walk the pages in Arabic and fail on any string rendered without an Arabic translation.

The recorder wraps Django's translation object: every msgid looked up while a page
renders in Arabic that comes back unchanged (and has Latin letters) is a miss.
"""

from __future__ import annotations

import pytest

PUBLIC_PAGES = ["/", "/signin/", "/track/", "/admin/login/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_have_no_untranslated_string(client, ministry, untranslated, path):
    response = client.get(path)
    assert response.status_code == 200
    assert 'lang="ar"' in response.content.decode()
    assert untranslated == set(), f"untranslated on {path}: {sorted(untranslated)}"


def test_the_recorder_catches_a_missing_translation(untranslated):
    from django.utils import translation

    with translation.override("ar"):
        translation.gettext("A sentence nobody has translated yet")
    assert untranslated == {"A sentence nobody has translated yet"}
