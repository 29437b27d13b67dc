#!/usr/bin/env python3
"""Generates the labelled CI-log corpus in ../ci-logs/cases/ by running real failing jobs.

Each scenario (scenarios.py) is a small project plus a job script. The script runs for real on
this machine, under bash with `set -eo pipefail` like a GitLab shell job, in
/builds/<group>/<project> (the docker executor's build dir), with stdout and stderr merged. Its
output is framed as a gitlab-runner trace (frame.py) and labelled from the scenario's label:
category, accepted alternatives, infra_or_flaky, and the decisive lines, found by the
scenario's patterns in the finished trace (1-based logical line numbers, as `LogIndex` counts).

Usage: sudo python3 gen.py [--only NAME ...] [--list]
Needs root for /builds, tmpfs mounts (disk-full cases) and memory cgroups (OOM cases).
"""

import argparse
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import frame  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "ci-logs", "cases"))
TOOLS = os.environ.get("CORPUS_TOOLS", "/tmp/diag13")


# ---------------------------------------------------------------------------------------------
# Loopback servers that misbehave the way remote services do

class _ApiHandler(http.server.BaseHTTPRequestHandler):
    """An API stand-in's plumbing (rounds 16 and 21): nginx's name, the request body read and
    dropped, and an answer with its length; each stand-in writes only its `_answer`."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def _read_body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n:
            self.rfile.read(n)
        elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                self.rfile.read(size + 2)
                if size == 0:
                    break

    def _send(self, status, body, ctype="application/json", reason=None, extra=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":"))
        body = body.encode()
        self.send_response(status, reason)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, *a):
        pass


class Servers:
    def __init__(self):
        self.ports = {}
        # Nothing listens on port 9 (discard) here: connection refused.
        self.ports["dead"] = 9
        self.ports["blackhole"] = self._blackhole()
        for status in (401, 403, 404, 429, 500, 502, 503):
            self.ports[str(status)] = self._status(status)
        # Round 3: an HTTPS server whose certificate is self-signed (no CA in the job trusts it).
        self.ports["tls"] = self._status(200, tls=True)
        # Round 5: a server that accepts a connection and closes it without answering.
        self.ports["closer"] = self._closer()
        # Round 7: a real OpenSSH sshd on loopback (public-key auth only, no user's key is
        # authorized), when sshd is installed.
        if os.path.exists("/usr/sbin/sshd"):
            self.ports["ssh"] = self._sshd()
        # Round 10: an HTTP proxy that wants credentials (407 to every request and CONNECT), a
        # server that resets the connection mid-body, an HTTPS host whose certificate (signed by
        # a CA the job is given in $R10_CA_FILE) has expired, and a server that closes right after
        # the response headers.
        self.ports["proxy407"] = self._proxy407()
        self.ports["reset"] = self._midbody(reset=True)
        self.ports["hdrclose"] = self._midbody(reset=False)
        self.ports["expired"] = self._expired_tls()
        # Round 11: a smart-HTTP git server that advertises its refs, starts sending the pack and
        # then stalls (no more bytes, connection held open).
        self.ports["gitstall"] = self._git_stall()
        # Round 12: an S3-compatible endpoint answering SlowDown (503) or AccessDenied (403) in
        # S3's XML, a Vault-like API answering sealed (503) or permission denied (403) in JSON, a
        # container registry answering 401 or (for manifests) 429 with registry error JSON, an
        # HTTPS host whose certificate (CA in $R12_CA_FILE) is not valid until two days from now
        # (a runner clock behind), and a server that answers HEAD at once but trickles a GET body
        # far slower than any client read timeout.
        self.ports["s3slowdown"] = self._r12_xml(503, "SlowDown", "Please reduce your request rate.")
        self.ports["s3denied"] = self._r12_xml(403, "AccessDenied", "Access Denied")
        self.ports["vault503"] = self._r12_json(503, {"errors": ["Vault is sealed"]})
        self.ports["vault403"] = self._r12_json(403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]})
        self.ports["reg401"] = self._r12_registry(401)
        self.ports["reg429"] = self._r12_registry(429)
        self.ports["notyet"] = self._r12_notyet_tls()
        self.ports["trickle"] = self._r12_trickle()
        # Round 16: one loopback API host that answers by route the way the real services do:
        # GitLab's REST API (a release that already exists: 409; a trigger whose ref does not
        # exist: 400; an unencoded project path: 404; merge request notes rate-limited: 429 with
        # GitLab's RateLimit headers), GitLab's Terraform state API (the state lock held by another
        # pipeline: 409 with the lock's JSON), a PyPI-style upload endpoint (400 File already
        # exists) and an npm registry (403 on publishing over an existing version).
        self.ports["r16api"] = self._r16_api()
        # Round 21: a chat webhook that rejects a malformed payload (400, Slack-style plain-text
        # body `invalid_blocks`) and a backup-catalogue API answering JSON (the list is under
        # `backups`, not under `data.items`).
        self.ports["r21api"] = self._r21_api()

    def _r21_api(self):
        class H(_ApiHandler):
            def _answer(self):
                self._read_body()
                path = self.path.split("?")[0]
                if self.command == "POST" and path.startswith("/services/"):
                    return self._send(400, "invalid_blocks", "text/plain; charset=utf-8")
                if self.command == "GET" and path == "/api/v1/backups":
                    return self._send(200, json.dumps({"backups": [
                        {"id": "bk-20261204-0200", "db": "billing", "size": 48213771, "state": "complete"},
                        {"id": "bk-20261205-0200", "db": "billing", "size": 48377102, "state": "complete"},
                        {"id": "bk-20261206-0200", "db": "billing", "size": 0, "state": "failed"}],
                        "next": None}) + "\n", "application/json")
                return self._send(404, json.dumps({"error": "not found"}) + "\n", "application/json")

            do_GET = do_POST = do_PUT = do_HEAD = _answer

        return self._r12_serve(H)

    def _r16_api(self):
        import re as _re

        class H(_ApiHandler):
            def _answer(self):
                self._read_body()
                path = self.path.split("?")[0]
                m, reset = self.command, int(time.time()) + 60
                if m == "POST" and _re.fullmatch(r"/api/v4/projects/[^/]+/releases", path):
                    return self._send(409, {"message": "Release already exists"})
                if m == "POST" and _re.fullmatch(r"/api/v4/projects/[^/]+/trigger/pipeline", path):
                    return self._send(400, {"message": {"base": ["Reference not found"]}})
                if m == "POST" and _re.fullmatch(r"/api/v4/projects/[^/]+/merge_requests/\d+/notes", path):
                    return self._send(429, "Retry later\n", "text/plain", extra=[
                        ("RateLimit-Name", "throttle_authenticated_api"), ("RateLimit-Limit", "60"),
                        ("RateLimit-Observed", "61"), ("RateLimit-Remaining", "0"),
                        ("RateLimit-Reset", str(reset)),
                        ("RateLimit-ResetTime", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(reset))),
                        ("Retry-After", "60")])
                if _re.fullmatch(r"/api/v4/projects/\d+/terraform/state/[\w-]+", path):
                    if m == "GET":
                        return self._send(404, {"message": "404 Not Found"})
                    return self._send(200, {})
                if _re.fullmatch(r"/api/v4/projects/\d+/terraform/state/[\w-]+/lock", path):
                    return self._send(409, {"ID": "7d3c6a0e-52f1-8b4e-1c9a-6f02d8e4b7a1", "Operation": "OperationTypeApply",
                                            "Info": "", "Who": "root@runner-xk2bq7-project-4121-concurrent-1",
                                            "Version": "1.11.4", "Created": "2026-12-06T15:58:41.372094Z",
                                            "Path": ""})
                if m == "POST" and path.rstrip("/").endswith("/legacy"):
                    return self._send(400, "<html><body><h1>400 Bad Request</h1>File already exists.</body></html>\n",
                                      "text/html", reason="File already exists ('initech_deploy_tools-2.3.0.tar.gz', with "
                                      "blake2_256 hash '0d5b7c4e8a21f6e3b9d07c1a4f58e2b6c3d9a07e1f4b8c2d6e5a39f0b7c1d2e4'). "
                                      "See https://pypi.org/help/#file-name-reuse for more information.")
                if m == "PUT" and path.startswith("/@"):
                    return self._send(403, {"error": "You cannot publish over the previously published versions: 1.4.0."})
                if m == "GET" and path.startswith("/@"):
                    return self._send(404, {"error": "Not found"})
                return self._send(404, {"error": "404 Not Found"})

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

        return self._r12_serve(H)

    def _r12_serve(self, H, ctx=None):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        srv.daemon_threads = True
        if ctx is not None:
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

        def serve():
            while True:
                try:
                    srv.serve_forever()
                except Exception:
                    continue

        threading.Thread(target=serve, daemon=True).start()
        return srv.server_address[1]

    def _r12_xml(self, status, code, message):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                if n:
                    self.rfile.read(n)
                rid = hashlib.sha256(self.path.encode() + str(time.time()).encode()).hexdigest()[:16].upper()
                body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                        f'<Resource>{self.path.split("?")[0]}</Resource><RequestId>{rid}</RequestId></Error>').encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("x-amz-request-id", rid)
                self.send_header("Content-Length", str(len(body) if self.command != "HEAD" else 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _answer

            def log_message(self, *a):
                pass

        return self._r12_serve(H)

    def _r12_json(self, status, payload):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                if n:
                    self.rfile.read(n)
                body = (json.dumps(payload) + "\n").encode()
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = _answer

            def log_message(self, *a):
                pass

        return self._r12_serve(H)

    def _r12_registry(self, status):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, st, payload, extra=()):
                body = (json.dumps(payload) + "\n").encode()
                self.send_response(st)
                self.send_header("Content-Type", "application/json")
                self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
                for k, v in extra:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _answer(self):
                if status == 401:
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]},
                               [("WWW-Authenticate", 'Basic realm="Registry Realm"')])
                elif self.path.rstrip("/") == "/v2":
                    self._send(200, {})
                else:
                    self._send(429, {"errors": [{"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit", "detail": None}]})

            do_GET = do_HEAD = _answer

            def log_message(self, *a):
                pass

        return self._r12_serve(H)

    def _r12_notyet_tls(self):
        import datetime
        import ipaddress
        import ssl
        import tempfile
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        tmp = tempfile.mkdtemp()
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Initech"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "Initech Issuing CA 2")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=700))
              .not_valid_after(now + datetime.timedelta(days=3000))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "git.initech.internal")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now + datetime.timedelta(days=2))
                .not_valid_after(now + datetime.timedelta(days=92))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("git.initech.internal"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        ca_file, cert_file, key_file = (os.path.join(tmp, n) for n in ("ca.pem", "cert.pem", "key.pem"))
        with open(ca_file, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(cert_file, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
        os.chmod(tmp, 0o755)
        self.notyet_ca = ca_file

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *a):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        return self._r12_serve(H, ctx)

    def _r12_trickle(self):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _head(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(64 * 1024 * 1024))
                self.send_header("Last-Modified", "Mon, 30 Nov 2026 22:10:04 GMT")
                self.send_header("ETag", '"5d41402abc4b2a76b9719d911017c592-8"')
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_HEAD(self):
                self._head()

            def do_GET(self):
                self._head()
                try:
                    for _ in range(400):
                        self.wfile.write(b"\0" * 512)
                        self.wfile.flush()
                        time.sleep(9)
                except OSError:
                    pass
                self.close_connection = True

            def log_message(self, *a):
                pass

        return self._r12_serve(H)

    def _git_stall(self):
        import tempfile
        tmp = tempfile.mkdtemp()
        repo = os.path.join(tmp, "platform.git")
        work = os.path.join(tmp, "w")
        genv = dict(os.environ, GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@acme.example",
                    GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@acme.example")
        subprocess.run(["git", "init", "-q", "-b", "main", work], check=True, env=genv)
        with open(os.path.join(work, "assets.bin"), "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        with open(os.path.join(work, "README.md"), "w") as f:
            f.write("# platform\n")
        subprocess.run(["git", "-C", work, "add", "."], check=True, env=genv)
        subprocess.run(["git", "-C", work, "commit", "-q", "-m", "init"], check=True, env=genv)
        subprocess.run(["git", "clone", "-q", "--bare", work, repo], check=True, env=genv)

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                adv = subprocess.run(["git", "upload-pack", "--stateless-rpc", "--advertise-refs", repo],
                                     capture_output=True).stdout
                body = b"001e# service=git-upload-pack\n0000" + adv
                self.send_response(200)
                self.send_header("Content-Type", "application/x-git-upload-pack-advertisement")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                req = self.rfile.read(n)
                if self.headers.get("Content-Encoding") == "gzip":
                    import gzip
                    req = gzip.decompress(req)
                out = subprocess.run(["git", "upload-pack", "--stateless-rpc", repo], input=req,
                                     capture_output=True).stdout
                self.send_response(200)
                self.send_header("Content-Type", "application/x-git-upload-pack-result")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out[: len(out) // 3])
                self.wfile.flush()
                time.sleep(3600)  # the rest never comes

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv.server_address[1]

    def _sshd(self):
        import atexit
        import tempfile
        tmp = tempfile.mkdtemp()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        key = os.path.join(tmp, "host_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", key], check=True)
        open(os.path.join(tmp, "authorized_keys"), "w").close()
        cfg = os.path.join(tmp, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile {tmp}/sshd.pid\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                    f"AuthorizedKeysFile {tmp}/authorized_keys\nUsePAM no\n")
        os.makedirs("/run/sshd", exist_ok=True)
        p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", cfg], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        atexit.register(p.terminate)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        return port

    def _proxy407(self):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                body = b"<html><head><title>407 Proxy Authentication Required</title></head><body><h1>Proxy Authentication Required</h1></body></html>\n"
                self.send_response(407, "Proxy Authentication Required")
                self.send_header("Proxy-Authenticate", 'Basic realm="acme-egress"')
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = do_CONNECT = _answer

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv.server_address[1]

    def _midbody(self, reset):
        """Answers 200 with a 4 MiB Content-Length; sends 96 KiB of the body then resets the
        connection (reset=True), or sends no body at all and closes (reset=False)."""
        import struct
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)

        def serve(c):
            try:
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head = (b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\n"
                        b"Content-Length: 4194304\r\nAccept-Ranges: bytes\r\n\r\n")
                c.sendall(head)
                if reset:
                    c.sendall(bytes(range(256)) * 384)
                    time.sleep(0.3)
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            finally:
                c.close()

        def loop():
            while True:
                c, _ = s.accept()
                threading.Thread(target=serve, args=(c,), daemon=True).start()

        threading.Thread(target=loop, daemon=True).start()
        return s.getsockname()[1]

    def _expired_tls(self):
        import datetime
        import ssl
        import tempfile
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        tmp = tempfile.mkdtemp()
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Corp"),
                             x509.NameAttribute(NameOID.COMMON_NAME, "Acme Internal Root CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1500))
              .not_valid_after(now + datetime.timedelta(days=2000))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gems.northwind.internal")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=400))
                .not_valid_after(now - datetime.timedelta(days=9))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("gems.northwind.internal"),
                                                            x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        ca_file, cert_file, key_file = (os.path.join(tmp, n) for n in ("ca.pem", "cert.pem", "key.pem"))
        with open(ca_file, "wb") as f:
            f.write(ca.public_bytes(serialization.Encoding.PEM))
        with open(cert_file, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
        os.chmod(tmp, 0o755)
        self.expired_ca = ca_file

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, key_file)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

        def serve():
            # A failed handshake (the client rejects the certificate) must not stop the server.
            while True:
                try:
                    srv.serve_forever()
                except Exception:
                    continue

        threading.Thread(target=serve, daemon=True).start()
        return srv.server_address[1]

    def _closer(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)

        def loop():
            while True:
                c, _ = s.accept()
                try:
                    c.recv(65536)  # the request, then no answer at all
                finally:
                    c.close()

        threading.Thread(target=loop, daemon=True).start()
        return s.getsockname()[1]

    def _blackhole(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        held = []

        def loop():
            while True:
                c, _ = s.accept()
                held.append(c)  # accepted, never answered

        threading.Thread(target=loop, daemon=True).start()
        return s.getsockname()[1]

    def _status(self, status, tls=False):
        class H(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                body = {
                    401: b"HTTP Basic: Access denied\n",
                    200: b"ok\n",
                    403: b"403 Forbidden\n",
                    404: b"404 Not Found\n",
                    429: b"Too Many Requests\n",
                    500: b"Internal Server Error\n",
                    502: b"<html><body><h1>502 Bad Gateway</h1></body></html>\n",
                    503: b"<html><body><h1>503 Service Unavailable</h1></body></html>\n",
                }[status]
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="GitLab"')
                if status == 429:
                    self.send_header("Retry-After", "60")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = do_PUT = _answer
            # Round 11: as an HTTP proxy, the same status answers a CONNECT tunnel request.
            do_CONNECT = _answer

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        if tls:
            import ssl
            import tempfile
            tmp = tempfile.mkdtemp()
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=artifacts.acme.internal", "-keyout", key, "-out", cert],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv.server_address[1]

    def env(self):
        e = {f"PORT_{k.upper()}": str(v) for k, v in self.ports.items()}
        if getattr(self, "expired_ca", None):
            e["R10_CA_FILE"] = self.expired_ca
        if getattr(self, "notyet_ca", None):
            e["R12_CA_FILE"] = self.notyet_ca
        return e


# ---------------------------------------------------------------------------------------------
# Running one job

def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def build_script(cmds, env):
    lines = ["set -eo pipefail"]
    for k, v in env.items():
        lines.append(f"export {k}={shq(v)}")
    for c in cmds:
        display, actual = (c, c) if isinstance(c, str) else c
        first = display.strip().split("\n")[0]
        if "\n" in display.strip():
            first += " # collapsed multi-line command"
        lines.append(f"printf '%s\\n' {shq(frame.GREEN + '$ ' + first + frame.R)}")
        lines.append(actual)
    # The runner's generated script goes on after the user's commands, so bash never execs the
    # last one (it reports a killed child as `bash: line N: PID Killed ...`, as in real traces).
    lines.append(":")
    return "\n".join(lines) + "\n"


def run_bash(script, cwd, env, timeout, cgroup, rlimit_as=None):
    # A job starts from the image's environment, not this machine's: only what the job sets.
    full_env = dict(env)

    def pre():
        os.setsid()
        # Round 36: a list of cgroups (a memory and a cpu one); a single path as before.
        for cg in ([cgroup] if isinstance(cgroup, str) else (cgroup or [])):
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        # Round 53: a runner whose containers start with a virtual-memory ulimit (docker
        # `--ulimit` / the runner's `ulimit -v`), not visible in the job script.
        if rlimit_as:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (rlimit_as, rlimit_as))

    p = subprocess.Popen(
        ["bash", "-c", script],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=pre,
    )
    timed_out = False
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(p.pid, 9)
        out, _ = p.communicate()
    return out, p.returncode, timed_out


def output_lines(data):
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def make_cgroup(name, limit):
    path = f"/sys/fs/cgroup/memory/corpus-{name}"
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
        f.write(str(limit))
    return path


# Neutral project names: a case name in the build path (`/builds/acme/py-oom-killed-cgroup`)
# would put the label into every path the tools print.
PROJECTS = ["storefront", "ledger", "api-gateway", "billing", "inventory", "platform", "web-app",
            "docs-site", "payments", "search", "notifier", "auth-service", "catalog", "scheduler",
            "reports", "mobile-backend", "data-pipeline", "checkout", "infra-tools", "analytics"]


def make_cpu_cgroup(name, quota_us, period_us=100000):
    """Round 36: a cgroup-v1 CPU quota (a runner container started with a small --cpus)."""
    path = f"/sys/fs/cgroup/cpu/corpus-{name}"
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "cpu.cfs_period_us"), "w") as f:
        f.write(str(period_us))
    with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
        f.write(str(quota_us))
    return path


def project_of(sc):
    if sc.get("project"):
        return sc["project"]
    h = hashlib.sha256(("project:" + sc["name"]).encode()).digest()
    return "acme/" + PROJECTS[h[0] % len(PROJECTS)]


def run_case(sc, servers):
    name = sc["name"]
    group, proj = project_of(sc).split("/", 1)
    d = f"/builds/{group}/{proj}"
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for rel, content in sc.get("files", {}).items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(p, mode) as f:
            f.write(content)
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": d,
        "CI_JOB_NAME": sc["job"],
        "HOME": "/root",
        "PATH": f"{TOOLS}/venv/bin:{TOOLS}/node/node_modules/.bin:/root/.cargo/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "TERM": "xterm",
        "LANG": "C.UTF-8",
    }
    env.update(servers.env())
    # A shared build machine may ask cargo for fewer jobs; it changes no output.
    if os.environ.get("CARGO_BUILD_JOBS"):
        env["CARGO_BUILD_JOBS"] = os.environ["CARGO_BUILD_JOBS"]
    # Round 10: a scenario's env may name a loopback server (`{PORT_PROXY407}`) or the expired
    # host's CA file (`{R10_CA_FILE}`), as a runner's environment would hold the real address.
    for k, v in sc.get("env", {}).items():
        for sk, sv in servers.env().items():
            v = v.replace("{" + sk + "}", sv)
        env[k] = v
    if sc.get("setup"):
        subprocess.run(["bash", "-c", "set -e\n" + sc["setup"]], cwd=d, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mounted = None
    if sc.get("tmpfs"):
        rel, size = sc["tmpfs"]
        mounted = os.path.join(d, rel)
        os.makedirs(mounted, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mounted], check=True)
    cgroup = make_cgroup(name, sc["memory_limit"]) if sc.get("memory_limit") else None
    cpu_cgroup = make_cpu_cgroup(name, sc["cpu_quota"]) if sc.get("cpu_quota") else None
    try:
        script = build_script(sc["script"], {})
        out, code, timed_out = run_bash(script, d, env, sc.get("job_timeout", 600),
                                        [c for c in (cgroup, cpu_cgroup) if c] if cpu_cgroup else cgroup,
                                        sc.get("rlimit_as"))
        after = None
        if sc.get("after_script") is not None and not timed_out:
            a_out, _, _ = run_bash(build_script(sc["after_script"], {}).replace("set -eo pipefail\n", ""),
                                   d, env, 60, None)
            after = [("01O", line) for line in output_lines(a_out)]
    finally:
        # Round 28: a scenario may stop what its setup started outside the job (a shared
        # database that another session holds a lock on); its output is not part of the trace.
        if sc.get("teardown"):
            subprocess.run(["bash", "-c", sc["teardown"]], cwd=d, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if mounted:
            subprocess.run(["umount", "-l", mounted])
        if cgroup:
            try:
                os.rmdir(cgroup)
            except OSError:
                pass
        if cpu_cgroup:
            try:
                os.rmdir(cpu_cgroup)
            except OSError:
                pass
    return out, code, timed_out, after, d


def frame_case(sc, out, code, timed_out, after, d):
    name = sc["name"]
    seed = int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)
    t = frame.Trace(name, name, 1750000000 + seed * 7, timestamps=sc.get("timestamps", False))
    job = {
        "image": sc["image"],
        "runner_name": sc.get("runner_name", "acme-docker-runner-02"),
        "project_id": 4000 + seed % 900,
        "job_id": 812000000 + seed,
        "dir": d,
        "cache": sc.get("cache"),
        "artifacts": sc.get("artifacts"),
        "services": sc.get("services", []),
        "ref": sc.get("ref", "main"),
    }
    if sc.get("runner"):
        job["runner"] = sc["runner"]
    if sc.get("feature_flags"):
        job["feature_flags"] = sc["feature_flags"]
    frame.prologue(t, job)
    frame.sources(t, job)
    frame.step_script_header(t, job)
    for line in output_lines(out):
        t.out(line)
    t.tick(sc.get("duration", 30))
    if timed_out:
        exit_line = f"ERROR: Job failed: execution took longer than {sc.get('timeout_text', '1h0m0s')} seconds"
        after = None
    elif sc.get("exit_line"):
        exit_line = sc["exit_line"]
    else:
        exit_line = f"ERROR: Job failed: exit code {code}"
    frame.epilogue(t, job, after, exit_line)
    return t.render(), code, job


def label_case(sc, data, code, timed_out=False):
    lines = frame.logical_lines(data)
    lab = sc["label"]
    decisive = []
    missing = []
    for pat in lab["decisive"]:
        rx = frame.re.compile(pat)
        found = False
        for i, raw in enumerate(lines):
            text = frame.plain(raw)
            if text.startswith("$ ") and not lab.get("echo_decisive"):
                continue
            if rx.search(text):
                decisive.append({"line": i + 1, "text": text.strip()[:300]})
                found = True
        if not found:
            missing.append(pat)
    decisive.sort(key=lambda x: x["line"])
    seen = set()
    decisive = [x for x in decisive if not (x["line"] in seen or seen.add(x["line"]))]
    return {
        "case": sc["name"],
        "category": lab["category"],
        "accept": lab.get("accept", []),
        "infra_or_flaky": lab.get("infra", False),
        "decisive": decisive,
        # GitLab's own reason for a job its runner stopped at the time limit ("execution took
        # longer than ..."): job_execution_timeout, never script_failure.
        "failure_reason": lab.get(
            "failure_reason", "job_execution_timeout" if timed_out else "script_failure"),
        "job_name": sc["job"],
        "stage": sc.get("stage", "test"),
        "project": project_of(sc),
        "tool": lab["tool"],
        "source": lab.get("source", "real"),
        "how": lab["how"],
        "exit_code": code,
        "round": sc.get("round", 1),
    }, missing


def main():
    import scenarios

    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    all_sc = scenarios.ALL
    names = [s["name"] for s in all_sc]
    assert len(names) == len(set(names)), "duplicate scenario names"
    if args.list:
        for s in all_sc:
            print(s["name"])
        return
    servers = Servers()
    failed = []
    for sc in all_sc:
        if args.only and sc["name"] not in args.only:
            continue
        started = time.time()
        out, code, timed_out, after, d = run_case(sc, servers)
        data, code, _job = frame_case(sc, out, code, timed_out, after, d)
        label, missing = label_case(sc, data, code, timed_out)
        shutil.rmtree(d, ignore_errors=True)
        case_dir = os.path.join(OUT, sc["name"])
        os.makedirs(case_dir, exist_ok=True)
        with open(os.path.join(case_dir, "trace.log"), "wb") as f:
            f.write(data)
        with open(os.path.join(case_dir, "label.json"), "w") as f:
            json.dump(label, f, indent=2)
            f.write("\n")
        failed_job = code != 0 or timed_out or sc.get("exit_line")
        status = "ok" if not missing and failed_job else "CHECK"
        if missing or not failed_job:
            failed.append(sc["name"])
        print(f"{status:5} {sc['name']:45} exit={code} timeout={timed_out} decisive={len(label['decisive'])}"
              f" missing={len(missing)} {time.time() - started:.1f}s", flush=True)
    if failed:
        print("needs a look:", " ".join(failed))


if __name__ == "__main__":
    main()
