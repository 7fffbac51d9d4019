from django import forms


class ErrorsLeadForm(forms.Form):
    """A form whose first field in error gets the autofocus when the page comes back with errors.

    The error text is tied to its field by Django itself (``aria-describedby`` names
    ``<id>_error``, which accounts/_field.html gives the error list); with only form-wide errors
    (wrong password) the first field takes the focus.
    """

    def full_clean(self):
        super().full_clean()
        self._focus_first_error()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._focus_first_error()

    def _focus_first_error(self):
        if not self.errors:
            return
        first = next((name for name in self.fields if name in self.errors), next(iter(self.fields)))
        for name, field in self.fields.items():
            if name == first:
                field.widget.attrs["autofocus"] = True
            else:
                field.widget.attrs.pop("autofocus", None)


class LoginForm(ErrorsLeadForm):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RegisterForm(ErrorsLeadForm):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    display_name = forms.CharField(
        max_length=80, required=False, label="Display name (optional)", widget=forms.TextInput(attrs={"autocomplete": "nickname"})
    )
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not too common, not only digits.",
    )


class ProfileForm(ErrorsLeadForm):
    display_name = forms.CharField(max_length=80, required=False, widget=forms.TextInput(attrs={"autocomplete": "nickname"}))


class PasswordChangeForm(ErrorsLeadForm):
    current_password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
