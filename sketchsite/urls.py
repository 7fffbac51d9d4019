from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import health

handler400 = "sketchsite.errors.bad_request"
handler403 = "sketchsite.errors.permission_denied"
handler404 = "sketchsite.errors.page_not_found"
handler500 = "sketchsite.errors.server_error"

urlpatterns = [
    path("health", health.health, name="health"),
    path("api/auth/", include("accounts.api.urls")),
    path("api/", include("sketches.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The admin shares the site's login (the JWT cookie) instead of its own session login.
    path("admin/login/", RedirectView.as_view(url="/login/", query_string=True)),
    path("admin/logout/", RedirectView.as_view(url="/account/")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("sketches.urls")),
]
