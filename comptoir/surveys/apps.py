from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "comptoir.surveys"
    label = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from comptoir.surveys.quick_replies import answer_from_channel
        from comptoir.surveys.texts import QUICK_REPLY_PREFIX
        from comptoir.touchpoints.messaging import quick_replies

        # A tapped score comes back through the messaging webhooks (a lower layer).
        quick_replies.register(QUICK_REPLY_PREFIX, answer_from_channel)
