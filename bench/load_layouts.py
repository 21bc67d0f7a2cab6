"""The two ways bench/load.py serves the app, the table that compares them, and where the CPU went.

"one node": one web gunicorn and the API's own gunicorn behind nginx, which routes /api/ to the
latter. "two nodes": two web gunicorns (A and B, nginx round robin), an API gunicorn as in the
first, a Redis of their own for what the nodes share besides PostgreSQL (ZTL_REDIS_URL: rate
limits, change notices, the job queue; an app that does not know the setting yet ignores it) and,
when the app has it, a `ztl jobs worker` for that queue. The pieces are started by
tests/cluster_nodes.py, the module the multi-node tests use, so that the bench measures the same
arrangement the tests check.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

# Plate checks must keep their 99th percentile under this in every layout (issue 20).
POLICE_P99_TARGET_MS = 20.0
POLICE_KIND = "police plate check"


@dataclass(frozen=True)
class Layout:
    """How many gunicorns serve the web pages and how many workers each has; the API always has
    a gunicorn of its own (nginx routes /api/ to it), so a slow page never holds a plate check."""

    name: str
    web_nodes: int
    web_workers: int  # per web node
    api_workers: int
    redis: bool
    web_threads: int = 1  # per worker; 1 is gunicorn's sync worker
    api_threads: int = 4
    pagopa_on_web: bool = False  # /api/v1/pagopa/ to the web nodes, the rest of /api/ to the API

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-")

    def describe(self) -> str:
        web = (
            f"web {_workers(self.web_workers, self.web_threads)}"
            if self.web_nodes == 1
            else f"web {self.web_nodes} nodes x {_workers(self.web_workers, self.web_threads)}"
        )
        api = f"api {_workers(self.api_workers, self.api_threads)}"
        pagopa = " (pagoPA notifications to the web)" if self.pagopa_on_web else ""
        return f"{web} + {api}{pagopa}, nginx{' + Redis' if self.redis else ''}"


def _workers(count: int, threads: int) -> str:
    kind = f"{threads} threads" if threads > 1 else "sync"
    return f"{count} worker{'s' if count > 1 else ''} ({kind})"


def layouts(
    web_workers: int,
    node_workers: int,
    api_workers: int,
    web_threads: int,
    api_threads: int,
    pagopa_on_web: bool = False,
    shared_redis: bool = True,
) -> dict[str, Layout]:
    """Both layouts, by the name --layout takes.

    The web side has the same number of worker processes in both by default (2, then 1 + 1): on
    a 2-core machine the number of processes competing for the cores decides the throughput, so
    equal counts make the ratio the cost of spreading the load over two nodes (nginx's round
    robin across two gunicorn masters, each node's caches and enforcement index warmed on its
    own, Redis between them), not that of more processes. Two nodes of 2 workers each would
    measure 6 processes on 2 cores against 4. The API's workers are the same in both.

    The API's workers have threads (4, as `make run` serves) where the pages have sync workers:
    the API gunicorn answers the plate checks (a millisecond or two) and the pagoPA notifications
    (tens of milliseconds, a hundred or more when one issues a permit and seals it); a sync
    worker holding a notification makes a plate check that came to it wait for the whole of it,
    a thread lets the check in at once."""
    one = Layout(
        "one node",
        web_nodes=1,
        web_workers=web_workers,
        api_workers=api_workers,
        redis=False,
        web_threads=web_threads,
        api_threads=api_threads,
        pagopa_on_web=pagopa_on_web,
    )
    two = replace(one, name="two nodes", web_nodes=2, web_workers=node_workers, redis=shared_redis)
    return {"one": one, "two": two}


@dataclass
class Serving:
    """A layout up and running: the proxy's URL for the clients, and its processes to check."""

    layout: Layout
    port: int
    url: str
    nodes: list = field(default_factory=list)  # tests.cluster_nodes.Node
    redis_url: str | None = None
    jobs_worker: bool = False  # `ztl jobs worker` ran beside the nodes
    access_log: Path | None = None  # nginx's, one line per request with the node's status

    def dead_nodes(self) -> list[str]:
        """The nodes whose gunicorn exited during the run (a node must survive the load)."""
        return [node.name for node in self.nodes if not node.alive()]


