"""Forms: sign-up and the submission form (validation only; the service decides the rest)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; only the hosts see it.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class SubmissionForm(forms.Form):
    file = forms.FileField(
        help_text="ONNX, safetensors (with an architecture), torch.export .pt2 or TorchScript."
    )
    arch = forms.CharField(
        max_length=100,
        required=False,
        label="Architecture",
        help_text="Needed for safetensors weights, e.g. resnet18 or alexnet.",
    )
    method_name = forms.CharField(max_length=200, label="Method name")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
