import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def normalise_email(email: str) -> str:
    """Emails are the login and compare case-insensitively: store them lower-cased."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalise_email(email))

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalise_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields["role"] = User.Role.ADMIN
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        USER = "user", "User"
        ADMIN = "admin", "Admin"

    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, editable=False, help_text="Follows the role: admins are staff.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["-date_joined"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalise_email(self.email)
        # The role is the single source of truth for staff and superuser rights.
        self.is_staff = self.is_superuser = self.role == self.Role.ADMIN
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "role" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff", "is_superuser"}
        super().save(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]


class AuthSession(models.Model):
    """One login on one device: every token pair rotated from that login carries its id (``sid``).

    Ending it (logout, log out everywhere, a password change, deactivation, a reused refresh
    token) ends its access tokens and open sockets at once, not when they expire. The rows also
    tell a user where they are signed in.
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        LOGOUT_ALL = "logout_all", "Logged out everywhere"
        PASSWORD = "password_change", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        REFRESH_REUSE = "refresh_reuse", "A used refresh token was sent again"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    created_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "ended_at"], name="authsession_user_open")]

    def __str__(self):
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"
