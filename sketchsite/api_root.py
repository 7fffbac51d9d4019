"""``GET /api/``: the browsable API's front door, a map of the endpoints with their full URLs."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# Label → URL name; in the order a client meets them (account, upload, sketch, then the docs).
ENDPOINTS = {
    "register": "api-register",
    "login": "api-login",
    "refresh": "api-refresh",
    "logout": "api-logout",
    "logout-all": "api-logout-all",
    "me": "api-me",
    "password": "api-password",
    "upload-presigned-url": "api-presign",
    "upload-confirm": "api-confirm",
    "sketches": "api-sketch-list",
    "sketch-create": "api-sketch-create",
    "styles": "api-styles",
    "schema": "api-schema",
    "docs": "api-docs",
    "health": "health",
}


class ApiRootView(APIView):
    """The endpoints of this API; the documentation ("docs") describes each one in full."""

    permission_classes = [AllowAny]
    name = "API root"

    # A map for people browsing; programs read the OpenAPI schema, which stays the contract.
    @extend_schema(exclude=True)
    def get(self, request):
        return Response({label: reverse(name, request=request) for label, name in ENDPOINTS.items()})
