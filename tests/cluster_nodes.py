"""Several app nodes behind a real reverse proxy, on loopback: the pieces a multi-node test needs.

Production runs the app as more than one gunicorn behind a reverse proxy that terminates TLS,
with PostgreSQL (and Redis) shared by the nodes. A single in-process test client can't show what
breaks only there: a request that lands on another node than the one before it, a node that dies
with requests in flight, the client's address as the proxy forwards it. This module starts the
real thing, each piece as its own process on a free loopback port, so that tests
(tests/test_two_nodes.py) and benchmarks (bench/load.py) share one way of doing it:

- `start_redis(workdir)`: a `redis-server` of its own, without persistence;
- `start_node(name, env, workdir)`: gunicorn serving `ztl:create_app()` from the repository, in a
  process group of its own, so that `stop(kill=True)` kills the master and its workers together,
  as a crashed machine would lose them;
- `start_proxy(workdir, upstreams, routes, default, tls=None, port=None)`: Debian's nginx in the
  foreground, its configuration, pid, logs and temporary files all inside `workdir`; with `tls`
  (`make_certificate(workdir)`: a test CA and a loopback certificate) it terminates HTTPS, as the
  production proxy does (production's secure cookies and the pagoPA notifications need it);
- `postgres_database()`: a PostgreSQL database created empty for one test and dropped after.

`nginx_binary()` and `redis_binary()` say whether the programs are installed (None when not:
tests skip, printing what to install; CI installs both, see .ci/run).
"""

from __future__ import annotations