@contextlib.contextmanager
def serve(
    layout: Layout, env: dict[str, str], workdir: Path, web_nice: int = 0
) -> Iterator[Serving]:
    """The layout's Redis (when it has one), nodes and nginx, stopped in the reverse order
    whatever happens; the nodes' logs stay in workdir/<layout> until the bench's folder goes.

    `web_nice` lowers the web nodes' CPU priority (their whole process group: master and
    workers), as a machine that hosts both would give the plate checks the cores first."""
    from tests.cluster_nodes import start_node, start_proxy, start_redis

    folder = workdir / layout.slug
    with contextlib.ExitStack() as stack:
        node_env = {**env, "ZTL_TRUSTED_PROXIES": "1"}  # the app sees the client through nginx
        redis_url = None
        if layout.redis:
            redis = start_redis(folder / "redis")
            stack.callback(redis.stop)
            redis_url = node_env["ZTL_REDIS_URL"] = redis.url
        else:
            node_env.pop("ZTL_REDIS_URL", None)  # one node shares nothing: no Redis
        nodes = []
        for letter in "ABCDEFGH"[: layout.web_nodes]:
            node = start_node(
                f"web-{letter}", node_env, folder, layout.web_workers, layout.web_threads
            )
            stack.callback(node.stop)
            nodes.append(node)
            if web_nice:
                os.setpriority(os.PRIO_PGRP, node.process.pid, web_nice)
        worker = _jobs_worker(node_env, folder) if redis_url else None
        if worker is not None:
            stack.callback(_stop, worker)
        api = start_node("api", node_env, folder, layout.api_workers, layout.api_threads)
        stack.callback(api.stop)
        proxy = start_proxy(
            folder / "nginx",
            upstreams={"web": [n.port for n in nodes], "api": [api.port]},
            routes={"/api/": "api", **({"/api/v1/pagopa/": "web"} if layout.pagopa_on_web else {})},
            default="web",
        )
        stack.callback(proxy.stop)
        yield Serving(
            layout,
            proxy.port,
            proxy.url,
            [*nodes, api],
            redis_url,
            worker is not None,
            proxy.access_log,
        )


def _jobs_worker(env: dict[str, str], folder: Path) -> subprocess.Popen[bytes] | None:
    """`ztl jobs worker`, as a deployment with a shared Redis runs beside its nodes: there the
    app hands mail to the queue instead of sending it in the request, and somebody must send it
    for the two layouts to do the same work. None when the app has no such command yet."""
    from tests.cluster_nodes import BIN

    log = folder / "jobs-worker.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(BIN / "ztl"), "jobs", "worker"], env=env, stdin=subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        process.wait(3)  # still running after 3 s: it took the queue
    except subprocess.TimeoutExpired:
        return process
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the job in hand is finished first), then SIGKILL after 20 s."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def refused(access_log: Path | None) -> list[str]:
    """The answers of 400 and over in nginx's log (the warm-up's included), by status, method
    and path, with the node's own status (none: nginx answered itself, a node down or late),
    so that a run with errors says which at once; the nodes' logs hold a 500's traceback."""
    if access_log is None or not access_log.exists():
        return []
    counts: dict[str, int] = {}
    line = re.compile(r'"(\S+) (\S+) [^"]*" (\d{3}) upstream=\S* upstream_status=(\S*)')
    for match in line.finditer(access_log.read_text(errors="replace")):
        method, path, status, upstream = match.groups()
        if int(status) >= 400:
            key = f"{status} {method} {path.split('?')[0]} (node: {upstream or 'none'})"
            counts[key] = counts.get(key, 0) + 1
    return [f"{key} x{count}" for key, count in sorted(counts.items())]


def redis_commands(url: str) -> int | None:
    """How many commands the layout's Redis served: 0 says the app does not use it (yet)."""
    try:
        import redis
    except ImportError:
        return None
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        # INFO itself is one of them; the count is the server's since it started.
        return int(client.info("stats")["total_commands_processed"]) - 1
    except redis.RedisError:
        return None
    finally:
        client.close()


@dataclass(frozen=True)
class Reading:
    """One kind of request's figures in one layout, as wrk printed them."""

    rate: float
    errors: int
    p99: str  # as wrk wrote it: 850.00us, 12.34ms, 1.20s
    detail: str  # what the errors were

    @property
    def p99_ms(self) -> float | None:
        match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", self.p99)
        if not match:
            return None
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[match.group(2)]
        return float(match.group(1)) * scale


def _ratio(new: float | None, old: float | None) -> str:
    return f"{new / old:5.2f}" if new is not None and old else "    ?"


