"""Hosts create challenges and editions here and keep an eye on the scoring queue."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from leaderboard import services
from leaderboard.models import (
    ApiToken,
    Challenge,
    Edition,
    Membership,
    Participant,
    ReferenceResult,
    SampleImage,
    Score,
    Submission,
    Team,
    TeamInvitation,
)


class SampleImageInline(admin.TabularInline):
    model = SampleImage
    extra = 0
    fields = ("position", "image", "label", "label_name")


class EditionInline(admin.TabularInline):
    model = Edition
    extra = 0
    fields = ("year", "slug", "opens_at", "closes_at", "daily_limit", "total_limit")
    show_change_link = True


class ReferenceResultInline(admin.TabularInline):
    """Published results, shown as "reported" beside our scores (never mixed with them)."""

    model = ReferenceResult
    extra = 0
    fields = ("year", "team", "method", "top5_error", "top1_error", "note", "source")


class ReferenceCSVForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: year, team, method, top5_error_pct (or top1_error_pct), note, source.",
    )
    replace = forms.BooleanField(
        required=False, help_text="Remove this challenge's reported rows that the file lacks."
    )


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "primary_metric", "precision", "n_test_images", "created_at")
    list_filter = ("primary_metric", "precision")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("dataset_fingerprint", "n_test_images", "robustness_samples", "created_at")
    inlines = (EditionInline, ReferenceResultInline, SampleImageInline)
    change_form_template = "admin/leaderboard/challenge/change_form.html"

    def get_urls(self):
        own = [
            path(
                "<int:pk>/import-reported/",
                self.admin_site.admin_view(self.import_reported),
                name="leaderboard_challenge_import_reported",
            )
        ]
        return own + super().get_urls()

    def import_reported(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Upload a CSV of reported results for this challenge (checked whole before import)."""
        challenge = get_object_or_404(Challenge, pk=pk)
        if not self.has_change_permission(request, challenge):
            return redirect("admin:index")
        form = ReferenceCSVForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                outcome = services.reference_results_import(
                    challenge=challenge,
                    text=raw.decode("utf-8-sig"),
                    replace=form.cleaned_data["replace"],
                )
            except (UnicodeDecodeError, services.ReferenceCSVError) as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request,
                    f"Reported results: {outcome.created} added, {outcome.updated} updated, "
                    f"{outcome.deleted} removed.",
                )
                return redirect(reverse("admin:leaderboard_challenge_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import reported results into {challenge}",
            "challenge": challenge,
            "form": form,
            "opts": self.model._meta,
        }
        return render(request, "admin/leaderboard/challenge/import_reported.html", context)


@admin.register(ReferenceResult)
class ReferenceResultAdmin(admin.ModelAdmin):
    list_display = ("challenge", "year", "team", "method", "top5_error", "top1_error")
    list_filter = ("challenge",)
    search_fields = ("team", "method", "source")


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = (
        "challenge",
        "year",
        "slug",
        "opens_at",
        "closes_at",
        "daily_limit",
        "total_limit",
        "max_upload_mb",
    )
    list_filter = ("challenge", "year")
    list_select_related = ("challenge",)
    search_fields = ("challenge__title", "slug", "title", "join_code")
    date_hierarchy = "opens_at"
    autocomplete_fields = ("host",)


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("user", "edition", "joined_at")
    list_filter = ("edition__challenge", "edition__year")
    list_select_related = ("user", "edition__challenge")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)


@admin.register(TeamInvitation)
class TeamInvitationAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "invited_by", "status", "created_at", "answered_at")
    list_filter = ("status",)
    list_select_related = ("user", "team", "invited_by")
    search_fields = ("user__username", "team__name")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("edition",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "edition", "created_at")
    list_filter = ("edition__challenge", "edition__year")
    list_select_related = ("edition__challenge",)
    search_fields = ("name", "members__username")
    inlines = (MembershipInline,)

    def save_formset(self, request, form, formset, change):
        """Memberships copy their team's edition (it backs the one-team-per-edition rule)."""
        for membership in formset.save(commit=False):
            membership.edition = membership.team.edition
            membership.save()
        for obj in formset.deleted_objects:
            obj.delete()


class ScoreInline(admin.StackedInline):
    model = Score
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Score._meta.fields if f.name != "id"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = (
        "method_name",
        "edition",
        "team",
        "is_baseline",
        "status",
        "error_code",
        "is_final",
        "moderation",
        "attempts",
        "worker",
        "created_at",
        "finished_at",
    )
    list_filter = (
        "status",
        "is_baseline",
        "moderation",
        "format",
        "edition__challenge",
        "edition__year",
    )
    list_select_related = ("edition__challenge", "team")
    search_fields = ("method_name", "team__name", "submitted_by__username", "id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "status",
        "attempts",
        "worker",
        "error_code",
        "error_message",
        "created_at",
        "enqueued_at",
        "started_at",
        "finished_at",
        "deadline",
        "format",
        "size_bytes",
        "original_name",
        "moderated_by",
        "moderated_at",
    )
    inlines = (ScoreInline,)

    def save_model(self, request, obj, form, change):
        """A moderation made here is recorded with who made it and when, as on the host page."""
        if {"moderation", "moderation_reason"} & set(form.changed_data):
            obj.moderated_by = request.user
            obj.moderated_at = timezone.now()
        editions = {obj.edition_id, form.initial.get("edition", obj.edition_id)}
        super().save_model(request, obj, form, change)
        _activity_rebuild(edition_ids=editions)  # a change here may move an entry's day

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _activity_rebuild(edition_ids={obj.edition_id})

    def delete_queryset(self, request, queryset):
        editions = set(queryset.values_list("edition_id", flat=True))
        super().delete_queryset(request, queryset)
        _activity_rebuild(edition_ids=editions)


def _activity_rebuild(*, edition_ids: set[int]) -> None:
    """The charts' stored days of these editions, counted again after an edit by staff."""
    for edition in Edition.objects.filter(pk__in=edition_ids).select_related("challenge"):
        services.activity_rebuild(edition=edition)


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("submission", "top1_error", "top5_error", "n_images", "created_at")
    list_select_related = ("submission",)
    readonly_fields = [f.name for f in Score._meta.fields]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see who holds a token and revoke it by deleting; tokens are made by their owners."""

    list_display = ("user", "prefix", "created")
    search_fields = ("user__username", "prefix")
    readonly_fields = ("user", "prefix", "created")
    exclude = ("digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
