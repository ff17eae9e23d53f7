"""The JSON API v1: one NinjaAPI, its routers, and its error shape.

Routers only parse, call one service or selector, and render; the services and
the access layer are the same as the portal's and the console's.
"""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from tawasul.api import errors
from tawasul.api.beneficiary import router as beneficiary_router
from tawasul.api.meetings import router as meetings_router
from tawasul.api.partner import router as partner_router
from tawasul.api.public import router as public_router
from tawasul.api.staff import router as staff_router
from tawasul.api.webhooks import router as webhooks_router


class UTF8JSONRenderer(JSONRenderer):
    """Arabic as text, not as \\uXXXX escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Tawasul API",
    version="1.0.0",
    description=(
        "The API of the Tawasul beneficiary-care platform for the mobile app, staff tools "
        "and partner systems. Errors share one shape: `code`, `message` (`ar`, `en`) and "
        "`details`."
    ),
    renderer=UTF8JSONRenderer(),
    urls_namespace="api-v1",
)
errors.install(api)
api.add_router("/public", public_router)
api.add_router("/", beneficiary_router)  # /auth/…, /me/…
api.add_router("/me/meetings", meetings_router)
api.add_router("/staff", staff_router)
api.add_router("/partner/webhooks", webhooks_router)
api.add_router("/partner", partner_router)
