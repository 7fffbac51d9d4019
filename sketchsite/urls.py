from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views

from . import health, metrics, openapi  # noqa: F401  (openapi registers the auth scheme)
from .api_root import ApiRootView
from .favicon import favicon

handler400 = "sketchsite.errors.bad_request"
handler403 = "sketchsite.errors.permission_denied"
handler404 = "sketchsite.errors.page_not_found"
handler500 = "sketchsite.errors.server_error"

urlpatterns = [
    path("health", health.health, name="health"),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/auth/", include("accounts.api.urls")),
    path("api/", include("sketches.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (no inline script: CSP); files from the sidecar app.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The admin shares the site's login (the JWT cookie) instead of its own session login.
    path("admin/login/", account_views.admin_login_view),
    path("admin/logout/", account_views.logout_view),  # the admin's logout button ends the JWT session too
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("sketches.urls")),
]
