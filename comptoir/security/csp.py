"""Content-Security-Policy on console pages (django-csp), not on the widget or the demo.

The console shows customers' texts, names and files: should an escaping bug ever let
markup through, the policy keeps it from running scripts, loading from elsewhere or
being framed. The widget's endpoints answer scripts running on brands' own sites and
carry no page of ours, so the policy is limited to ``/console/``.
"""

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponseBase

CONSOLE_PREFIX = "/console/"


class ConsoleCSPMiddleware(CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not request.path_info.startswith(CONSOLE_PREFIX):
            return response
        return super().process_response(request, response)
