from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count, Q

from .models import User


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name", "role"]


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ["-date_joined"]
    list_display = ["email", "display_name", "role", "is_active", "sketch_count", "active_sketch_count", "date_joined", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login", "is_staff"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name"]}),
        ("Access", {"fields": ["role", "is_active", "is_staff"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "display_name", "role", "usable_password", "password1", "password2"]})]
    filter_horizontal = []

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _sketches=Count("sketches", distinct=True),
                _active=Count("sketches", filter=Q(sketches__status__in=["queued", "processing"]), distinct=True),
            )
        )

    @admin.display(description="Sketches", ordering="_sketches")
    def sketch_count(self, user):
        return user._sketches

    @admin.display(description="Running", ordering="_active")
    def active_sketch_count(self, user):
        return user._active
