"""The one command that feeds Briefcase: merges pyproject.toml and briefcase.toml, then runs `briefcase ARGS`.

Briefcase reads only the pyproject.toml of the directory it runs in. This writes one to
build/briefcase/ (the project's pyproject.toml, then briefcase.toml's [tool.briefcase] tables),
links in the paths briefcase.toml names, runs `python -m briefcase ARGS` there, and puts
packaging/hubbub.desktop into the bundle in place of the template's entry (which has no categories).

    python packaging/feed_briefcase.py --print                 # the merged pyproject.toml
    python packaging/feed_briefcase.py create linux system     # any Briefcase command
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "build" / "briefcase"
DESKTOP_ENTRY = ROOT / "packaging" / "hubbub.desktop"


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


def named_paths(config: dict[str, Any]) -> list[str]:
    """The repository paths that [tool.briefcase] names: each app's sources and icon prefix."""
    paths: list[str] = []
    for app in config["tool"]["briefcase"].get("app", {}).values():
        paths += app.get("sources", [])
        if "icon" in app:
            paths.append(app["icon"])
    return paths


def prepare(workdir: Path = WORKDIR, root: Path = ROOT) -> Path:
    """Write the merged pyproject.toml to `workdir` and link the top-level paths it names."""
    text = merged_text(root)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "pyproject.toml").write_text(text, encoding="utf-8")
    for top in sorted({Path(p).parts[0] for p in named_paths(tomllib.loads(text))}):
        link = workdir / top
        if not link.is_symlink():
            link.symlink_to(root / top, target_is_directory=(root / top).is_dir())
    return workdir


def install_desktop_entry(workdir: Path = WORKDIR) -> list[Path]:
    """Replace the desktop entries in any Linux system bundle under `workdir` with ours."""
    written = []
    for apps_dir in workdir.glob("build/*/linux/*/*/usr/share/applications"):
        for old in apps_dir.glob("*.desktop"):
            old.unlink()
        written.append(Path(shutil.copy(DESKTOP_ENTRY, apps_dir / DESKTOP_ENTRY.name)))
    return written


def main(argv: list[str]) -> int:
    if argv == ["--print"]:
        print(merged_text(), end="")
        return 0
    if importlib.util.find_spec("briefcase") is None:
        print("feed_briefcase: Briefcase is not installed in this Python; `make venv` installs it "
              "(it is in the [test] extras).", file=sys.stderr)
        return 1
    workdir = prepare()
    status = subprocess.call([sys.executable, "-m", "briefcase", *argv], cwd=workdir)
    install_desktop_entry(workdir)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
