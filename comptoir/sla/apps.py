from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "comptoir.sla"
    label = "sla"
    verbose_name = "SLAs"

    def ready(self) -> None:
        # The router weighs conversations at risk first and offers a team's queue only
        # while the team works (routing.hooks: the router does not import this app).
        from comptoir.routing import hooks
        from comptoir.sla.risk import conversations_at_risk_among, team_is_open_now

        hooks.install_sla_risk(conversations_at_risk_among)
        hooks.install_team_open(team_is_open_now)
