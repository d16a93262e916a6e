#!/usr/bin/env python3
"""Runs the image's two scripts as the container would, and checks what they do.

- docker/entrypoint.sh: NAME_FILE sets NAME from the file (trailing newline dropped) and
  is not passed on; a NAME already set wins; an unreadable NAME_FILE stops with 64; an
  empty OTEL_EXPORTER_OTLP_ENDPOINT is removed.
- docker/healthcheck.sh: exits 0 on a 200 from /healthz on CINDER_ADMIN_LISTEN's port,
  else CINDER_LISTEN's; non-zero on a 503 (`/readyz` while draining) and on a closed port.
  The server is a real one on 127.0.0.1:0.

usage: check_image_scripts.py DEPLOY_DIR
"""

import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading

failures = []


def check(name, condition, detail=""):
    print(f"  {'ok  ' if condition else 'FAIL'} {name}{': ' + detail if detail and not condition else ''}")
    if not condition:
        failures.append(name)


def entrypoint(script, env, command):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run(["sh", script, *command], env={**base, **env}, capture_output=True, text=True, timeout=10)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response({"/healthz": 200, "/readyz": 503}.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    deploy = sys.argv[1]
    ep = os.path.join(deploy, "docker", "entrypoint.sh")
    hc = os.path.join(deploy, "docker", "healthcheck.sh")
    show = ["sh", "-c", 'printf "%s|%s|%s" "$CINDER_SECRET" "${CINDER_SECRET_FILE-unset}" "${OTEL_EXPORTER_OTLP_ENDPOINT-unset}"']

    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("a-secret-of-the-right-length-0123456789\n")
        secret_file = f.name
    try:
        out = entrypoint(ep, {"CINDER_SECRET_FILE": secret_file, "OTEL_EXPORTER_OTLP_ENDPOINT": ""}, show)
        check(
            "entrypoint: CINDER_SECRET_FILE sets CINDER_SECRET, is not passed on; empty OTEL endpoint removed",
            out.returncode == 0 and out.stdout == "a-secret-of-the-right-length-0123456789|unset|unset",
            repr(out.stdout + out.stderr),
        )
        out = entrypoint(ep, {"CINDER_SECRET": "given", "CINDER_SECRET_FILE": secret_file}, show)
        check("entrypoint: a variable already set wins", out.stdout.startswith("given|"), repr(out.stdout))
        out = entrypoint(ep, {"CINDER_API_TOKEN_FILE": secret_file + ".missing"}, ["true"])
        check("entrypoint: an unreadable NAME_FILE stops with 64", out.returncode == 64, f"exit {out.returncode}")
    finally:
        os.unlink(secret_file)

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]  # bound, never listening: connections are refused

    def probe(env, *args):
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        return subprocess.run(["bash", hc, *args], env={**base, **env}, capture_output=True, timeout=10).returncode

    check("healthcheck: 200 on CINDER_LISTEN's port", probe({"CINDER_LISTEN": f"0.0.0.0:{port}"}) == 0)
    check(
        "healthcheck: CINDER_ADMIN_LISTEN's port wins (a view-node)",
        probe({"CINDER_ADMIN_LISTEN": f"0.0.0.0:{port}", "CINDER_LISTEN": f"0.0.0.0:{closed_port}"}) == 0,
    )
    check("healthcheck: /readyz answering 503 fails", probe({"CINDER_LISTEN": f"0.0.0.0:{port}"}, "/readyz") != 0)
    check("healthcheck: a closed port fails", probe({"CINDER_LISTEN": f"0.0.0.0:{closed_port}"}) != 0)
    server.shutdown()
    closed.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
