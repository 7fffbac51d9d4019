from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from . import tokens
from .models import AuthSession, User


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name", "role"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PasswordSetForm(AdminPasswordChangeForm):
    """An admin setting someone's password logs them out everywhere, as their own change does."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            tokens.revoke_all(user, AuthSession.EndReason.PASSWORD)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    change_password_form = PasswordSetForm
    ordering = ["-date_joined"]
    list_display = [
        "email",
        "display_name",
        "role",
        "is_active",
        "sketch_count",
        "active_sketch_count",
        "date_joined",
        "last_login",
    ]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login", "is_staff"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name"]}),
        ("Access", {"fields": ["role", "is_active", "is_staff"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "display_name", "role", "usable_password", "password1", "password2"]})
    ]
    filter_horizontal = []
    actions = ["deactivate_selected", "activate_selected", "make_admin", "make_user"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _sketches=Count("sketches", distinct=True),
                _active=Count("sketches", filter=Q(sketches__status__in=["queued", "processing"]), distinct=True),
            )
        )

    @staticmethod
    def _sketches_link(user, count, **filters):
        url = reverse("admin:sketches_sketch_changelist") + "?" + urlencode({"owner__id__exact": user.pk, **filters})
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description="Sketches", ordering="_sketches")
    def sketch_count(self, user):
        return self._sketches_link(user, user._sketches)

    @admin.display(description="Running", ordering="_active")
    def active_sketch_count(self, user):
        return self._sketches_link(user, user._active, state="running") if user._active else 0

    # --------------------------------------------------------------- actions
    def _others(self, request, queryset):
        """An admin cannot lock themselves out by accident."""
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "Your own account was left as it is.", messages.WARNING)
        return queryset.exclude(pk=request.user.pk)

    @admin.action(description="Deactivate selected users (and log them out everywhere)")
    def deactivate_selected(self, request, queryset):
        users = list(self._others(request, queryset).filter(is_active=True))
        for user in users:
            user.is_active = False
            user.save(update_fields=["is_active"])
            tokens.revoke_all(user, AuthSession.EndReason.DEACTIVATED)
        self.message_user(request, f"{len(users)} user(s) deactivated and logged out.")

    @admin.action(description="Activate selected users")
    def activate_selected(self, request, queryset):
        count = queryset.filter(is_active=False).update(is_active=True)
        self.message_user(request, f"{count} user(s) activated.")

    @admin.action(description="Give selected users the admin role")
    def make_admin(self, request, queryset):
        users = list(queryset.exclude(role=User.Role.ADMIN))
        for user in users:
            user.role = User.Role.ADMIN
            user.save(update_fields=["role"])
        self.message_user(request, f"{len(users)} user(s) are now admins.")

    @admin.action(description="Give selected users the user role")
    def make_user(self, request, queryset):
        users = list(self._others(request, queryset).exclude(role=User.Role.USER))
        for user in users:
            user.role = User.Role.USER
            user.save(update_fields=["role"])
        self.message_user(request, f"{len(users)} user(s) are now plain users.")
