"""Starts a real Mosquitto broker on loopback for the MQTT tests, as a municipality would run it.

Each broker has its own folder: a generated mosquitto.conf (no anonymous clients), a password file
made with mosquitto_passwd and the access list the test hands over (the output of
`ztl transits mqtt-acl`), so the broker itself decides who may publish where. Without Mosquitto
the tests are skipped with the reason (apt-get install mosquitto).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


def mosquitto_missing() -> str | None:
    """Why the broker cannot run here, or None."""
    for program in (MOSQUITTO, MOSQUITTO_PASSWD):
        if not (os.access(program, os.X_OK) or shutil.which(Path(program).name)):
            return f"MQTT tests skipped: {program} not found (apt-get install mosquitto)"
    return None


def _program(path: str) -> str:
    return path if os.access(path, os.X_OK) else str(shutil.which(Path(path).name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ConnectRefused(RuntimeError):
    pass


@dataclass
class Broker:
    """A running broker: its port and the users it knows (name -> password)."""

    port: int
    users: Mapping[str, str]
    folder: Path
    process: subprocess.Popen[bytes]

    host = "127.0.0.1"

    def url(self, user: str) -> str:
        return f"mqtt://{user}:{self.users[user]}@{self.host}:{self.port}"

    def log(self) -> str:
        return (self.folder / "mosquitto.log").read_text(errors="replace")

    def publisher(self, user: str, password: str | None = None) -> mqtt.Client:
        """A connected MQTT 5 client of `user` (its own password unless given), network loop
        running; raises ConnectRefused when the broker turns it away."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{user}-{os.urandom(3).hex()}",
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(user, password if password is not None else self.users[user])
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        answers: list[ReasonCode] = []
        client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(reason)
        client.connect(self.host, self.port)
        client.loop_start()
        deadline = time.monotonic() + 5
        while not answers and time.monotonic() < deadline:
            time.sleep(0.01)
        if not answers or answers[0].is_failure:
            client.loop_stop()
            client.disconnect()
            raise ConnectRefused(str(answers[0]) if answers else "no answer")
        return client


def _config(folder: Path, port: int) -> str:
    return "\n".join(
        [
            f"listener {port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {folder / 'passwd'}",
            f"acl_file {folder / 'acl'}",
            # Started as root, Mosquitto would become the `mosquitto` user, who cannot read the
            # test's folder: stay whoever we are (ignored when not root).
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            "persistence false",
            # A subscriber that is away may come back to many messages (the default is 1000).
            "max_queued_messages 100000",
            f"log_dest file {folder / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "",
        ]
    )


@contextmanager
def run_broker(folder: Path, users: Mapping[str, str], acl: str) -> Iterator[Broker]:
    """A broker for `users` under `acl`, stopped (with its sessions) on leaving."""
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    passwd.write_text("")
    for user, password in users.items():
        subprocess.run(
            [_program(MOSQUITTO_PASSWD), "-b", str(passwd), user, password],
            check=True,
            capture_output=True,
            timeout=30,
        )
    (folder / "acl").write_text(acl + "\n")
    port = free_port()
    (folder / "mosquitto.conf").write_text(_config(folder, port))
    process = subprocess.Popen(
        [_program(MOSQUITTO), "-c", str(folder / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    broker = Broker(port, dict(users), folder, process)
    try:
        _wait_listening(broker)
        yield broker
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


def _wait_listening(broker: Broker) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if broker.process.poll() is not None:
            stderr = broker.process.stderr.read().decode() if broker.process.stderr else ""
            raise RuntimeError(f"mosquitto stopped at start:\n{stderr}\n{broker.log()}")
        with socket.socket() as s:
            if s.connect_ex((broker.host, broker.port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"mosquitto did not listen on {broker.port}:\n{broker.log()}")
