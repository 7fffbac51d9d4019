from django import forms


class LoginForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RegisterForm(forms.Form):
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


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=80, required=False, widget=forms.TextInput(attrs={"autocomplete": "nickname"}))


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        max_length=128, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
