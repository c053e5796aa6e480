"""Helpers for tests that run the real `hubbub` script: run it, check a success or a one-sentence refusal, make profiles."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from nacl.signing import SigningKey

from crdt.private_file import write_private
from crdt.schema import short_id

ROOT = Path(__file__).resolve().parents[2]
HUBBUB = ROOT / ".venv" / "bin" / "hubbub"


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "HUBBUB_PROFILE"}


def hub(profile: Path | None, *args: str, timeout: float = 30, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [str(HUBBUB)] + (["--profile", str(profile)] if profile is not None else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env(), cwd=str(ROOT), input=stdin)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) > 15 and re.search(r"[.)]$", lines[0].strip()), lines[0]
    return lines[0]


def profile_with_dash_id(path: Path) -> SigningKey:
    """A new profile whose identity's short id, and so every id it writes, starts with `-`."""
    while True:
        key = SigningKey.generate()
        if short_id(bytes(key.verify_key)).startswith("-"):
            break
    path.mkdir(parents=True)
    os.chmod(path, 0o700)
    write_private(path / "identity.key", bytes(key), exclusive=True)
    return key


def start_node(profile: Path, log_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    """`hubbub node` on loopback with mDNS off (the network rule), its log in `log_path`; returns it and its port."""
    log = log_path.open("w")
    proc = subprocess.Popen([str(HUBBUB), "--profile", str(profile), "node", "--no-mdns", "--host", "127.0.0.1", *extra],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env())
    log.close()  # the child holds its own copy
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening 127.0.0.1:"), (line, log_path.read_text())
    return proc, int(line.rsplit(":", 1)[1])


def stop_node(proc: subprocess.Popen[str], profile: Path, log_path: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"`hubbub node` did not stop within 30 s of SIGTERM:\n{log_path.read_text()[-4000:]}") from None
    assert code == 0, log_path.read_text()
    assert not (profile / "node.sock").exists(), "the control socket outlived its node"
