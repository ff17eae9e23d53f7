"""Meet the minister (مقابلة الوزير): a request for a meeting, screened by the central
care centre, decided by the minister's office, booked into a host's slot, held, and
followed up. The timeline (`MeetingEvent`) is append-only, like a request's."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tawasul.beneficiaries.models import Beneficiary
from tawasul.core.ids import tracking_number_display
from tawasul.core.models import TimelineEvent
from tawasul.directory.models import Entity


class MeetingStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting screening")
    FORWARDED = "forwarded", _("With the minister's office")
    APPROVED = "approved", _("Approved, awaiting a date")
    OFFERED = "offered", _("Dates offered")
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    NO_SHOW = "no_show", _("Missed")
    DECLINED = "declined", _("Declined")
    CONVERTED = "converted", _("Turned into a request")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_MEETING_STATUSES = frozenset(
    {
        MeetingStatus.SUBMITTED,
        MeetingStatus.FORWARDED,
        MeetingStatus.APPROVED,
        MeetingStatus.OFFERED,
        MeetingStatus.SCHEDULED,
    }
)


class PartOfDay(models.TextChoices):
    MORNING = "morning", _("Morning")
    EVENING = "evening", _("Evening")


class MeetingStep(models.TextChoices):
    """The step whose service-level target is running."""

    NONE = "", _("None")
    SCREENING = "screening", _("Screening by the care centre")
    DECISION = "decision", _("Decision by the minister's office")
    SCHEDULING = "scheduling", _("Scheduling")


class MeetingHost(models.Model):
    """Who receives beneficiaries: the minister, a deputy or another official."""

    name = models.CharField(_("name"), max_length=150)
    title = models.CharField(_("title"), max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meeting_hosts",
        verbose_name=_("staff account"),
    )
    is_minister = models.BooleanField(_("the minister"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("meeting host")
        verbose_name_plural = _("meeting hosts")
        ordering = ["-is_minister", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_minister"],
                condition=models.Q(is_minister=True),
                name="meeting_one_minister_host",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.title}"


class MeetingRequest(models.Model):
    """A beneficiary's request to meet the minister."""

    tracking_number = models.CharField(_("tracking number"), max_length=11, unique=True)
    beneficiary = models.ForeignKey(
        Beneficiary,
        on_delete=models.PROTECT,
        related_name="meeting_requests",
        verbose_name=_("beneficiary"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    summary = models.TextField(_("summary"))
    follow_ups = models.ManyToManyField(
        "cases.Request",
        related_name="meeting_requests",
        blank=True,
        verbose_name=_("requests followed up"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.SUBMITTED
    )
    host = models.ForeignKey(
        MeetingHost,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("host"),
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    converted_request = models.ForeignKey(
        "cases.Request",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="converted_from_meetings",
        verbose_name=_("request it became"),
    )
    # Service-level targets of each step (business time of the central centre).
    screening_due = models.DateTimeField(_("screening due"), null=True, blank=True)
    decision_due = models.DateTimeField(_("decision due"), null=True, blank=True)
    scheduling_due = models.DateTimeField(_("scheduling due"), null=True, blank=True)
    step = models.CharField(
        _("running step"), max_length=12, choices=MeetingStep.choices, blank=True
    )
    step_due = models.DateTimeField(_("running step due"), null=True, blank=True)
    step_overdue_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("meeting request")
        verbose_name_plural = _("meeting requests")
        indexes = [
            models.Index(fields=["status", "-created_at"], name="meeting_status"),
            models.Index(fields=["beneficiary", "status"], name="meeting_beneficiary"),
            # The overdue sweep: running steps not yet flagged, by due date.
            models.Index(
                fields=["step_due", "id"],
                name="meeting_step_due",
                condition=models.Q(step_due__isnull=False, step_overdue_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_display

    @property
    def tracking_display(self) -> str:
        return tracking_number_display(self.tracking_number)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_MEETING_STATUSES


class MeetingPreference(models.Model):
    """A period the beneficiary prefers: from one day to another, mornings or evenings."""

    meeting = models.ForeignKey(
        MeetingRequest, on_delete=models.CASCADE, related_name="preferences"
    )
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("to"))
    part_of_day = models.CharField(_("part of the day"), max_length=8, choices=PartOfDay.choices)

    class Meta:
        verbose_name = _("preferred period")
        verbose_name_plural = _("preferred periods")
        ordering = ["first_day", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(first_day__lte=models.F("last_day")),
                name="meeting_preference_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_day}–{self.last_day} {self.part_of_day}"


class MeetingEventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Meeting requested")
    FORWARDED = "forwarded", _("Forwarded to the minister's office")
    DECLINED = "declined", _("Declined")
    CONVERTED = "converted", _("Turned into a request to the competent entity")
    APPROVED = "approved", _("Approved")
    DELEGATED = "delegated", _("Delegated to another official")
    OFFERED = "offered", _("Dates offered")
    SCHEDULED = "scheduled", _("Meeting scheduled")
    RESCHEDULED = "rescheduled", _("Meeting moved")
    HELD = "held", _("Meeting held")
    NO_SHOW = "no_show", _("Meeting missed")
    CANCELLED = "cancelled", _("Cancelled")
    WITHDRAWN = "withdrawn", _("Withdrawn by the beneficiary")
    OUTCOME_RECORDED = "outcome_recorded", _("Meeting record written")
    ACTION_ADDED = "action_added", _("Follow-up action added")
    ACTION_REQUEST_OPENED = "action_request_opened", _("Follow-up request opened")
    STEP_OVERDUE = "step_overdue", _("Step overdue")
    NOTE_ADDED = "note_added", _("Internal note")


class MeetingEvent(TimelineEvent):
    """One entry of a meeting request's timeline and audit log; never changed or deleted."""

    meeting = models.ForeignKey(MeetingRequest, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=24, choices=MeetingEventKind.choices)
    from_status = models.CharField(max_length=12, choices=MeetingStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=MeetingStatus.choices, blank=True)

    class Meta:
        verbose_name = _("meeting event")
        verbose_name_plural = _("meeting events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["meeting", "created_at"], name="meeting_event_meeting")]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.kind}"


class MeetingSlot(models.Model):
    """A time a host can receive `capacity` beneficiaries, in a place or by video."""

    host = models.ForeignKey(
        MeetingHost, on_delete=models.PROTECT, related_name="slots", verbose_name=_("host")
    )
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=1)
    place = models.CharField(_("place"), max_length=200, blank=True)
    video_link = models.URLField(_("video link"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("availability slot")
        verbose_name_plural = _("availability slots")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["host", "starts_at"], name="meeting_slot_host")]
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="slot_capacity_1"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1), name="slot_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.host_id} {self.starts_at:%Y-%m-%d %H:%M}"


class MeetingBooking(models.Model):
    """A meeting's seat in a slot. Seats are numbered 0 … capacity-1; a seat holds one
    active booking (unique constraint), and a meeting holds one active booking."""

    slot = models.ForeignKey(MeetingSlot, on_delete=models.PROTECT, related_name="bookings")
    seat = models.PositiveSmallIntegerField(_("seat"))
    meeting = models.ForeignKey(MeetingRequest, on_delete=models.PROTECT, related_name="bookings")
    booked_by_beneficiary = models.BooleanField(default=False)
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "seat"],
                condition=models.Q(released_at__isnull=True),
                name="booking_one_per_seat",
            ),
            models.UniqueConstraint(
                fields=["meeting"],
                condition=models.Q(released_at__isnull=True),
                name="booking_one_per_meeting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} @ {self.slot_id}#{self.seat}"


class MeetingOffer(models.Model):
    """A slot offered to the beneficiary to pick (one round of offers is active at a time)."""

    meeting = models.ForeignKey(MeetingRequest, on_delete=models.CASCADE, related_name="offers")
    slot = models.ForeignKey(MeetingSlot, on_delete=models.CASCADE, related_name="offers")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("offered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("offered slot")
        verbose_name_plural = _("offered slots")
        ordering = ["slot__starts_at", "id"]

    def __str__(self) -> str:
        return f"{self.meeting_id} ? {self.slot_id}"


class MeetingReminder(models.Model):
    """A reminder due before a booked meeting; `sent_at` is claimed by a conditional UPDATE."""

    booking = models.ForeignKey(MeetingBooking, on_delete=models.CASCADE, related_name="reminders")
    minutes_before = models.PositiveIntegerField(_("minutes before"))
    due_at = models.DateTimeField(_("due at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "minutes_before"], name="reminder_one_per_offset"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at", "id"],
                name="reminder_unsent_due",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.booking_id} -{self.minutes_before}m"


class MeetingOutcome(models.Model):
    """A short record of a held meeting."""

    meeting = models.OneToOneField(MeetingRequest, on_delete=models.PROTECT, related_name="outcome")
    summary = models.TextField(_("record of the meeting"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("meeting record")
        verbose_name_plural = _("meeting records")

    def __str__(self) -> str:
        return str(self.meeting_id)


class MeetingAction(models.Model):
    """A follow-up action decided in a meeting, for an entity; it may open a request."""

    meeting = models.ForeignKey(MeetingRequest, on_delete=models.PROTECT, related_name="actions")
    description = models.TextField(_("action"))
    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="meeting_actions", verbose_name=_("entity")
    )
    request = models.OneToOneField(
        "cases.Request",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meeting_action",
        verbose_name=_("request opened"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.description[:40]}"
