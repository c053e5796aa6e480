"""The one command that feeds Briefcase: merges pyproject.toml and briefcase.toml, then runs `briefcase ARGS`.

Briefcase reads only the pyproject.toml of the directory it runs in. This writes one to
build/briefcase/ (the project's pyproject.toml, then briefcase.toml's [tool.briefcase] tables),
links in the paths both name (sources, icons, license files, the changelog), runs
`python -m briefcase ARGS` there, and puts packaging/hubbub.desktop (in place of the template's
entry, which has no categories and no URL handler), the AppStream metainfo and the relay's systemd
unit (installed, not enabled) into the bundle.

When HUBBUB_BRIEFCASE_TEMPLATE names a git bundle of Briefcase's Linux system template (a copy for
machines that cannot reach GitHub), it is cloned to a temporary folder and handed to Briefcase with
`-C template=... -C template_branch=...`; without it Briefcase fetches its own template as usual.

    python packaging/feed_briefcase.py --print                 # the merged pyproject.toml
    python packaging/feed_briefcase.py create linux system     # any Briefcase command
    python packaging/feed_briefcase.py --deb                   # a fresh .deb; prints its path
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # packaging/ is no package: its scripts import from here
import native_build  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "build" / "briefcase"
PACKAGING = ROOT / "packaging"
DESKTOP_ENTRY = PACKAGING / "hubbub.desktop"
RELAY_UNIT = PACKAGING / "relay" / "hubbub-relay.service"  # shipped, not enabled: `systemctl enable --now hubbub-relay`
LINTIAN_OVERRIDES = PACKAGING / "lintian-overrides"
TEMPLATE_ENV = "HUBBUB_BRIEFCASE_TEMPLATE"
# The name the template's clone gets: Briefcase caches templates by the URL's last part, so this one
# does not take the place of the cache of Briefcase's own template (briefcase-linux-system-template).
TEMPLATE_CLONE = "hubbub-vendored-linux-system-template.git"
# The changelog names Briefcase looks for beside pyproject.toml (briefcase.commands.convert).
CHANGELOG_NAMES = [f"{n}{e}" for n in ("CHANGELOG", "HISTORY", "NEWS", "RELEASES") for e in ("", ".md", ".rst", ".txt")]
DEB_COMMANDS = (["create", "linux", "system"], ["build", "linux", "system"], ["package", "linux", "system"])
# dpkg-deb's compression for the .deb: xz (lintian calls zstd "malformed") at its fastest preset. On the
# 300 MB bundle here, under load: level 0 takes 26 s for 87 MB, level 2 84 s for 80 MB, and the default
# (6) several minutes. DPKG_DEB_COMPRESSOR_LEVEL in the environment wins over this.
DEB_COMPRESSION = {"DPKG_DEB_COMPRESSOR_TYPE": "xz", "DPKG_DEB_COMPRESSOR_LEVEL": "0"}
SHARED_LIBRARY = re.compile(r"\.so(\.[0-9.]+)?$")
# A Linux system package embeds the system's libpython, so Briefcase must run on the system Python:
# when this runs on another one (a pyenv venv, say), it makes a venv of /usr/bin/python3 holding only
# Briefcase (the version pyproject.toml's [test] extras ask for) and runs itself again from there.
SYSTEM_PREFIX = Path("/usr")
SYSTEM_PYTHON = SYSTEM_PREFIX / "bin" / "python3"
BRIEFCASE_VENV = ROOT / "build" / "briefcase-venv"


def merged_text(root: Path = ROOT) -> str:
    """pyproject.toml followed by briefcase.toml, checked to parse as exactly the union of the two."""
    project_text = (root / "pyproject.toml").read_text(encoding="utf-8")
    briefcase_text = (root / "briefcase.toml").read_text(encoding="utf-8")
    project, app = tomllib.loads(project_text), tomllib.loads(briefcase_text)
    if list(app) != ["tool"] or list(app["tool"]) != ["briefcase"]:
        raise SystemExit("feed_briefcase: briefcase.toml must hold only [tool.briefcase] tables")
    if "briefcase" in project.get("tool", {}):
        raise SystemExit("feed_briefcase: pyproject.toml must not hold [tool.briefcase]; "
                         "it belongs in briefcase.toml")
    text = f"{project_text.rstrip()}\n\n# ---- briefcase.toml ----\n{briefcase_text}"
    project.setdefault("tool", {})["briefcase"] = app["tool"]["briefcase"]
    if tomllib.loads(text) != project:
        raise SystemExit("feed_briefcase: pyproject.toml and briefcase.toml do not merge cleanly")
    return text


def named_paths(config: dict[str, Any], root: Path = ROOT) -> list[str]:
    """The repository paths Briefcase reads: each app's sources and icon prefix, the license files, the changelog."""
    paths: list[str] = []
    for app in config["tool"]["briefcase"].get("app", {}).values():
        paths += app.get("sources", [])
        if "icon" in app:
            paths.append(app["icon"])
    paths += config.get("project", {}).get("license-files", [])
    paths += [name for name in CHANGELOG_NAMES if (root / name).is_file()][:1]
    return paths


