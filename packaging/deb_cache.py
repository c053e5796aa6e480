"""The .deb of the current sources, built once per hash of them and kept in ~/.cache/hubbub-deb/HASH/.

tests/integration/test_deb.py and `python -m bench package` use the package of exactly the sources
they run with: the hash covers every file Briefcase puts into it (app/, p2p/, crdt/, ui/, packaging/,
pyproject.toml, briefcase.toml, LICENSE, CHANGELOG.md), the Briefcase requirement, the template
bundle named by HUBBUB_BRIEFCASE_TEMPLATE, and the system (Python, distribution, architecture).
The dependencies' wheels are whatever pip resolves at build time: a new release on PyPI does not
change the hash. Beside each .deb, `build.json` records how long the build took.

    python packaging/deb_cache.py          # the .deb's path, building it first when it is not cached
    python packaging/deb_cache.py --find   # the path if it is cached; exit status 1 otherwise
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app", "p2p", "crdt", "ui", "packaging", "pyproject.toml", "briefcase.toml", "LICENSE", "CHANGELOG.md")
TEMPLATE_ENV = "HUBBUB_BRIEFCASE_TEMPLATE"
KEEP = 3  # cached packages kept, newest first


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hubbub-deb"


def _files(root: Path) -> Iterator[Path]:
    for name in SOURCES:
        top = root / name
        if top.is_file():
            yield top
        for path in sorted(top.rglob("*")) if top.is_dir() else ():
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".so") and not (
                    path.suffix == ".c" and path.with_suffix(".pyx").is_file()):  # (build output: the .pyx counts)
                yield path


def _system() -> str:
    release = ""
    with contextlib.suppress(OSError):
        release = Path("/etc/os-release").read_text(encoding="utf-8")
    system_python = shutil.which("python3", path="/usr/bin") or ""
    version = subprocess.run([system_python, "--version"], capture_output=True, text=True).stdout if system_python else ""
    return f"{release}\n{platform.machine()}\n{version}"


def source_hash(root: Path = ROOT, env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The hash of everything that goes into the package (see the module's docstring)."""
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    template = env.get(TEMPLATE_ENV)
    digest.update(b"template\0" + (Path(template).read_bytes() if template and Path(template).is_file() else b""))
    digest.update(_system().encode())
    return digest.hexdigest()[:24]


def cached(root: Path = ROOT) -> Path | None:
    """The cached .deb of these sources, or None."""
    found = sorted((cache_root() / source_hash(root)).glob("*.deb"))
    return found[0] if len(found) == 1 else None


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    cache_root().mkdir(parents=True, exist_ok=True)
    with (cache_root() / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build(root: Path = ROOT) -> Path:
    """Build the .deb of these sources (`feed_briefcase.py --deb`) into the cache, unless it is there already."""
    with _locked():
        found = cached(root)
        if found is not None:
            return found
        key = source_hash(root)
        started = time.monotonic()
        out = subprocess.run([sys.executable, str(root / "packaging" / "feed_briefcase.py"), "--deb"],
                             cwd=root, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            sys.stderr.write(out.stdout[-20_000:])
            raise SystemExit(f"deb_cache: building the .deb failed (exit status {out.returncode}; see above)")
        built = Path(out.stdout.strip().splitlines()[-1])
        seconds = time.monotonic() - started
        target = cache_root() / key
        partial = cache_root() / f".{key}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        shutil.copy2(built, partial / built.name)
        (partial / "build.json").write_text(json.dumps({"build_s": round(seconds, 1), "deb": built.name}))
        partial.rename(target)
        _prune(keep=key)
        return target / built.name


def build_seconds(deb: Path) -> float | None:
    """How long the build of a cached .deb took, from its build.json."""
    try:
        return float(json.loads((deb.parent / "build.json").read_text())["build_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prune(keep: str) -> None:
    entries = [p for p in cache_root().iterdir() if p.is_dir() and not p.name.startswith(".")]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in entries if p.name != keep][KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv == ["--find"]:
        found = cached()
        if found is None:
            return 1
        print(found)
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    print(build())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
