"""A simulated insurer API of the Allianz Trade kind, on 127.0.0.1 (never a real insurer).

Cover requests answer 202 with a job id; a job stays "processing" for `polls_before_done` polls,
then is "processed" with the configured decision, which is also POSTed to the request's callbackUrl.
`failures` is a queue of forced answers (status, headers, body) served before the normal ones:
5xx and 429 to exercise retries, 4xx to exercise refusals, non-JSON bodies."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeInsurer:
    def __init__(self, *, polls_before_done: int = 2, decision: dict | None = None):
        self.polls_before_done = polls_before_done
        self.decision = decision or {"decision": "APPROVED", "amount": "300000.00", "validUntil": "2026-12-31",
                                     "decidedOn": "2026-02-03", "decisionId": "DEC-1"}
        self.failures: list[tuple[int, dict, bytes]] = []
        self.requests: list[tuple[str, str, dict | None]] = []
        self.jobs: dict[str, dict] = {}
        self.callbacks: list[int] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _callback(self, job_id: str) -> None:
        job = self.jobs[job_id]
        body = json.dumps({"jobId": job_id, "status": "processed", "decision": self.decision}).encode()
        request = urllib.request.Request(job["callback"], data=body, method="POST",  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own loopback server
            self.callbacks.append(response.status)

    def _handler(self):
        insurer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: dict | None = None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _route(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length)) if length else None
                with insurer._lock:
                    insurer.requests.append((method, self.path, payload))
                    if insurer.failures:
                        status, headers, body = insurer.failures.pop(0)
                        return self._send(status, body, headers)
                    if method == "POST" and self.path == "/v1/cover-requests":
                        if not payload or "buyer" not in payload:
                            return self._send(400, b'{"error": "buyer missing"}')
                        job_id = f"job-{len(insurer.jobs) + 1}"
                        insurer.jobs[job_id] = {"polls": 0, "callback": payload.get("callbackUrl")}
                        return self._send(202, json.dumps({"jobId": job_id}).encode())
                    if method == "GET" and self.path.startswith("/v1/jobs/"):
                        job = insurer.jobs.get(self.path.rsplit("/", 1)[1])
                        if job is None:
                            return self._send(404, b'{"error": "unknown job"}')
                        job["polls"] += 1
                        if job["polls"] <= insurer.polls_before_done:
                            return self._send(200, b'{"status": "processing"}')
                        return self._send(200, json.dumps({"status": "processed",
                                                           "decision": insurer.decision}).encode())
                    if method == "POST" and self.path in ("/v1/overdues", "/v1/claims"):
                        kind = "OVD" if self.path.endswith("overdues") else "CLM"
                        return self._send(201, json.dumps({"reference": f"{kind}-{len(insurer.requests)}"}).encode())
                return self._send(404, b'{"error": "no such route"}')

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

        return Handler
