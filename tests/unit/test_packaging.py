"""The Briefcase packaging: briefcase.toml, what packaging/feed_briefcase.py merges, the icons, the desktop entry."""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP = "hubbub"
# The icon sizes Briefcase's Linux template installs into share/icons/hicolor/SIZExSIZE/apps/.
ICON_SIZES = {16, 32, 64, 128, 256, 512}
# A [project] field, and the names Briefcase gives the same value in [tool.briefcase]
# (briefcase.config.merge_pep621_config): writing one of them in briefcase.toml would repeat it.
BRIEFCASE_NAMES = {
    "name": {"name", "project_name"},
    "requires-python": {"requires-python", "requires_python"},
    "license-files": {"license-files", "license_files"},
    "urls": {"urls", "url"},
    "authors": {"authors", "author", "author_email"},
    "dependencies": {"dependencies", "requires"},
    "optional-dependencies": {"optional-dependencies", "test_requires"},
}


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def feed_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feed_briefcase", PACKAGING / "feed_briefcase.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keys_and_strings(node: object) -> tuple[set[str], set[str]]:
    """Every table key and every string value in a parsed TOML document, at any depth."""
    keys: set[str] = set()
    strings: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            keys.add(key)
            k, s = keys_and_strings(value)
            keys |= k
            strings |= s
    elif isinstance(node, list):
        for item in node:
            k, s = keys_and_strings(item)
            keys |= k
            strings |= s
    elif isinstance(node, str):
        strings.add(node)
    return keys, strings


