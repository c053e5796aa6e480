"""The .deb that `make package` builds, unpacked and run: launcher, window, hubbub:// links, metadata, lintian.

The package is the one of exactly these sources (packaging/deb_cache.py: built once per source
hash, kept in ~/.cache/hubbub-deb/). When none is cached the tests skip, except under
HUBBUB_STRICT=1 (CI), which builds it: a few minutes, most of them dpkg-deb compressing.
The app runs from `dpkg-deb -x` in a temporary root, offscreen, in a network namespace of its own
(it starts its node and mDNS like the real thing); what its windows showed comes from its
HUBBUB_TEST_REPORT file (ui/report.py).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, STRICT, require
from tests.integration.installed_app import app_env, deb_cache, unpack, wait_shown
from tests.integration.netns import NetnsLan, netns_available
from tests.unit.test_links import invite_link

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = ("libopus0", "libportaudio2", "libxcb-cursor0", "libxcb-xinerama0", "libxkbcommon-x11-0", "libegl1")
ICON_SIZES = (16, 32, 64, 128, 256, 512)


@pytest.fixture(scope="module")
def deb() -> Path:
    require(shutil.which("dpkg-deb") is not None, "dpkg-deb is not installed")
    cache = deb_cache()
    found: Path | None = cache.cached()
    if found is None:
        require(STRICT, "no .deb of these sources is cached; `python packaging/deb_cache.py` builds one "
                        "(HUBBUB_STRICT=1 builds it here)")
        found = cache.build()
    return found


@pytest.fixture(scope="module")
def installed(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package unpacked into a temporary root; returns that root."""
    root = tmp_path_factory.mktemp("installed")
    unpack(deb, root)
    return root


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"{name} (Debian: {package}) is not installed")
    assert path is not None
    return path


def test_the_package_is_named_for_its_version_and_declares_what_it_needs(deb: Path) -> None:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    assert re.fullmatch(rf"hubbub_{re.escape(PROJECT['version'])}-1~[a-z]+-[a-z]+_{arch}\.deb", deb.name), deb.name
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Depends", "Maintainer", "Homepage"],
                            capture_output=True, text=True, check=True).stdout
    control = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
    assert control["Package"] == "hubbub" and control["Version"] == PROJECT["version"]
    depends = {d.split()[0] for d in control["Depends"].split(", ")}
    assert set(RUNTIME) <= depends, set(RUNTIME) - depends
    author = PROJECT["authors"][0]
    assert control["Maintainer"] == f"{author['name']} <{author['email']}>"
    assert control["Homepage"] == PROJECT["urls"]["Homepage"]


def test_it_installs_the_launcher_desktop_entry_icons_and_metainfo(installed: Path) -> None:
    launcher = installed / "usr" / "bin" / "hubbub"
    assert launcher.is_file() and launcher.stat().st_mode & 0o111
    entry = (installed / "usr" / "share" / "applications" / "hubbub.desktop").read_text(encoding="utf-8")
    assert entry == (ROOT / "packaging" / "hubbub.desktop").read_text(encoding="utf-8")
    assert "MimeType=x-scheme-handler/hubbub;" in entry
    for size in ICON_SIZES:
        icon = installed / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "org.hubbub.hubbub.png"
        assert icon.read_bytes() == (ROOT / "packaging" / "icons" / f"hubbub-{size}.png").read_bytes()
    assert (installed / "usr" / "share" / "metainfo" / "org.hubbub.hubbub.metainfo.xml").is_file()
    assert "MIT License" in (installed / "usr" / "share" / "doc" / "hubbub" / "copyright").read_text(encoding="utf-8")
    assert not list(installed.rglob("__pycache__")), "the package ships bytecode"
    assert not (installed / "usr" / "lib" / "hubbub" / "app_packages" / "PySide6" / "Qt" / "qml").exists()