def _p99(reading: Reading | None) -> str:
    if reading is None or reading.p99_ms is None:
        return "?"
    return f"{reading.p99_ms:.1f} ms"


def table(results: dict[str, dict[str, Reading]], kinds: list[str]) -> list[str]:
    """Per kind: req/s, p99 and errors in each layout, then, when there are two, the second's
    over the first's (req/s above 1 is faster, p99 above 1 is slower)."""
    names = list(results)
    header = f"  {'kind':<20}"
    for name in names:
        header += f" | {name + ' req/s':>15} {'p99':>9} {'errors':>6}"
    if len(names) == 2:
        header += f" | {'req/s ratio':>11} {'p99 ratio':>9}"
    lines = [header, "  " + "-" * (len(header) - 2)]
    for kind in [*kinds, "all"]:
        row = f"  {kind:<20}"
        readings = []
        for name in names:
            if kind == "all":
                rate = sum(r.rate for r in results[name].values())
                errors = sum(r.errors for r in results[name].values())
                row += f" | {rate:15,.0f} {'':>9} {errors:6d}"
                readings.append(Reading(rate, errors, "", ""))
                continue
            reading = results[name].get(kind)
            readings.append(reading)  # type: ignore[arg-type]
            if reading is None:
                row += f" | {'-':>15} {'-':>9} {'-':>6}"
            else:
                row += f" | {reading.rate:15,.0f} {_p99(reading):>9} {reading.errors:6d}"
        if len(names) == 2 and all(readings):
            first, second = readings
            row += f" | {_ratio(second.rate, first.rate):>11}"
            if kind != "all":
                row += f" {_ratio(second.p99_ms, first.p99_ms):>9}"
        lines.append(row)
    return lines


def police_verdicts(results: dict[str, dict[str, Reading]]) -> tuple[list[str], bool]:
    """Whether the plate checks kept p99 <= 20 ms in each layout: the lines, and all met."""
    lines, met = [], True
    for name, readings in results.items():
        reading = readings.get(POLICE_KIND)
        value = reading.p99_ms if reading else None
        ok = value is not None and value <= POLICE_P99_TARGET_MS
        met = met and ok
        shown = f"{value:.1f} ms" if value is not None else "not measured"
        verdict = "MET" if ok else "NOT MET"
        lines.append(
            f"  plate checks, {name}: p99 {shown} "
            f"(target <= {POLICE_P99_TARGET_MS:.0f} ms): {verdict}"
        )
    return lines, met


@dataclass(frozen=True)
class CpuSample:
    """Jiffies of CPU spent so far: the whole machine, the bench's processes, PostgreSQL's."""

    machine: int
    bench: int
    postgres: int


def cpu_sample() -> CpuSample | None:
    """Where the machine's CPU went, to tell a run disturbed by other work (tests, builds on the
    same 2 cores) from one that was not: the bench's own processes (nodes, nginx, Redis, wrk,
    itself) and PostgreSQL (every backend, the bench's and anybody else's). None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    machine = user + nice + system + irq + softirq + steal
    parents: dict[int, int] = {}
    spent: dict[int, int] = {}
    postgres = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(rest[1])
        # utime, stime and the same of the children it reaped (wrk, workers that were replaced)
        spent[pid] = sum(int(x) for x in rest[11:15])
        if name.startswith("postgres"):
            postgres += spent[pid]
    me, bench = os.getpid(), 0
    for pid, used in spent.items():
        ancestor = pid
        while ancestor > 1 and ancestor != me:
            ancestor = parents.get(ancestor, 0)
        if ancestor == me:
            bench += used
    return CpuSample(machine, bench, postgres)


def cpu_shares(before: CpuSample | None, after: CpuSample | None, seconds: float) -> str:
    """Cores used on average between two samples: all, the bench's, PostgreSQL's, the rest's."""
    if before is None or after is None or seconds <= 0:
        return "CPU use unknown"
    tick = os.sysconf("SC_CLK_TCK") * seconds
    machine = (after.machine - before.machine) / tick
    bench = (after.bench - before.bench) / tick
    postgres = (after.postgres - before.postgres) / tick
    other = max(machine - bench - postgres, 0.0)
    return (
        f"CPU: {machine:.2f} of {os.cpu_count()} cores busy, the bench's processes {bench:.2f}, "
        f"PostgreSQL {postgres:.2f}, anything else {other:.2f}"
    )