def merged() -> dict[str, Any]:
    """The pyproject.toml that the feed command gives Briefcase, as printed by `--print`."""
    out = subprocess.run([sys.executable, str(PACKAGING / "feed_briefcase.py"), "--print"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return tomllib.loads(out.stdout)


def missing_briefcase_keys(config: dict[str, Any]) -> list[str]:
    """What Briefcase's parser, GlobalConfig, DraftAppConfig and the .deb packager insist on."""
    project = config.get("project", {})
    briefcase = config.get("tool", {}).get("briefcase", {})
    missing = [f"project.{k}" for k in ("name", "version", "description", "license") if k not in project]
    if "bundle" not in briefcase:
        missing.append("tool.briefcase.bundle")
    app = briefcase.get("app", {}).get(APP)
    if app is None:
        return [*missing, f"tool.briefcase.app.{APP}"]
    missing += [f"app.{k}" for k in ("formal_name", "sources", "long_description", "icon") if k not in app]
    if APP.replace("-", "_") not in {s.rsplit("/", 1)[-1] for s in app.get("sources", [])}:
        missing.append(f"a source package named {APP!r} (Briefcase runs `python -m {APP}`)")
    return missing


def test_briefcase_toml_parses_and_holds_only_tool_briefcase() -> None:
    config = load(ROOT / "briefcase.toml")
    assert list(config) == ["tool"] and list(config["tool"]) == ["briefcase"]
    assert list(config["tool"]["briefcase"]["app"]) == [APP]
    assert "briefcase" not in load(ROOT / "pyproject.toml").get("tool", {})


def test_no_key_or_value_is_written_in_both_files() -> None:
    project = load(ROOT / "pyproject.toml")["project"]
    keys, strings = keys_and_strings(load(ROOT / "briefcase.toml"))
    for field in project:
        clash = BRIEFCASE_NAMES.get(field, {field}) & keys
        assert not clash, f"briefcase.toml sets {clash}, which pyproject.toml's [project].{field} holds"
    _, project_strings = keys_and_strings(project)
    assert not project_strings & strings
    for value in project_strings:
        if len(value) >= 12:
            assert not any(value in s for s in strings), f"briefcase.toml repeats {value!r}"


def test_every_path_briefcase_toml_names_exists() -> None:
    app = load(ROOT / "briefcase.toml")["tool"]["briefcase"]["app"][APP]
    for source in app["sources"]:
        path = ROOT / source
        assert path.is_dir(), source
        marker = "__main__.py" if source.startswith("packaging/") else "__init__.py"
        assert (path / marker).is_file(), f"{source} has no {marker}"
    for size in ICON_SIZES:
        assert (ROOT / f"{app['icon']}-{size}.png").is_file(), f"{app['icon']}-{size}.png"


def test_packaging_is_not_a_python_package() -> None:
    assert not list(PACKAGING.rglob("__init__.py")), "an __init__.py in packaging/ shadows the real `packaging`"


def test_merged_config_is_the_union_and_has_what_briefcase_requires() -> None:
    config = merged()
    assert config["project"] == load(ROOT / "pyproject.toml")["project"]
    assert config["tool"]["briefcase"] == load(ROOT / "briefcase.toml")["tool"]["briefcase"]
    assert missing_briefcase_keys(config) == []
    broken = {"project": {"name": APP}, "tool": {"briefcase": {"app": {APP: {"sources": ["app"]}}}}}
    assert missing_briefcase_keys(broken) == [
        "project.version", "project.description", "project.license", "tool.briefcase.bundle",
        "app.formal_name", "app.long_description", "app.icon",
        f"a source package named {APP!r} (Briefcase runs `python -m {APP}`)"]


def test_briefcase_itself_accepts_the_merged_config(tmp_path: Path) -> None:
    require(importlib.util.find_spec("briefcase") is not None, "briefcase is not installed (it is in [test] extras)")
    from briefcase.commands.base import create_config
    from briefcase.config import DraftAppConfig, GlobalConfig, parse_config
    from briefcase.console import Console

    workdir = feed_script().prepare(tmp_path / "work")  # with LICENSE beside it, as Briefcase checks
    global_config, apps = parse_config(workdir / "pyproject.toml", platform="linux",
                                       output_format="system", console=Console(input_enabled=False))
    create_config(klass=GlobalConfig, config=global_config, msg="Global configuration")
    app = create_config(klass=DraftAppConfig, config=apps[APP], msg=APP)
    project = load(ROOT / "pyproject.toml")["project"]
    assert app.bundle_identifier == f"org.hubbub.{APP}"
    assert app.module_name == APP and app.formal_name == "Hubbub"
    assert str(app.version) == project["version"] and app.description == project["description"]
    assert app.requires == project["dependencies"]
    assert app.license == "MIT" and app.long_description
    assert app.url == project["urls"]["Homepage"]
    assert (app.author, app.author_email) == (project["authors"][0]["name"], project["authors"][0]["email"])
    assert {"libopus0", "libportaudio2"} <= set(app.debian["system_runtime_requires"])


def makefile_system_packages() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^SYSTEM_PACKAGES\s*:=(.*)$", text, re.MULTILINE)
    assert match is not None
    return set(match.group(1).split())


def test_runtime_system_packages_are_the_makefiles() -> None:
    debian = load(ROOT / "briefcase.toml")["tool"]["briefcase"]["app"][APP]["linux"]["system"]["debian"]
    runtime = set(debian["system_runtime_requires"])
    assert {"libopus0", "libportaudio2", "libxcb-cursor0", "libxkbcommon-x11-0"} <= runtime
    assert runtime <= makefile_system_packages(), runtime - makefile_system_packages()


def test_desktop_entry_validates_and_matches_the_app() -> None:
    path = PACKAGING / f"{APP}.desktop"
    entry = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(path, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    config = load(ROOT / "briefcase.toml")["tool"]["briefcase"]
    assert desktop["Type"] == "Application"
    assert desktop["Name"] == config["app"][APP]["formal_name"]
    assert desktop["Icon"] == f"{config['bundle']}.{APP}"
    assert desktop["Exec"].split()[0] in load(ROOT / "pyproject.toml")["project"]["scripts"]
    assert desktop["Categories"].rstrip(";").split(";") == ["Network", "Chat", "InstantMessaging"]
    tool = shutil.which("desktop-file-validate")
    require(tool is not None, "desktop-file-validate (Debian: desktop-file-utils) is not installed")
    assert tool is not None
    result = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def png_size(path: Path) -> tuple[int, int, int]:
    """Width, height and colour type from a PNG's IHDR chunk."""
    data = path.read_bytes()[:29]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path.name} is not a PNG"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_png_icons_have_the_sizes_their_names_claim() -> None:
    icons = sorted((PACKAGING / "icons").glob(f"{APP}-*.png"))
    claimed = {int(re.fullmatch(rf"{APP}-(\d+)\.png", p.name).group(1)) for p in icons}  # type: ignore[union-attr]
    assert claimed == ICON_SIZES
    for icon in icons:
        size = int(icon.stem.rsplit("-", 1)[1])
        assert png_size(icon) == (size, size, 6), f"{icon.name} is {png_size(icon)}, not {size}x{size} RGBA"
    svg = ET.parse(PACKAGING / "icons" / f"{APP}.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 512 512"


def test_app_module_runs_ui_entry(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGING), str(ROOT)]), "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", APP, "--help"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: hubbub")
    assert list((tmp_path / "hubbub" / "bytecode").rglob("cli*.pyc")), "no bytecode in the user's cache"


def test_feed_refuses_a_briefcase_toml_that_would_change_pyproject(tmp_path: Path) -> None:
    feed = feed_script()
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    good = (ROOT / "briefcase.toml").read_text(encoding="utf-8")
    (tmp_path / "briefcase.toml").write_text(good, encoding="utf-8")
    assert feed.merged_text(tmp_path).endswith(good)
    (tmp_path / "briefcase.toml").write_text('strict = false\n' + good, encoding="utf-8")
    with pytest.raises(SystemExit, match="only"):
        feed.merged_text(tmp_path)
    (tmp_path / "briefcase.toml").write_text(good + '\n[tool.mypy]\nstrict = false\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="only"):
        feed.merged_text(tmp_path)


def test_feed_prepares_a_workdir_where_every_named_path_resolves(tmp_path: Path) -> None:
    feed = feed_script()
    workdir = feed.prepare(tmp_path / "work")
    config = load(workdir / "pyproject.toml")
    assert config["project"]["name"] == APP
    named = feed.named_paths(config)
    assert {"LICENSE", "CHANGELOG.md"} <= set(named)  # Briefcase reads both beside pyproject.toml
    for path in named:
        target = workdir / path
        assert target.exists() or all((workdir / f"{path}-{s}.png").is_file() for s in ICON_SIZES), path
    feed.prepare(tmp_path / "work")  # a second run keeps the links


def test_feed_puts_our_desktop_entry_metainfo_and_relay_unit_into_the_bundle(tmp_path: Path) -> None:
    feed = feed_script()
    usr_share = tmp_path / "build" / APP / "debian" / "bookworm" / f"{APP}-0.1.0" / "usr" / "share"
    apps = usr_share / "applications"
    apps.mkdir(parents=True)
    (apps / f"org.hubbub.{APP}.desktop").write_text("[Desktop Entry]\nCategories=Utility;\n")
    metainfo = usr_share / "metainfo" / f"org.hubbub.{APP}.metainfo.xml"
    unit = usr_share.parent / "lib" / "systemd" / "system" / "hubbub-relay.service"
    assert feed.install_freedesktop_files(tmp_path) == [unit, apps / f"{APP}.desktop", metainfo]
    assert [p.name for p in apps.iterdir()] == [f"{APP}.desktop"]
    assert (apps / f"{APP}.desktop").read_bytes() == (PACKAGING / f"{APP}.desktop").read_bytes()
    assert metainfo.read_bytes() == (PACKAGING / metainfo.name).read_bytes()
    assert unit.read_bytes() == (PACKAGING / "relay" / unit.name).read_bytes()


def test_the_desktop_entry_opens_hubbub_links() -> None:
    entry = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / f"{APP}.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["MimeType"].rstrip(";").split(";") == ["x-scheme-handler/hubbub"]
    assert desktop["Exec"] == "hubbub %u"  # %u: one URL, the link, as `hubbub LINK`


def metainfo() -> ET.Element:
    return ET.parse(PACKAGING / f"org.hubbub.{APP}.metainfo.xml").getroot()


def test_metainfo_matches_the_project_and_this_release() -> None:
    root = metainfo()
    project = load(ROOT / "pyproject.toml")["project"]
    config = load(ROOT / "briefcase.toml")["tool"]["briefcase"]
    assert root.findtext("id") == f"{config['bundle']}.{APP}"  # the icon's name too
    assert root.findtext("name") == config["app"][APP]["formal_name"]
    assert root.findtext("project_license") == project["license"]
    assert root.findtext("launchable") == f"{APP}.desktop"
    assert root.findtext("url[@type='homepage']") == project["urls"]["Homepage"]
    assert root.findtext("url[@type='bugtracker']") == project["urls"]["Issues"]
    assert root.findtext("developer_name") == project["authors"][0]["name"]
    releases = root.findall("releases/release")
    assert releases[0].get("version") == project["version"]
    assert f"## {project['version']} ({releases[0].get('date')})" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert releases[0].find("description") is not None
    shot = root.find("screenshots/screenshot/image")
    assert shot is not None and shot.text is not None
    assert shot.text.endswith("/docs/screenshot.png") and shot.text.startswith("https://raw.githubusercontent.com/"
                                                                              "hubbub-chat/hubbub/")
    assert (ROOT / "docs" / "screenshot.png").is_file()
    assert png_size(ROOT / "docs" / "screenshot.png")[:2] == (int(shot.get("width", 0)), int(shot.get("height", 0)))


def test_metainfo_passes_appstreamcli_validate() -> None:
    tool = shutil.which("appstreamcli")
    require(tool is not None, "appstreamcli (Debian: appstream) is not installed")
    assert tool is not None
    # --no-net: the screenshot and homepage URLs are not fetched (these machines have no route to them).
    result = subprocess.run([tool, "validate", "--no-net", "--pedantic", str(PACKAGING / f"org.hubbub.{APP}.metainfo.xml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "W:" not in result.stdout and "E:" not in result.stdout, result.stdout


def test_the_package_metadata_names_a_maintainer_homepage_and_license_files() -> None:
    project = load(ROOT / "pyproject.toml")["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    author = project["authors"][0]
    assert author["name"] and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", author["email"])
    assert project["urls"]["Homepage"].startswith("https://github.com/hubbub-chat/hubbub")
    long_description = load(ROOT / "briefcase.toml")["tool"]["briefcase"]["app"][APP]["long_description"]
    assert max(len(line) for line in long_description.splitlines()) <= 79  # Debian's extended description


def make_template_bundle(where: Path, branches: list[str]) -> Path:
    """A git bundle like the vendored template's: a cookiecutter.json, one branch per name."""
    repo = where / "template"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (repo / "cookiecutter.json").write_text("{}")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "template"], check=True)
    for branch in branches:
        subprocess.run([*git, "branch", branch], check=True)
    bundle = where / "template.bundle"
    subprocess.run([*git, "bundle", "create", str(bundle), "--all"], check=True, capture_output=True)
    return bundle


def test_the_template_branch_is_briefcases_own_or_the_newest_older_one() -> None:
    feed = feed_script()
    branches = ["main", "console-app", "v0.3.26", "v0.4.0", "v0.4.1", "v0.10.0"]
    assert feed.template_branch(branches, "0.4.1") == "v0.4.1"
    assert feed.template_branch(branches, "0.4.7") == "v0.4.1"
    assert feed.template_branch(branches, "0.9.2.dev3") == "v0.4.1"
    assert feed.template_branch(branches, "0.10.0") == "v0.10.0"
    with pytest.raises(SystemExit, match="no branch for Briefcase 0.2.0"):
        feed.template_branch(branches, "0.2.0")


def test_the_template_override_clones_the_bundle_only_when_asked(tmp_path: Path) -> None:
    require(importlib.util.find_spec("briefcase") is not None and shutil.which("git") is not None,
            "briefcase (the [test] extras) and git are needed")
    from briefcase import __version__ as briefcase_version

    feed = feed_script()
    with feed.template_overrides({}) as none:
        assert none == []
    with pytest.raises(SystemExit, match="not a file"):
        with feed.template_overrides({feed.TEMPLATE_ENV: str(tmp_path / "missing.bundle")}):
            pass
    bundle = make_template_bundle(tmp_path, ["v0.3.26", "v0.4.0"])
    with feed.template_overrides({feed.TEMPLATE_ENV: str(bundle)}) as options:
        assert options[0] == options[2] == "-C"
        template = tomllib.loads(options[1])["template"]
        branch = tomllib.loads(options[3])["template_branch"]
        assert branch == feed.template_branch(["main", "v0.3.26", "v0.4.0"], briefcase_version)
        clone = Path(template.removeprefix("file://"))
        assert template.startswith("file:///") and clone.name == feed.TEMPLATE_CLONE
        heads = subprocess.run(["git", "-C", str(clone), "branch", "--format=%(refname:short)"],
                               capture_output=True, text=True, check=True).stdout.split()
        assert sorted(heads) == ["main", "v0.3.26", "v0.4.0"]  # every branch, for Briefcase to check out
    assert not clone.exists()  # the clone was temporary


def test_ci_points_briefcase_at_the_vendored_template_only_when_it_exists() -> None:
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "HUBBUB_BRIEFCASE_TEMPLATE" in text and "../shared/vendor/briefcase-linux-system-template.bundle" in text
    assert re.search(r"if \[ -f .*briefcase-linux-system-template\.bundle", text)


def test_tidying_the_bundle_leaves_only_programs_executable(tmp_path: Path) -> None:
    cc = shutil.which("cc")
    require(cc is not None, "a C compiler (Debian: build-essential) is needed")
    assert cc is not None
    feed = feed_script()
    root = tmp_path / "build" / APP / "debian" / "bookworm" / f"{APP}-0.1.0"
    lib = root / "usr" / "lib" / APP / "app_packages" / "pkg"
    lib.mkdir(parents=True)
    (tmp_path / "m.c").write_text("int answer(void) { return 42; }\n")
    subprocess.run([cc, "-g", "-shared", "-fPIC", "-o", str(lib / "_m.cpython-311-x86_64-linux-gnu.so"),
                    str(tmp_path / "m.c")], check=True)
    files = {"_m.cpython-311-x86_64-linux-gnu.so": None, "mod.py": "x = 1\n", "LICENSE": "MIT\n",
             "tool": "#!/bin/sh\necho hi\n", "libfake.so": "/* a linker script */\n"}
    for name, text in files.items():
        if text is not None:
            (lib / name).write_text(text)
        (lib / name).chmod(0o755)
    library = lib / "_m.cpython-311-x86_64-linux-gnu.so"
    before = library.read_bytes()
    assert feed.tidy_bundle(tmp_path) == [library]
    assert library.read_bytes() == before  # unstripped: strip breaks some of the wheels' patchelf'd libraries
    modes = {name: (lib / name).stat().st_mode & 0o777 for name in files}
    assert modes == {"_m.cpython-311-x86_64-linux-gnu.so": 0o644, "mod.py": 0o644, "LICENSE": 0o644,
                     "tool": 0o755, "libfake.so": 0o644}
    overrides = root / "usr" / "share" / "lintian" / "overrides" / APP
    assert overrides.read_bytes() == (PACKAGING / "lintian-overrides").read_bytes()