def test_the_relay_unit_is_shipped_sandboxed_and_the_packaged_relay_serves(installed: Path, tmp_path: Path) -> None:
    unit = installed / "usr" / "lib" / "systemd" / "system" / "hubbub-relay.service"
    assert unit.read_text(encoding="utf-8") == (ROOT / "packaging" / "relay" / "hubbub-relay.service").read_text(encoding="utf-8")
    # systemd-analyze, offline, on a root made of this machine's units, the package's unit and its launcher
    analyze = tool("systemd-analyze", "systemd")
    root = tmp_path / "root"
    shutil.copytree("/usr/lib/systemd/system", root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    shutil.copy(unit, root / "usr" / "lib" / "systemd" / "system" / unit.name)
    (root / "usr" / "bin").mkdir(parents=True)
    shutil.copy2(installed / "usr" / "bin" / "hubbub", root / "usr" / "bin" / "hubbub")  # a symlink would leave the root
    verified = subprocess.run([analyze, "verify", "--man=no", f"--root={root}", unit.name],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stdout + verified.stderr
    security = subprocess.run([analyze, "security", "--offline=yes", f"--root={root}", unit.name],
                              capture_output=True, text=True, timeout=60)
    exposure = re.search(r"Overall exposure level for hubbub-relay.service: ([0-9.]+)", security.stdout)
    assert exposure and float(exposure.group(1)) < 2.0, security.stdout[-1500:] + security.stderr
    # the packaged relay itself (loopback only): its first stdout line is its address, SIGTERM ends it cleanly
    env = app_env(tmp_path / "profile", tmp_path / "report", tmp_path / "cache")
    relay = subprocess.Popen([str(installed / "usr" / "bin" / "hubbub"), "relay", "serve", "--listen", "127.0.0.1:0",
                              "--data", str(tmp_path / "relay")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        assert relay.stdout is not None
        first = relay.stdout.readline()
        assert re.fullmatch(r"hubbub-relay://127\.0\.0\.1:[1-9][0-9]*\n", first), f"the relay's first line: {first!r}"
    finally:
        relay.send_signal(signal.SIGTERM)
        _out, err = relay.communicate(timeout=30)
    assert relay.returncode == 0, err[-2000:]
    assert (tmp_path / "relay").is_dir()


def test_the_launcher_prints_help_and_its_version(installed: Path, tmp_path: Path) -> None:
    env = app_env(tmp_path / "profile", tmp_path / "report", tmp_path / "cache")
    launcher = str(installed / "usr" / "bin" / "hubbub")
    helped = subprocess.run([launcher, "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: hubbub") and "LINK" in helped.stdout and "invite" in helped.stdout
    version = subprocess.run([launcher, "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert version.returncode == 0 and version.stdout == f"hubbub {PROJECT['version']}\n", version.stderr
    assert list((tmp_path / "cache" / "hubbub" / "bytecode").rglob("cli*.pyc")), "no bytecode cached for later starts"


def test_the_package_carries_the_compiled_readers_built_for_the_system_python(installed: Path) -> None:
    app = installed / "usr" / "lib" / "hubbub" / "app"
    modules = sorted((app / "crdt").glob("_native*.so"))
    assert [m.name.split(".")[0] for m in modules] == ["_native", "_native_write"]
    readelf = tool("readelf", "binutils")
    for module in modules:
        dynamic = subprocess.run([readelf, "-d", str(module)], capture_output=True, text=True, check=True).stdout
        assert "RPATH" not in dynamic and "RUNPATH" not in dynamic, f"{module.name} names a library search path"
    env = {"PYTHONPATH": f"{app}:{installed / 'usr' / 'lib' / 'hubbub' / 'app_packages'}", "PATH": "/usr/bin:/bin"}
    loaded = subprocess.run(["/usr/bin/python3", "-I", "-c", "import sys; sys.path[:0] = sys.argv[1].split(':'); "
                             "from crdt import native; print(native.NATIVE, native.__file__)", env["PYTHONPATH"]],
                            capture_output=True, text=True, timeout=60)
    assert loaded.stdout.startswith(f"True {app}"), loaded.stdout + loaded.stderr


def test_the_installed_desktop_entry_and_metainfo_validate(installed: Path) -> None:
    entry = installed / "usr" / "share" / "applications" / "hubbub.desktop"
    checked = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(entry)],
                             capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    metainfo = installed / "usr" / "share" / "metainfo" / "org.hubbub.hubbub.metainfo.xml"
    validated = subprocess.run([tool("appstreamcli", "appstream"), "validate", "--no-net", str(metainfo)],
                               capture_output=True, text=True)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def lintian_report(deb: Path) -> str:
    """Lintian's tags for the .deb; kept beside the cached package (same package, same lintian: same report)."""
    lintian = tool("lintian", "lintian")
    version = subprocess.run([lintian, "--version"], capture_output=True, text=True, check=True).stdout.split()[-1]
    kept = deb.parent / f"lintian-{version}.txt"
    if kept.is_file():
        return kept.read_text(encoding="utf-8")
    result = subprocess.run([lintian, "--no-tag-display-limit", str(deb)], capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1, 2), result.stderr
    kept.write_text(result.stdout, encoding="utf-8")
    return result.stdout


def test_lintian_reports_no_errors(deb: Path) -> None:
    tags = [line for line in lintian_report(deb).splitlines() if re.match(r"[EWIXO]: ", line)]
    errors = [t for t in tags if t.startswith("E: ")]
    assert errors == [], "\n".join(errors[:40])
    warnings = sorted({t.split()[2] for t in tags if t.startswith("W: ")})
    print("lintian warnings:", ", ".join(warnings) or "none")


def stop(proc: subprocess.Popen[Any]) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def browser_env(installed: Path, home: Path, env: dict[str, str]) -> dict[str, str]:
    """What a browser's `gio open LINK` sees once the package is installed: its desktop entry and launcher."""
    applications = installed / "usr" / "share" / "applications"
    subprocess.run([tool("update-desktop-database", "desktop-file-utils"), str(applications)], check=True)  # dpkg's trigger
    return dict(env, PATH=f"{installed / 'usr' / 'bin'}:/usr/bin:/bin", HOME=str(home),
                XDG_DATA_DIRS=str(installed / "usr" / "share"), XDG_DATA_HOME=str(home / "data"))


def test_the_window_stays_up_and_a_clicked_link_goes_to_it(installed: Path, tmp_path: Path) -> None:
    require(netns_available(), "the app starts its node and mDNS, so it runs in a network namespace: needs root")
    gio = tool("gio", "libglib2.0-bin")
    launcher = str(installed / "usr" / "bin" / "hubbub")
    env = app_env(tmp_path / "profile", tmp_path / "report", tmp_path / "cache")
    named = subprocess.run([launcher, "name", "Tester"], capture_output=True, text=True, env=env, timeout=120)
    assert named.returncode == 0, named.stderr  # a profile, so the window opens without the first-run dialog
    browser = browser_env(installed, tmp_path, env)
    handler = subprocess.run([gio, "mime", "x-scheme-handler/hubbub"], capture_output=True, text=True, env=browser)
    assert re.search(r"Default application for .x-scheme-handler/hubbub.: hubbub\.desktop", handler.stdout), handler.stdout
    clicked, typed = invite_link("From the browser"), invite_link("From a terminal")
    with NetnsLan(1) as lan:
        host = lan.hosts[0]
        app = host.popen([launcher], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_shown(tmp_path / "report", "MainWindow", timeout=90, proc=app)
        up_at = time.monotonic()
        opened = host.run([gio, "open", clicked], env=browser, timeout=60, check=False)  # as a browser does
        assert opened.returncode == 0, opened.stderr
        joined = wait_shown(tmp_path / "report", "JoinDialog", timeout=60, proc=app)
        assert joined["fields"] == [clicked]
        second = host.run([launcher, typed], env=env, timeout=60, check=False)
        assert second.returncode == 0, second.stderr  # handed over (it waits while the join dialog is open)
        time.sleep(max(0.0, 5.0 - (time.monotonic() - up_at)))
        assert app.poll() is None, "the app quit by itself"
        _, err = stop(app)
    assert "Traceback" not in err, err[-3000:]
    windows = [line for line in (tmp_path / "report").read_text().splitlines() if '"MainWindow"' in line]
    assert len(windows) == 1, "a second start opened a window of its own"


def test_a_link_on_a_new_profile_opens_the_first_run_dialog(installed: Path, tmp_path: Path) -> None:
    require(netns_available(), "the app starts its node and mDNS, so it runs in a network namespace: needs root")
    env = app_env(tmp_path / "new-profile", tmp_path / "report", tmp_path / "cache")
    with NetnsLan(1) as lan:
        app = lan.hosts[0].popen([str(installed / "usr" / "bin" / "hubbub"), invite_link()], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        welcome = wait_shown(tmp_path / "report", "NameDialog", timeout=90, proc=app)
        _, err = stop(app)
    assert welcome["title"] == "Welcome to Hubbub"
    assert "Traceback" not in err, err[-3000:]
