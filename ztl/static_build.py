"""Static files built for serving: names that carry a hash of their content, compressed copies.

`build_static` copies static/ into a build folder named by a fingerprint of every file it holds:
each file under its own name, and (except the seal verifier's modules, see UNHASHED) a copy named
`name.<hash>.ext` whose content can never change, stylesheets with their url() references pointing
at the hashed names. WhiteNoise's compressor writes a gzip and a brotli copy of each file worth
compressing, and manifest.json maps each file to its hashed name. A build that exists is reused, so
start-up after the first only hashes static/ to find it; `ztl static build` runs
it ahead of the web server (`make run`), and with --remove-old deletes the builds of other versions.

ztl.web.static_files serves a build with WhiteNoise. This module uses only the standard library and
WhiteNoise's compressor, so that the command line and the web pages can both reach it.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path

MANIFEST = "manifest.json"
# Bump when the layout of a build changes, so that older builds are not reused.
BUILD_VERSION = "1"
# The seal verifier's ES modules import each other by relative plain names, and its service worker
# recognises page.js by name (static/js/seal/sw.js): they keep their plain names.
UNHASHED = ("js/seal/",)
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _hashed(name: str, digest: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or "/" in ext:
        return f"{name}.{digest}"
    return f"{stem}.{digest}.{ext}"


def _sources(source: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            files[path.relative_to(source).as_posix()] = path.read_bytes()
    return files


def _rewrite_css(name: str, text: str, manifest: dict[str, str]) -> str:
    """url(...) references to other static files point at their hashed names."""
    folder = posixpath.dirname(name)

    def replace(match: re.Match[str]) -> str:
        quote, ref = match.group(1), match.group(2)
        if ref.startswith(("data:", "#", "/")) or ":" in ref.split("/")[0]:
            return match.group(0)
        path, hash_sign, fragment = ref.partition("#")
        target = posixpath.normpath(posixpath.join(folder, path))
        if target not in manifest:
            return match.group(0)
        relative = posixpath.relpath(manifest[target], folder or ".")
        return f"url({quote}{relative}{hash_sign}{fragment}{quote})"

    return CSS_URL.sub(replace, text)


def _contents(files: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, str]]:
    """What the build folder holds (name -> bytes) and the manifest (name -> hashed name)."""
    manifest: dict[str, str] = {}
    output = dict(files)
    # Stylesheets last: their hashes cover the rewritten references.
    for name in sorted(files, key=lambda n: n.endswith(".css")):
        if name.startswith(UNHASHED):
            continue
        data = files[name]
        if name.endswith(".css"):
            data = _rewrite_css(name, data.decode("utf-8"), manifest).encode("utf-8")
            output[name] = data
        manifest[name] = _hashed(name, _digest(data))
        output[manifest[name]] = data
    return output, manifest


def build_static(source: Path, builds: Path) -> Path:
    """The build folder for `source` as it is now, made if missing; safe to run concurrently."""
    files = _sources(source)
    fingerprint = hashlib.sha256(BUILD_VERSION.encode())
    for name, data in files.items():
        fingerprint.update(f"{name}\0{_digest(data)}\0".encode())
    target = builds / fingerprint.hexdigest()[:16]
    if (target / MANIFEST).exists():
        return target
    from whitenoise.compress import Compressor

    builds.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=builds))
    try:
        output, manifest = _contents(files)
        compressor = Compressor(quiet=True)
        compressed: dict[bytes, Path] = {}  # a file and its hashed copy are compressed once
        for name, data in output.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if not compressor.should_compress(name):
                continue
            key = hashlib.sha256(data).digest()
            if key in compressed:
                for suffix in (".br", ".gz"):
                    done = Path(f"{compressed[key]}{suffix}")
                    if done.exists():
                        shutil.copyfile(done, f"{path}{suffix}")
            else:
                compressor.compress(str(path))
                compressed[key] = path
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        for folder in (staging, *staging.rglob("*")):
            os.chmod(folder, 0o755 if folder.is_dir() else 0o644)
        try:
            staging.rename(target)  # atomic: another process may have finished first
        except OSError:
            if not (target / MANIFEST).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def remove_other_builds(builds: Path, keep: Path) -> list[Path]:
    removed = []
    for folder in builds.iterdir() if builds.is_dir() else ():
        if folder.is_dir() and folder != keep and not folder.name.startswith("."):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def read_manifest(build: Path) -> dict[str, str]:
    manifest: dict[str, str] = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    return manifest
