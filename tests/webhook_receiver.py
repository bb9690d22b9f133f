"""A real HTTP receiver for outbound webhooks: ``http.server`` in a thread of the test.

It records every request (headers and body) and answers what the test scripts:
a status per request in turn (then 200), or a pause longer than the sender's
timeout (``slow``), released when the receiver stops.
"""

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    statuses: deque = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    slow: bool = False
    released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def bodies(self) -> list[dict]:
        return [request.json for request in self.received]


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if receiver.slow:
                receiver.released.wait(30)
            receiver.received.append(Received(dict(self.headers.items()), body))
            status = receiver.statuses.popleft() if receiver.statuses else 200
            answer = b'{"ok": true}' if status < 300 else b"receiver says no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    receiver.released.set()
    receiver.server.shutdown()
    receiver.server.server_close()
