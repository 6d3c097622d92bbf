"""Hosts create challenges and editions here and keep an eye on the scoring queue."""

from __future__ import annotations

from django.contrib import admin

from leaderboard.models import (
    Challenge,
    Edition,
    Membership,
    SampleImage,
    Score,
    Submission,
    Team,
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


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = ("title", "slug", "primary_metric", "precision", "n_test_images", "created_at")
    list_filter = ("primary_metric", "precision")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("dataset_fingerprint", "n_test_images", "created_at")
    inlines = (EditionInline, SampleImageInline)


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
    search_fields = ("challenge__title", "slug")
    date_hierarchy = "opens_at"


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
        "attempts",
        "worker",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "is_baseline", "format", "edition__challenge", "edition__year")
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
    )
    inlines = (ScoreInline,)


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("submission", "top1_error", "top5_error", "n_images", "created_at")
    list_select_related = ("submission",)
    readonly_fields = [f.name for f in Score._meta.fields]
