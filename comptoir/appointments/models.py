"""In-person service: locations, services, who serves there, bookings and devices.

A location's opening hours and holidays are an SLA business calendar
(``sla.models.BusinessCalendar``): one calendar model for the whole product,
so the shop's holidays are entered once. A service says how long it takes, how
many customers a slot takes at most and which routing skills serve it. A
booking (``Appointment``) is one customer's place in one slot, or a walk-in's
ticket; its state moves only through ``appointments.actions``. Devices are
known by serial number (unique per brand) and carry their service history: the
appointments that name them.
"""

from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Conversation, Message
from comptoir.customers.models import Customer
from comptoir.routing.models import Skill
from comptoir.sla.models import BusinessCalendar
from comptoir.tenancy.models import Brand, Membership


class Location(models.Model):
    """A shop or service desk: where customers come, when it is open (its calendar)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"), blank=True)
    # Opening hours, holidays and the time zone: the SLA calendar model, reused.
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="locations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="location_brand_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """What a customer can book: a diagnosis, a screen repair…"""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="services")
    name_fr = models.CharField(_("name (French)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=30)
    # Customers served at once in one slot (at most: also bounded by the skilled staff).
    capacity = models.PositiveSmallIntegerField(_("places per slot"), default=1)
    skills = models.ManyToManyField(Skill, blank=True, related_name="services")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (French, or English otherwise)."""
        return self.name_fr if translation.get_language() == "fr" else self.name_en


class Resource(models.Model):
    """An agent who serves customers at a location (with their routing skills)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="resources")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    desk = models.CharField(_("desk"), max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "membership"], name="resource_location_member_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership} @ {self.location}"


class WorkingHours(models.Model):
    """When a staff member works at their location, one interval of one weekday (local time).

    A staff member without any is at work whenever the location is open; with
    some, only in them (a shift is wall-clock time: 09:00 stays 09:00 across a
    daylight-saving change). They never widen the location's opening hours.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0: Monday … 6: Sunday
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))  # 00:00: until midnight

    class Meta:
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday"
            )
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.starts:%H:%M}-{self.ends:%H:%M}"


class Absence(models.Model):
    """A staff member away (holiday, training): no slot counts on them meanwhile."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"


class Device(models.Model):
    """A customer's device, known by its serial number; its history is its appointments."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="devices")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="devices"
    )
    serial_number = models.CharField(_("serial number"), max_length=64)
    maker = models.CharField(_("brand"), max_length=80, blank=True)
    model = models.CharField(_("model"), max_length=120, blank=True)
    purchased_on = models.DateField(_("purchase date"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty end"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "serial_number"], name="device_brand_serial_unique"
            )
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.maker, self.model, self.serial_number) if part)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Waiting")
    CALLED = "called", _("Called")
    # Set aside during their visit (waiting for a part, a test): back in line later.
    PARKED = "parked", _("On hold")
    SERVED = "served", _("Served")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Still holding its place in its slot.
HOLDING_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.CALLED,
    AppointmentStatus.PARKED,
    AppointmentStatus.SERVED,
)
# In the waiting room (checked in, not yet served).
WAITING_STATUSES = (AppointmentStatus.CHECKED_IN, AppointmentStatus.CALLED)


class Outcome(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    REPLACED = "replaced", _("Replaced")
    SENT_TO_REPAIR = "repair", _("Sent to repair")
    OBSERVATION = "observation", _("Kept under observation")
    ADVICE = "advice", _("Advice given")


class Appointment(models.Model):
    """One customer's booking in a slot, or a walk-in's ticket in the waiting room."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    # Empty for a walk-in who only gave a first name.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="appointments"
    )
    # The conversation whose timeline shows the booking (the customer's latest).
    conversation = models.ForeignKey(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    problem = models.TextField(_("problem"), blank=True)
    # The customer's request, when they booked by writing (the widget): its photos and
    # videos of the device (``conversations.attachment_policy`` checked them) are the
    # booking's, shown to staff on the device's page.
    request_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The only name the lobby screen shows.
    first_name = models.CharField(_("first name"), max_length=60, blank=True)
    reference = models.CharField(max_length=12)
    walk_in = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    # The slot (a walk-in: when they arrived, for its whole service duration).
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Waiting room: the ticket number of the day, the place in the queue (see actions).
    ticket = models.PositiveIntegerField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    served_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    desk = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "reference"], name="appointment_brand_reference_unique"
            )
        ]
        indexes = [
            models.Index(fields=["location", "starts_at"], name="appointment_location_start"),
            models.Index(
                fields=["location", "queued_at"],
                condition=Q(status__in=["checked_in", "called"]),
                name="appointment_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def lobby_name(self) -> str:
        """What the lobby screen may show: the first name, else the ticket number."""
        return self.first_name or f"#{self.ticket or ''}"
