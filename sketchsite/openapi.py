"""OpenAPI description of our authentication, for drf-spectacular (the schema and /api/docs/).

Imported by sketchsite.urls so that the extension is registered before a schema is generated;
without it drf-spectacular warns on every view (which would fail `check --deploy`'s "no
warnings" bar) and documents the endpoints as unauthenticated.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTCookieAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTCookieAuthentication"
    name = ["bearerAuth", "cookieAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": settings.JWT_ACCESS_COOKIE},
        ]

    def get_security_requirement(self, auto_schema):
        return [{"bearerAuth": []}, {"cookieAuth": []}]  # either one
