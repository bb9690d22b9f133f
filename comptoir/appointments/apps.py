from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "comptoir.appointments"
    label = "appointments"
    verbose_name = "Appointments"
