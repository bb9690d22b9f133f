"""Django admin for platform operators: setting up locations, services and staff (no console page
for them yet; brands' staff book, check in and serve from ``/console/appointments/``)."""

from django.contrib import admin

from comptoir.appointments.models import Appointment, Device, Location, Resource, Service

admin.site.register(Location, list_display=("name", "brand", "calendar"))
admin.site.register(
    Service, list_display=("name_en", "name_fr", "brand", "duration_minutes", "capacity")
)
admin.site.register(Resource, list_display=("membership", "location", "desk"))
admin.site.register(Device, list_display=("serial_number", "maker", "model", "brand", "customer"))
admin.site.register(
    Appointment,
    list_display=("reference", "brand", "location", "service", "starts_at", "status"),
    list_filter=("status",),
)
