"""hubbub:// links: which kind a link is, the damaged ones refused with a sentence, and the CLI taking one in place of a command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from nacl.signing import SigningKey

from app.cli import split_link
from app.errors import HubbubError
from app.invite import Invite
from app.links import JoinLink, MessageLink, is_link, message_link, parse_link
from tests.conftest import ROOT

ROOM = bytes(range(32))


def invite_link(name: str = "LAN party") -> str:
    inviter = bytes(SigningKey.generate().verify_key)
    return Invite(ROOM, "inv1", bytes(32), 2_000_000_000_000, name, inviter).link()


def test_a_join_link_is_an_invite_for_its_room() -> None:
    link = invite_link()
    parsed = parse_link(f"  {link}\n")
    assert parsed == JoinLink(link, ROOM, "LAN party")


def test_a_message_link_names_a_room_and_a_message() -> None:
    link = message_link(ROOM, "el64YzoB3")
    assert link == f"hubbub://message/{ROOM.hex()}/el64YzoB3"
    assert parse_link(link) == MessageLink(ROOM, "el64YzoB3")
    assert parse_link(link.upper().replace("MESSAGE", "message").replace("EL64YZOB3", "el64YzoB3") + "/") == \
        MessageLink(ROOM, "el64YzoB3")


@pytest.mark.parametrize("text, words", [
    ("hubbub://message/abc/def", "damaged"),
    (f"hubbub://message/{ROOM.hex()}/", "damaged"),
    (f"hubbub://message/{ROOM.hex()}/a<script>", "damaged"),
    ("hubbub://join/AAAA", "damaged"),
    ("hubbub://call/someone", "does not know this kind"),
    ("https://example.com/", "not a Hubbub link"),
    ("hubbub://join/" + "A" * 5000, "far too long"),
])
def test_a_bad_link_is_one_sentence(text: str, words: str) -> None:
    with pytest.raises(HubbubError) as caught:
        parse_link(text)
    message = str(caught.value)
    assert words in message and message.endswith(".") and "\n" not in message


def test_a_link_in_place_of_a_command_is_taken_out_and_commands_are_left_alone() -> None:
    link = invite_link()
    assert split_link([link]) == (link, [])
    assert split_link(["--profile", "/tmp/p", "-v", link]) == (link, ["--profile", "/tmp/p", "-v"])
    assert split_link(["join", link]) == (None, ["join", link])
    assert split_link(["send", "room", link]) == (None, ["send", "room", link])
    assert split_link(["--profile", "hubbub://odd-folder-name", "room", "list"]) == \
        (None, ["--profile", "hubbub://odd-folder-name", "room", "list"])
    assert is_link("HUBBUB://join/x") and not is_link("join")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout == f"hubbub {version('hubbub')}\n"


def test_a_link_with_a_command_or_without_a_desktop_is_one_sentence() -> None:
    link = invite_link()
    both = run_cli(link, "room", "list")
    assert both.returncode == 1 and both.stderr.count("\n") == 1 and "cannot go with a command" in both.stderr
    headless = run_cli(link)  # app.cli alone has no desktop app to open the link in
    assert headless.returncode == 1 and "needs the desktop app" in headless.stderr
