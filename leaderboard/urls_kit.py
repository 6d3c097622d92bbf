"""URLs of a challenge's starting kit: its public downloads (the page is challenge_detail)."""

from django.urls import path

from leaderboard.views import kit

KIT = "c/<slug:slug>/kit"

urlpatterns = [
    path(f"{KIT}/classes.txt", kit.class_names, name="kit_classes"),
    path(f"{KIT}/training-set", kit.training_set, name="kit_training_set"),
    path(f"{KIT}/example.onnx", kit.example_model, name="kit_example"),
]
