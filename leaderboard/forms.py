"""The submission form (validation only; the service decides the rest). Accounts' forms are
django-allauth's (leaderboard.adapters)."""

from __future__ import annotations

from django import forms


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
