"""Requests (cases), their messages, attachments and append-only event timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager

from tawasul.beneficiaries.models import Beneficiary
from tawasul.core.ids import tracking_number_display
from tawasul.core.models import BilingualNameMixin, TimelineEvent
from tawasul.directory.models import CareCentre, Entity


class Kind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    OBSERVATION = "observation", _("Observation")
    PRAISE = "praise", _("Praise")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Web portal")
    APP = "app", _("Mobile app")
    CALL_CENTRE = "call_centre", _("Call centre")
    EMAIL = "email", _("E-mail")
    SOCIAL = "social", _("Social media")
    SMS = "sms", _("SMS")
    WALK_IN = "walk_in", _("Walk-in")
    OPEN311 = "open311", _("Open311 API")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_BENEFICIARY = "awaiting_beneficiary", _("Awaiting your reply")
    ANSWERED = "answered", _("Answered")
    OBJECTED = "objected", _("Objected")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = frozenset(Status.values) - {Status.CLOSED, Status.CANCELLED}


class SlaState(models.TextChoices):
    """Where one SLA clock (first response or resolution) stands."""

    NONE = "", _("No clock")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    STOPPED = "stopped", _("Stopped")


class SlaStage(models.TextChoices):
    """How far the sweep has gone with the resolution clock: warn → breach → escalate."""

    NONE = "none", _("On track")
    WARNED = "warned", _("Warned")
    BREACHED = "breached", _("Breached")
    ESCALATED = "escalated", _("Escalated")


class Category(BilingualNameMixin, MP_Node):
    """A node of the bilingual category taxonomy."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kinds = models.JSONField(
        _("kinds"), default=list, blank=True, help_text=_("Empty: every kind of request.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]
    objects = MP_NodeManager()  # type: ignore[django-manager-missing]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def allows(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class Request(models.Model):
    """A beneficiary's request (طلب): the case worked by a care centre."""

    tracking_number = models.CharField(_("tracking number"), max_length=11, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    # The four foreign keys below have no index of their own: each leads a composite
    # index in Meta (req_category_created, req_beneficiary, req_entity_status,
    # req_assignee_status), which serves their lookups; every index costs each write.
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("category"),
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.NEW
    )
    beneficiary = models.ForeignKey(
        Beneficiary,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("beneficiary"),
        db_index=False,
    )
    entity = models.ForeignKey(
        Entity,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("entity"),
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
        verbose_name=_("assignee"),
        db_index=False,
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    resolution = models.TextField(_("resolution"), blank=True)
    resolution_code = models.CharField(_("resolution code"), max_length=30, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    transfer_count = models.PositiveSmallIntegerField(_("transfers"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_requests",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Deadlines are columns so sweeps can query them; the SLA engine fills them.
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    # The SLA clocks (tawasul.sla.clocks sets them, tawasul.sla.sweep advances them).
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("SLA policy"),
    )
    sla_resolution_minutes = models.PositiveIntegerField(
        _("resolution target (business minutes)"), null=True, blank=True
    )
    sla_first_response_state = models.CharField(
        _("first response clock"), max_length=8, choices=SlaState.choices, blank=True
    )
    sla_resolution_state = models.CharField(
        _("resolution clock"), max_length=8, choices=SlaState.choices, blank=True
    )
    sla_paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    sla_remaining_minutes = models.IntegerField(
        _("business minutes left when paused"), null=True, blank=True
    )
    sla_stage = models.CharField(
        _("SLA stage"), max_length=10, choices=SlaStage.choices, default=SlaStage.NONE
    )
    sla_next_at = models.DateTimeField(_("next SLA step at"), null=True, blank=True)
    # Subject, description and every message, normalised and case-folded: what the queues'
    # search reads (tawasul.cases.search; its index is the migration's, per database).
    search_text = models.TextField(
        _("search text"), blank=True, default="", db_default="", editable=False
    )

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        indexes = [
            models.Index(fields=["entity", "status", "-created_at"], name="req_entity_status"),
            models.Index(fields=["assignee", "status"], name="req_assignee_status"),
            models.Index(fields=["beneficiary", "-created_at"], name="req_beneficiary"),
            models.Index(fields=["status", "resolution_due"], name="req_status_due"),
            # One category over a period (the console's and the dashboards' usual question).
            models.Index(fields=["category", "-created_at"], name="req_category_created"),
            # Console queues sorted by due date across a whole subtree (keyset on due, id).
            models.Index(fields=["resolution_due", "id"], name="req_due"),
            # Open queues newest first across a subtree or the ministry: walks the ~3 % of
            # requests still open instead of every request by date (bench/RESULTS.md).
            models.Index(
                fields=["-created_at", "-id"],
                name="req_open_created",
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
            ),
            # The SLA sweep's queue: only requests with a step ahead are in it.
            models.Index(
                fields=["sla_next_at"],
                name="req_sla_next",
                condition=models.Q(sla_next_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_display

    @property
    def tracking_display(self) -> str:
        return tracking_number_display(self.tracking_number)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    INTERNAL = "internal", _("Internal note")


class Message(models.Model):
    """A message in a request's thread: a public reply or an internal staff note."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="messages")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    from_beneficiary = models.BooleanField(_("from the beneficiary"), default=False)
    visibility = models.CharField(
        _("visibility"), max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    body = models.TextField(_("text"))
    # The channel the message came in by or went out through; empty: the portal or console.
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="msg_request")]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.pk} ({self.visibility})"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.uploaded_at:%Y/%m}/{instance.storage_key}"


class Attachment(models.Model):
    """A file attached to a request, checked by its bytes (size and type)."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    storage_key = models.CharField(max_length=80, unique=True)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)
    from_beneficiary = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSIGNED = "assigned", _("Assigned")
    CLAIMED = "claimed", _("Claimed")
    STARTED = "started", _("Work started")
    INFO_REQUESTED = "info_requested", _("Information requested")
    BENEFICIARY_REPLIED = "beneficiary_replied", _("Beneficiary replied")
    REPLIED = "replied", _("Reply sent")
    NOTE_ADDED = "note_added", _("Internal note")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    ANSWERED = "answered", _("Answered")
    ACCEPTED = "accepted", _("Answer accepted")
    CLOSED_ON_EXPIRY = "closed_on_expiry", _("Closed: objection window ended")
    OBJECTED = "objected", _("Objection filed")
    OBJECTION_REJECTED = "objection_rejected", _("Objection rejected")
    REOPENED = "reopened", _("Reopened")
    FORWARDED = "forwarded", _("Forwarded")
    RETURNED = "returned", _("Returned as misrouted")
    CANCELLED = "cancelled", _("Cancelled")
    SLA_WARNED = "sla_warned", _("Service level: warning")
    SLA_BREACHED = "sla_breached", _("Service level: breached")
    SLA_ESCALATED = "sla_escalated", _("Service level: escalated")
    SLA_PAUSED = "sla_paused", _("Clock paused")
    SLA_RESUMED = "sla_resumed", _("Clock resumed: new expected date")
    SLA_RESTARTED = "sla_restarted", _("Clock restarted: new expected date")
    BENEFICIARY_REVEALED = "beneficiary_revealed", _("Beneficiary details revealed")
    RECATEGORISED = "recategorised", _("Category changed")
    REPRIORITISED = "reprioritised", _("Priority changed")
    LINKED = "linked", _("Linked to a related request")
    MERGED = "merged", _("Merged into another request")
    MERGED_FROM = "merged_from", _("A duplicate request was merged into this one")
    LOW_RATING = "low_rating", _("Low satisfaction rating")
    CALL_LOGGED = "call_logged", _("Call logged")


# The events the insights read by day: answers (staff workload), forwards and returns.
INSIGHTS_EVENT_KINDS = (EventKind.ANSWERED, EventKind.FORWARDED, EventKind.RETURNED)


class Event(TimelineEvent):
    """One entry of a request's timeline and audit log; never changed or deleted."""

    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=24, choices=EventKind.choices)
    from_status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Status.choices, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["request", "created_at"], name="event_request"),
            # the insights' reads of answers and transfers by day (a small share of events)
            models.Index(
                fields=["created_at"],
                name="event_insights",
                condition=models.Q(kind__in=INSIGHTS_EVENT_KINDS),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class RequestLink(models.Model):
    """Two related requests, linked by staff. Symmetric in reads: one row per pair."""

    request = models.ForeignKey(
        Request, on_delete=models.CASCADE, related_name="links_out", verbose_name=_("request")
    )
    related = models.ForeignKey(
        Request,
        on_delete=models.CASCADE,
        related_name="links_in",
        verbose_name=_("related request"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("request link")
        verbose_name_plural = _("request links")
        constraints = [
            models.UniqueConstraint(fields=["request", "related"], name="request_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(request=models.F("related")), name="request_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} ↔ {self.related_id}"


class CannedResponse(models.Model):
    """A ready-made bilingual reply, for one centre or (no centre) for all of them.

    The body may use `{tracking_number}`, `{name}` (the beneficiary's first name)
    and `{entity}` (the owning entity's name); see `tawasul.cases.canned`.
    """

    centre = models.ForeignKey(
        CareCentre,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        verbose_name=_("care centre"),
        help_text=_("Empty: offered to every centre."),
    )
    title_ar = models.CharField(_("title (Arabic)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    body_ar = models.TextField(_("text (Arabic)"))
    body_en = models.TextField(_("text (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title_ar", "id"]

    def __str__(self) -> str:
        return self.title_ar

    def title(self, language: str) -> str:
        return self.title_en if language == "en" and self.title_en else self.title_ar

    def body(self, language: str) -> str:
        return self.body_en if language == "en" and self.body_en else self.body_ar
