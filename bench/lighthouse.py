"""Lighthouse (mobile profile) on the pages a phone on a slow network opens most.

Usage: .venv/bin/python bench/lighthouse.py [--runs 1] [--chrome /usr/bin/chromium] [--keep]

Installs Lighthouse from npm into bench/.lighthouse/ when it is missing (gitignored), builds a demo
city in a fresh instance folder (`ztl db upgrade`, `ztl keys init`, `ztl demo load`,
`ztl static build`, as `make run` does), serves it with gunicorn on loopback, signs in the demo
resident, clerk and police officer, and runs Lighthouse's default mobile profile (a mid-range phone,
simulated slow 4G, CPU slowed down 4x) against headless Chromium on: the public home, the resident
dashboard, the clerk's queue and both police pages (and a public permit type page). Signed-in pages get the session cookie through
Lighthouse's --extra-headers.

Prints per page the performance and accessibility scores, the page weight (bytes transferred, as
Lighthouse counts them), the first contentful paint and the largest contentful paint. Target (issue
17): performance at least 90 and accessibility 100 on each page. Exits 1 when a page misses it.
The JSON reports are kept in bench/out/lighthouse/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LIGHTHOUSE_DIR = ROOT / "bench" / ".lighthouse"
LIGHTHOUSE = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
LIGHTHOUSE_VERSION = "12"
OUT = ROOT / "bench" / "out" / "lighthouse"

# (label, path, who signs in: None for the public)
PAGES = (
    ("public home", "/", None),
    ("permit type page", "/permessi/1", None),
    ("resident dashboard", "/area-personale/", "resident"),
    ("clerk queue", "/ufficio/", "clerk"),
    ("police plate check", "/polizia/targa", "police"),
    ("police seal verifier", "/polizia/sigillo/", "police"),
)
# Sessions are tied to the browser that signed in (Flask-Login's "strong" protection hashes the
# User-Agent): the sign-in here and Lighthouse's Chromium present the same one, a phone's.
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/136.0.0.0 Mobile Safari/537.36"
)
TARGET_PERFORMANCE = 90
TARGET_ACCESSIBILITY = 100


def ensure_lighthouse() -> Path:
    if not LIGHTHOUSE.exists():
        LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {LIGHTHOUSE_DIR} ...", flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(LIGHTHOUSE_DIR),
             f"lighthouse@{LIGHTHOUSE_VERSION}"],
            check=True,
        )  # fmt: skip
    return LIGHTHOUSE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped before answering")
        try:
            if requests.get(base + "/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def demo_logins(instance: Path) -> dict[str, tuple[str, str]]:
    """role -> (email, password), from the file `ztl demo load` keeps in the instance folder."""
    logins = {}
    for line in (instance / "demo_logins.txt").read_text(encoding="utf-8").splitlines():
        email, _, password = line.partition("\t")
        logins[email.split("@")[0]] = (email, password)
    return logins


def session_cookie(base: str, email: str, password: str) -> str:
    """Signs in through the sign-in form and returns the Cookie header of the new session."""
    import requests

    browser = requests.Session()
    browser.headers["User-Agent"] = USER_AGENT
    form = browser.get(base + "/accedi", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in page"
    answer = browser.post(
        base + "/accedi",
        data={"csrf_token": token.group(1), "email": email, "password": password, "next": ""},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, (email, answer.status_code)
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def run_lighthouse(
    lighthouse: Path, chrome: str, url: str, cookie: str | None, report: Path
) -> dict[str, float]:
    command = [
        str(lighthouse), url,
        "--output=json", f"--output-path={report}",
        "--only-categories=performance,accessibility",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--emulated-user-agent={USER_AGENT}",
        "--quiet",
    ]  # fmt: skip
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": chrome})
    result = json.loads(report.read_text(encoding="utf-8"))
    final = result.get("finalDisplayedUrl") or result.get("finalUrl")
    if final != url:  # a signed-in page that sent Lighthouse to the sign-in page measures nothing
        raise SystemExit(f"{url} ended at {final}")
    categories, audits = result["categories"], result["audits"]
    return {
        "performance": round(categories["performance"]["score"] * 100),
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "bytes": audits["total-byte-weight"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt": audits["total-blocking-time"]["numericValue"],
    }


def failed_accessibility_audits(report: Path) -> list[str]:
    result = json.loads(report.read_text(encoding="utf-8"))
    refs = result["categories"]["accessibility"]["auditRefs"]
    return [
        ref["id"]
        for ref in refs
        if ref.get("weight") and result["audits"][ref["id"]].get("score") not in (None, 1)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the median is shown")
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()

    lighthouse = ensure_lighthouse()
    instance = Path(tempfile.mkdtemp(prefix="ztl-bench-lighthouse-"))
    env = {**os.environ, "ZTL_INSTANCE_PATH": str(instance)}
    ztl = str(BIN / "ztl")
    for step in (["db", "upgrade"], ["keys", "init"], ["demo", "load"], ["static", "build"]):
        subprocess.run([ztl, *step], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "ztl:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    missed = False
    try:
        wait_until_up(base, server)
        logins = demo_logins(instance)
        cookies: dict[str, str] = {}
        print(
            f"{'page':<24} {'perf':>5} {'a11y':>5} {'weight':>10} {'FCP':>6} {'LCP':>6} {'TBT':>7}"
        )
        for label, path, role in PAGES:
            cookie = None
            if role:
                if role not in cookies:
                    cookies[role] = session_cookie(base, *logins[role])
                cookie = cookies[role]
            report = OUT / (re.sub(r"\W+", "-", label) + ".json")
            runs = sorted(
                (run_lighthouse(lighthouse, args.chrome, base + path, cookie, report)
                 for _ in range(args.runs)),
                key=lambda r: r["performance"],
            )  # fmt: skip
            r = runs[len(runs) // 2]
            print(
                f"{label:<24} {r['performance']:>5} {r['accessibility']:>5} "
                f"{r['bytes'] / 1024:>7.0f} KB {r['fcp']:>5.1f}s {r['lcp']:>5.1f}s "
                f"{r['tbt']:>5.0f}ms",
                flush=True,
            )
            if r["accessibility"] < TARGET_ACCESSIBILITY:
                print(f"    accessibility audits failed: {failed_accessibility_audits(report)}")
            if r["performance"] < TARGET_PERFORMANCE or r["accessibility"] < TARGET_ACCESSIBILITY:
                missed = True
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(instance, ignore_errors=True)
    print(
        f"target: performance >= {TARGET_PERFORMANCE}, accessibility {TARGET_ACCESSIBILITY}: "
        + ("missed" if missed else "met")
    )
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