def prepare(workdir: Path = WORKDIR, root: Path = ROOT) -> Path:
    """Write the merged pyproject.toml to `workdir` and link the top-level paths it names."""
    text = merged_text(root)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "pyproject.toml").write_text(text, encoding="utf-8")
    for top in sorted({Path(p).parts[0] for p in named_paths(tomllib.loads(text), root)}):
        link = workdir / top
        if not link.is_symlink():
            link.symlink_to(root / top, target_is_directory=(root / top).is_dir())
    return workdir


def metainfo_file(root: Path = ROOT) -> Path:
    """The AppStream metainfo in packaging/ (named after the component id)."""
    found = sorted((root / "packaging").glob("*.metainfo.xml"))
    if len(found) != 1:
        raise SystemExit(f"feed_briefcase: packaging/ must hold exactly one *.metainfo.xml, not {len(found)}")
    return found[0]


def package_roots(workdir: Path = WORKDIR) -> list[Path]:
    """The package trees of the Linux system bundles: build/APP/VENDOR/CODENAME/APP-VERSION (holding usr/)."""
    return sorted(usr.parent for usr in workdir.glob("build/*/*/*/*/usr") if usr.is_dir())


def install_freedesktop_files(workdir: Path = WORKDIR) -> list[Path]:
    """Put our desktop entry (in place of the template's), the metainfo and the relay's systemd unit into any
    Linux system bundle. The unit goes under usr/lib (a top-level lib/ would clash with merged-/usr systems)."""
    written = []
    for root in package_roots(workdir):
        units = root / "usr" / "lib" / "systemd" / "system"
        units.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copy(RELAY_UNIT, units / RELAY_UNIT.name)))
    for usr_share in (root / "usr" / "share" for root in package_roots(workdir)):
        apps_dir = usr_share / "applications"
        apps_dir.mkdir(exist_ok=True)
        for old in apps_dir.glob("*.desktop"):
            old.unlink()
        written.append(Path(shutil.copy(DESKTOP_ENTRY, apps_dir / DESKTOP_ENTRY.name)))
        metainfo = metainfo_file()
        (usr_share / "metainfo").mkdir(exist_ok=True)
        written.append(Path(shutil.copy(metainfo, usr_share / "metainfo" / metainfo.name)))
    return written


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(4)


def tidy_bundle(workdir: Path = WORKDIR) -> list[Path]:
    """Make the bundled wheels' files what Debian expects of modes: only programs executable.

    Our own compiled modules are built again for the system Python first (native_build.py). A shared
    library becomes 0644, and so does any other file marked executable that is a Python
    module or no program at all (neither ELF nor #!), such as a wheel's LICENSE. The libraries are
    left unstripped, as PyPI ships them: auditwheel rewrote many with patchelf, and `strip` breaks
    some of those (numpy's OpenBLAS then fails to load: "ELF load command address/offset not
    page-aligned"). Also installs packaging/lintian-overrides, which says so. Returns the libraries.
    """
    native_build.replace_in_bundles(
        [app for root in package_roots(workdir) for app in root.glob("usr/lib/*/app") if (app / "crdt").is_dir()])
    libraries: list[Path] = []
    for root in package_roots(workdir):
        for path in root.glob("usr/lib/*/**/*"):
            if path.is_symlink() or not path.is_file():
                continue
            head = _head(path)
            if SHARED_LIBRARY.search(path.name) and head == b"\x7fELF":
                path.chmod(0o644)
                libraries.append(path)
            elif path.stat().st_mode & 0o111 and (path.suffix == ".py" or head != b"\x7fELF" and head[:2] != b"#!"):
                path.chmod(0o644)
        overrides = root / "usr" / "share" / "lintian" / "overrides"
        overrides.mkdir(parents=True, exist_ok=True)
        shutil.copy(LINTIAN_OVERRIDES, overrides / root.name.rsplit("-", 1)[0])
    return libraries


def _version_key(name: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+(?:\.\d+)*)", name)
    return tuple(int(x) for x in match.group(1).split(".")) if match else None


