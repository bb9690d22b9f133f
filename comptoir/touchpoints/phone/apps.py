from django.apps import AppConfig


class PhoneConfig(AppConfig):
    name = "comptoir.touchpoints.phone"
    label = "phone"
    verbose_name = "Phone"
