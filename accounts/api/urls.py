from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^register/?$", views.RegisterView.as_view(), name="api-register"),
    re_path(r"^login/?$", views.LoginView.as_view(), name="api-login"),
    re_path(r"^refresh/?$", views.RefreshView.as_view(), name="api-refresh"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="api-logout"),
    re_path(r"^logout-all/?$", views.LogoutEverywhereView.as_view(), name="api-logout-all"),
    re_path(r"^me/?$", views.MeView.as_view(), name="api-me"),
    re_path(r"^password/?$", views.PasswordChangeView.as_view(), name="api-password"),
]