import contextlib
import grp
import http.client
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import _psycopg_url, postgres_base_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NGINX_MISSING = "nginx is not installed (apt-get install nginx; .ci/run installs it)"
REDIS_MISSING = "redis-server is not installed (apt-get install redis-server; .ci/run installs it)"
# The app's largest accepted request body is ZTL_MAX_UPLOAD_BYTES (10 MiB by default): the proxy
# must let at least that through, so that the app itself answers a larger one (its own 413 page).
CLIENT_MAX_BODY = "32m"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _program(name: str, *fallbacks: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((path for path in fallbacks if os.access(path, os.X_OK)), None)


def nginx_binary() -> str | None:
    """Debian's nginx (`/usr/sbin/nginx` is often off a normal user's PATH), or None."""
    return _program("nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx")


def redis_binary() -> str | None:
    return _program("redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server")


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _wait_until_serving(
    process: subprocess.Popen[bytes], port: int, log: Path, what: str, seconds: float
) -> None:
    """Until `port` accepts connections; a process that exits first fails with its log's end."""
    deadline = time.monotonic() + seconds
    while not _accepts(port):
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            _stop_group(process, kill=True)
            raise RuntimeError(f"{what} did not accept connections on port {port} in {seconds} s")
        time.sleep(0.1)


def _stop_group(process: subprocess.Popen[bytes], kill: bool, seconds: float = 30) -> None:
    """SIGTERM the leader and wait (a graceful stop); when it does not end in time, or with
    `kill`, SIGKILL its whole group (the leader's pid: start_new_session), children included."""
    if process.poll() is None and not kill:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(seconds)
            return
    # Only while the leader is not reaped is its pid, the group's id, certainly still ours.
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(seconds)
        # Dying takes the kernel a few milliseconds per process (closing its sockets among
        # them): return once no member of the group is left running, workers included.
        deadline = time.monotonic() + min(seconds, 10)
        while _group_running(process.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(seconds)


def _group_running(group: int) -> bool:
    """Whether a process of the group is still there and not a zombie (Linux's /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == group and fields[0] not in ("Z", "X"):
            return True
    return False


# --- Redis ---------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A `redis-server` of its own on loopback, nothing written to disk."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        _stop_group(self.process, kill=False, seconds=10)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(workdir: Path) -> RedisServer:
    """`redis-server` on a free loopback port, without persistence, answering PING."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError(REDIS_MISSING)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--logfile", str(log), "--daemonize", "no",
         "--protected-mode", "yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    _wait_until_serving(process, port, log, "redis-server", 20)
    deadline = time.monotonic() + 10
    while not _redis_ping(port):
        if time.monotonic() > deadline:
            _stop_group(process, kill=True)
            raise RuntimeError("redis-server accepts connections but does not answer PING")
        time.sleep(0.1)
    return RedisServer(process, port)


# --- app nodes -----------------------------------------------------------------------------------


@dataclass
class Node:
    """One gunicorn (a master and its workers, one process group) serving the app."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (gunicorn finishes the requests it holds, then exits) and wait; with `kill`,
        SIGKILL of the master and every worker at once, as a crashed machine loses them."""
        _stop_group(self.process, kill=kill)

    def requests_logged(self, path_prefix: str) -> list[str]:
        """The access log's lines (gunicorn's `"METHOD PATH HTTP/1.1" STATUS`) of requests this
        node answered whose path starts with `path_prefix`."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        pattern = re.compile(r'"[A-Z]+ ' + re.escape(path_prefix) + r'[^"]*" \d{3}')
        return [line for line in text.splitlines() if pattern.search(line)]


def start_node(
    name: str, env: dict[str, str], workdir: Path, workers: int = 2, threads: int = 4
) -> Node:
    """gunicorn serving `ztl:create_app()` (the venv's gunicorn, --chdir the repository) on a free
    loopback port with `env` as its whole environment, once it accepts connections. Its access
    and error logs go to workdir/NAME.log.

    Set ZTL_TRUSTED_PROXIES=1 in `env` when it serves behind `start_proxy`, so that the app sees
    the client's address and scheme rather than the proxy's."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--threads", str(threads), "--chdir", str(ROOT), "--timeout", "60",
             "--graceful-timeout", "20", "--access-logfile", "-", "--error-logfile", "-",
             "--access-logformat", f'{name} %(h)s "%(r)s" %(s)s %(B)s %(L)ss', "ztl:create_app()"],
            env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    _wait_until_serving(process, port, log, f"gunicorn {name}", 90)
    _wait_for_an_answer(process, port, log, f"gunicorn {name}", 90)
    return Node(name, process, port, log)


def _wait_for_an_answer(
    process: subprocess.Popen[bytes], port: int, log: Path, what: str, seconds: float
) -> None:
    """Until a worker answers (the master accepts connections before any worker has built the
    app; a worker that can't build it makes the master exit, which fails here with the log)."""
    deadline = time.monotonic() + seconds
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/favicon.ico")
            connection.getresponse().read()
            return
        except (OSError, http.client.HTTPException):
            if process.poll() is not None or time.monotonic() > deadline:
                _stop_group(process, kill=True)
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{what} never answered a request:\n{tail}") from None
            time.sleep(0.2)
        finally:
            connection.close()


# --- TLS -----------------------------------------------------------------------------------------


@dataclass
class Certificate:
    """A test CA and a server certificate it signed for 127.0.0.1 and localhost (PEM files).
    Clients trust `ca` (requests: verify=ca, or REQUESTS_CA_BUNDLE for a process)."""

    ca: Path
    cert: Path
    key: Path


def make_certificate(workdir: Path) -> Certificate:
    """A CA of its own and a loopback server certificate, valid for a day; the key mode 0600."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    workdir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ZTL test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Certificate(workdir / "test-ca.pem", workdir / "server.pem", workdir / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths.key.touch(mode=0o600)
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# --- the reverse proxy ---------------------------------------------------------------------------


@dataclass
class Proxy:
    """nginx in the foreground, in front of the nodes."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    config: Path = field(repr=False)
    https: bool = False

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.workdir / "nginx-access.log"

    @property
    def error_log(self) -> Path:
        return self.workdir / "nginx-error.log"

    def stop(self) -> None:
        """SIGQUIT: nginx's graceful stop (SIGTERM is its fast one); its group killed after."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
        _stop_group(self.process, kill=True, seconds=10)


def _upstream_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"an upstream name must be a plain word: {name!r}")
    return name


def proxy_config(
    workdir: Path,
    port: int,
    upstreams: dict[str, list[int]],
    routes: dict[str, str],
    default: str,
    tls: Certificate | None = None,
) -> str:
    """nginx's configuration: one upstream block per name, one location per route, `/` to
    `default`. A server that refuses a connection or times out is left for 10 s after one
    failure and the request goes to the next one; a request that reached a node is never sent
    again (nginx does not resend a POST that was sent, nor anything once a node began to answer:
    only `error timeout` are retried), so a write is never applied twice by the proxy."""
    for name in [*routes.values(), default]:
        if name not in upstreams:
            raise ValueError(f"no upstream named {name!r}")
    temp = workdir / "nginx-temp"
    lines = [
        "daemon off;",
        "master_process on;",
        "worker_processes 2;",
        f"pid {workdir / 'nginx.pid'};",
        f"error_log {workdir / 'nginx-error.log'} notice;",
    ]
    if os.geteuid() == 0:
        # As root, nginx's workers would switch to an unprivileged user that can't read this
        # folder (pytest's are 0700): they stay the user who started it.
        user = pwd.getpwuid(os.geteuid()).pw_name
        lines.insert(0, f"user {user} {grp.getgrgid(os.getegid()).gr_name};")
    lines += [
        "events { worker_connections 1024; }",
        "http {",
        '    log_format nodes \'$remote_addr "$request" $status upstream=$upstream_addr '
        "upstream_status=$upstream_status time=$request_time';",
        f"    access_log {workdir / 'nginx-access.log'} nodes;",
        f"    client_body_temp_path {temp / 'client_body'};",
        f"    proxy_temp_path {temp / 'proxy'};",
        f"    fastcgi_temp_path {temp / 'fastcgi'};",
        f"    uwsgi_temp_path {temp / 'uwsgi'};",
        f"    scgi_temp_path {temp / 'scgi'};",
        f"    client_max_body_size {CLIENT_MAX_BODY};",
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',  # keepalive to the nodes
        "    proxy_set_header Host $http_host;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    proxy_set_header X-Forwarded-Host $http_host;",
        "    proxy_next_upstream error timeout;",
        "    proxy_connect_timeout 1s;",
        "    proxy_read_timeout 60s;",
        "    proxy_send_timeout 60s;",
    ]
    for name, ports in upstreams.items():
        lines.append(f"    upstream {_upstream_name(name)} {{")
        lines += [f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports]
        lines += ["        keepalive 32;", "    }"]
    lines += ["    server {", "        server_name _;"]
    if tls is None:
        lines.append(f"        listen 127.0.0.1:{port};")
    else:  # the proxy terminates TLS, as in production: X-Forwarded-Proto says https
        lines += [
            f"        listen 127.0.0.1:{port} ssl;",
            f"        ssl_certificate {tls.cert};",
            f"        ssl_certificate_key {tls.key};",
        ]
    for prefix, name in routes.items():
        if not prefix.startswith("/") or any(c in prefix for c in " ;{}\"'"):
            raise ValueError(f"a route is a plain path prefix: {prefix!r}")
        lines.append(f"        location {prefix} {{ proxy_pass http://{name}; }}")
    if "/" not in routes:
        lines.append(f"        location / {{ proxy_pass http://{default}; }}")
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"


def start_proxy(
    workdir: Path,
    upstreams: dict[str, list[int]],
    routes: dict[str, str],
    default: str,
    tls: Certificate | None = None,
    port: int | None = None,
) -> Proxy:
    """nginx on a free loopback port, in front of `upstreams` (name: the nodes' ports), `routes`
    (a location prefix such as "/api/": an upstream name) and `default` for everything else;
    checked with `nginx -t` first, then started as a foreground process of its own. With `tls`
    (make_certificate) it answers HTTPS only, and `url` is https://. `port`: a port chosen
    beforehand (when its address must be known earlier, e.g. registered with an identity
    provider as the callback's), else a free one."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError(NGINX_MISSING)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "nginx-temp").mkdir(exist_ok=True)
    port = port or free_port()
    config = workdir / "nginx.conf"
    config.write_text(proxy_config(workdir, port, upstreams, routes, default, tls))
    # -e: the error log before the configuration is read (the compiled-in /var/log/nginx may not
    # be writable); -p: relative paths (none here) resolve inside workdir.
    command = [
        binary,
        "-p",
        str(workdir),
        "-c",
        str(config),
        "-e",
        str(workdir / "nginx-error.log"),
    ]
    checked = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        raise RuntimeError(
            f"nginx refused its configuration:\n{checked.stderr}\n{config.read_text()}"
        )
    log = workdir / "nginx-error.log"
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    _wait_until_serving(process, port, log, "nginx", 20)
    return Proxy(process, port, workdir, config, tls is not None)


# --- PostgreSQL ----------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(prefix: str = "ztl_nodes", base: str | None = None) -> Iterator[str]:
    """A PostgreSQL database created empty for one test (on the server of ZTL_TEST_POSTGRES_URL,
    or `base`) and dropped after, however the test ended; its URL. Nodes are separate processes,
    so a database of its own (not the test session's schema) is what they can all open, and
    dropping it WITH (FORCE) ends any connection a killed node left behind."""
    base = base or postgres_base_url()
    if base is None:
        raise RuntimeError("no PostgreSQL server: set ZTL_TEST_POSTGRES_URL")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = sa.create_engine(_psycopg_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", base, count=1)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