def template_branch(branches: list[str], briefcase_version: str) -> str:
    """The template branch for this Briefcase: the one named after its version, else the newest older one."""
    base = re.match(r"\d+(?:\.\d+)*", briefcase_version)
    if base is None:
        raise SystemExit(f"feed_briefcase: cannot read Briefcase's version {briefcase_version!r}")
    if f"v{base.group(0)}" in branches:
        return f"v{base.group(0)}"
    mine = _version_key(base.group(0))
    assert mine is not None
    older = [(key, b) for b in branches if (key := _version_key(b)) is not None and key <= mine]
    if not older:
        raise SystemExit(f"feed_briefcase: the template bundle has no branch for Briefcase {briefcase_version} "
                         f"or older (it has: {', '.join(sorted(branches)) or 'none'})")
    return max(older)[1]


@contextlib.contextmanager
def template_overrides(env: dict[str, str] | os._Environ[str] = os.environ) -> Iterator[list[str]]:
    """Briefcase `-C` options that point it at a clone of $HUBBUB_BRIEFCASE_TEMPLATE; none when it is unset.

    The clone (every branch of the bundle) lives in a temporary folder for as long as the block runs.
    """
    bundle = env.get(TEMPLATE_ENV)
    if not bundle:
        yield []
        return
    if not Path(bundle).is_file():
        raise SystemExit(f"feed_briefcase: {TEMPLATE_ENV} names {bundle}, which is not a file")
    from briefcase import __version__ as briefcase_version

    with tempfile.TemporaryDirectory(prefix="hubbub-briefcase-template-") as tmp:
        clone = Path(tmp) / TEMPLATE_CLONE
        subprocess.run(["git", "clone", "--quiet", "--mirror", bundle, str(clone)], check=True)
        heads = subprocess.run(["git", "-C", str(clone), "for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads"],
                               check=True, capture_output=True, text=True).stdout.split()
        branch = template_branch(heads, briefcase_version)
        print(f"feed_briefcase: Briefcase's Linux template from {bundle}, branch {branch}", file=sys.stderr)
        yield ["-C", f'template="{clone.as_uri()}"', "-C", f'template_branch="{branch}"']


def run_briefcase(argv: list[str], workdir: Path = WORKDIR) -> int:
    """`python -m briefcase ARGV` on the merged config, with the template override, then our freedesktop files."""
    prepare(workdir)
    env = {**DEB_COMPRESSION, **os.environ}
    with template_overrides() as overrides:
        status = subprocess.call([sys.executable, "-m", "briefcase", *argv, *overrides], cwd=workdir, env=env)
    install_freedesktop_files(workdir)
    return status


def build_deb(workdir: Path = WORKDIR) -> Path:
    """A fresh .deb from a clean bundle: create, build, then package (our files go in between); returns its path."""
    for stale in ("build", "dist"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    for argv in DEB_COMMANDS:
        if argv[0] == "package":
            tidy_bundle(workdir)
        if run_briefcase([*argv, "--no-input"], workdir) != 0:
            raise SystemExit(f"feed_briefcase: `briefcase {' '.join(argv)}` failed (see its message above)")
    debs = sorted((workdir / "dist").glob("*.deb"))
    if len(debs) != 1:
        raise SystemExit(f"feed_briefcase: expected one .deb in {workdir / 'dist'}, found {len(debs)}")
    return debs[0]


def briefcase_requirement(root: Path = ROOT) -> str:
    """The Briefcase requirement pyproject.toml's [test] extras hold, e.g. `briefcase>=0.4.7`."""
    extras = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    found = [r for r in extras["test"] if re.match(r"briefcase\b", r)]
    if len(found) != 1:
        raise SystemExit("feed_briefcase: pyproject.toml's [test] extras must name briefcase once")
    return found[0]


def on_system_python() -> bool:
    return Path(sys.base_prefix).resolve() == SYSTEM_PREFIX.resolve()


def system_python_briefcase(venv: Path = BRIEFCASE_VENV) -> Path:
    """The python of a venv of the system Python with Briefcase in it, made (or brought up to date) now."""
    if not SYSTEM_PYTHON.is_file():
        raise SystemExit(f"feed_briefcase: Briefcase builds system packages with the system Python, and there is "
                         f"no {SYSTEM_PYTHON} (Debian: python3, python3-venv, python3-dev)")
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", briefcase_requirement()], check=True)
    return python


def main(argv: list[str]) -> int:
    if argv == ["--print"]:
        print(merged_text(), end="")
        return 0
    if argv == ["--deb"] and sys.platform == "linux" and not on_system_python():
        return subprocess.call([str(system_python_briefcase()), __file__, *argv])
    if importlib.util.find_spec("briefcase") is None:
        print("feed_briefcase: Briefcase is not installed in this Python; `make venv` installs it "
              "(it is in the [test] extras).", file=sys.stderr)
        return 1
    if argv == ["--deb"]:
        print(build_deb())
        return 0
    return run_briefcase(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
