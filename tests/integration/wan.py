"""The internet in network namespaces: a public switch with a relay host, two home routers that NAT, a host behind each.

    with Wan(tmp_path, symmetric_b=True, block_udp=False) as wan:
        relay = wan.start_relay()              # `hubbub relay serve` + coturn on the relay host
        a = Probe(wan.home_a, "--relay", relay, ...)   # tests/integration/netns.py's Probe works on any Host
        wan.coturn_log.read_text()

Layout (every namespace is made here and deleted on exit; nothing touches the root namespace)::

        home A 10.1.0.2 ── lan0 10.1.0.1 [router A] 198.18.0.11 ──┐
                                                                   ├── br0 (switch) ── 198.18.0.2 [relay host]
        home B 10.2.0.2 ── lan0 10.2.0.1 [router B] 198.18.0.12 ──┘                   relay :7447, coturn :3478

- The "public" addresses are in 198.18.0.0/15 (the benchmarking range), not a private range, so
  coturn's `--denied-peer-ip` for the private, loopback, link-local and CGNAT ranges does not
  deny them. The relay host has a default route, as a real server does: without one, coturn's
  send to a private host candidate fails with ENETUNREACH, and coturn then closes the whole
  allocation (both peers' allocations die within 50 ms; every CHANNEL_BIND then gets 438, then
  400). With the denied ranges that pair gets 403 instead and the allocation lives.
- Each router masquerades what leaves its WAN port (nftables); router B with
  `random,fully-random`, so its mapping changes per destination (a symmetric NAT: hole punching
  fails). Both drop `ct state new` arriving on the WAN port (input and forward): without it, ICE
  checks crossing at the same moment leave conntrack entries that clash with the other side's
  mapping, and cone-to-cone never connects.
- No multicast crosses a router (nothing routes it), and the homes have no route to each other
  but through their NATs: each router's only route beyond its LAN is its default on the switch.
- `block_udp=True` drops every UDP packet a home sends out (forward chain on each router), so
  only TURN over TCP gets through. `udp_max_b=N` drops only home B's UDP packets longer than N
  bytes: STUN and TURN's small requests pass (UDP looks fine), DTLS's certificates do not.

Needs root, iproute2, nftables and coturn (`turnserver`); `wan_available()` says whether they are there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType

from tests.integration.netns import Host, _ip
from tests.integration.relay_proc import RelayProcess

PUBLIC_PREFIX = "198.18.0"
RELAY_IP = f"{PUBLIC_PREFIX}.2"
RELAY_PORT = 7447
TURN_PORT = 3478
DENIED = ("10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255",
          "127.0.0.0-127.255.255.255", "169.254.0.0-169.254.255.255", "100.64.0.0-100.127.255.255",
          "0.0.0.0-0.255.255.255")
"""coturn's --denied-peer-ip: private, loopback, link-local, CGNAT and "this network" ranges."""


def wan_available() -> bool:
    """True when this process can build the topology (root, ip, nft, turnserver, setpriv)."""
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("ip", "nft", "turnserver", "setpriv"))


def _nft(netns: str, script: str) -> None:
    subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=script, text=True, check=True,
                   capture_output=True, timeout=20)


def _sysctl(netns: str, setting: str) -> None:
    subprocess.run(["ip", "netns", "exec", netns, "sysctl", "-qw", setting], check=True, capture_output=True,
                   timeout=20)


def router_rules(symmetric: bool, block_udp: bool, udp_max: int | None = None) -> str:
    """The nftables ruleset of one home router (WAN port eth0, LAN port lan0)."""
    masquerade = "masquerade random,fully-random" if symmetric else "masquerade"
    block = '        iifname "lan0" meta l4proto udp drop\n' if block_udp else ""
    if udp_max is not None:
        block += f'        iifname "lan0" meta l4proto udp meta length > {udp_max} drop\n'
    return f"""
table ip nat {{
    chain post {{ type nat hook postrouting priority srcnat; policy accept;
        oifname "eth0" {masquerade}
    }}
}}
table inet filter {{
    chain input {{ type filter hook input priority filter; policy accept;
        iifname "eth0" ct state new drop
    }}
    chain forward {{ type filter hook forward priority filter; policy accept;
        iifname "eth0" ct state new drop
{block}    }}
}}
"""


class Wan:
    """The topology above; `home_a`, `home_b`, `relay_host` are `Host`s (popen, run, python)."""

    def __init__(self, workdir: Path, *, symmetric_b: bool = True, block_udp: bool = False,
                 udp_max_b: int | None = None) -> None:
        tag = uuid.uuid4().hex[:6]
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.symmetric_b = symmetric_b
        self.block_udp = block_udp
        self.udp_max_b = udp_max_b
        """Router B drops UDP packets its home sends that are longer than this (IP length)."""
        self.switch = f"hbsw-{tag}"
        self.router_a, self.router_b = f"hbra-{tag}", f"hbrb-{tag}"
        self.relay_host = Host(0, f"hbrl-{tag}", RELAY_IP, self.switch)
        self.home_a = Host(1, f"hbha-{tag}", "10.1.0.2", self.router_a)
        self.home_b = Host(2, f"hbhb-{tag}", "10.2.0.2", self.router_b)
        self.turn_secret = os.urandom(16).hex()
        self.secret_file = workdir / "turn-secret"
        self.coturn_dir = Path(tempfile.mkdtemp(prefix=f"hubbub-coturn-{tag}-"))
        """coturn's own files (log, pid, db): outside `workdir`, whose parents user nobody may not enter."""
        self.coturn_log = self.coturn_dir / "coturn.log"
        """coturn's log while it runs; copied into `workdir` on close."""
        self.relay: RelayProcess | None = None
        self._coturn: subprocess.Popen[bytes] | None = None
        self._created: list[str] = []

    @property
    def hosts(self) -> list[Host]:
        return [self.relay_host, self.home_a, self.home_b]

    def __enter__(self) -> Wan:
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _netns(self, name: str) -> None:
        _ip("netns", "add", name)
        self._created.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def _veth(self, a_ns: str, a_if: str, b_ns: str, b_if: str) -> None:
        _ip("link", "add", a_if, "netns", a_ns, "type", "veth", "peer", "name", b_if, "netns", b_ns)
        _ip("-n", a_ns, "link", "set", a_if, "up")
        _ip("-n", b_ns, "link", "set", b_if, "up")

    def _create(self) -> None:
        for name in (self.switch, self.router_a, self.router_b, *(h.netns for h in self.hosts)):
            self._netns(name)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for index, (ns, ip) in enumerate(((self.relay_host.netns, RELAY_IP),
                                          (self.router_a, f"{PUBLIC_PREFIX}.11"),
                                          (self.router_b, f"{PUBLIC_PREFIX}.12"))):
            port = f"s{index}"
            self._veth(ns, "eth0", self.switch, port)
            _ip("-n", self.switch, "link", "set", port, "master", "br0")
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
            _ip("-n", ns, "route", "add", "default", "dev", "eth0")  # every "public" host has a default route
        for home, router, symmetric, udp_max in ((self.home_a, self.router_a, False, None),
                                                 (self.home_b, self.router_b, self.symmetric_b, self.udp_max_b)):
            subnet = home.ip.rsplit(".", 1)[0]
            self._veth(router, "lan0", home.netns, "eth0")
            _ip("-n", router, "addr", "add", f"{subnet}.1/24", "dev", "lan0")
            _ip("-n", home.netns, "addr", "add", f"{home.ip}/24", "dev", "eth0")
            _ip("-n", home.netns, "route", "add", "default", "via", f"{subnet}.1")
            _sysctl(router, "net.ipv4.ip_forward=1")
            _nft(router, router_rules(symmetric, self.block_udp, udp_max))

    def start_coturn(self) -> None:
        """coturn on the relay host, unprivileged (nobody) on a high port, REST API auth, private peers denied."""
        self.secret_file.write_text(self.turn_secret + "\n")
        shutil.chown(self.coturn_dir, "nobody", "nogroup")
        denied = [f"--denied-peer-ip={r}" for r in DENIED]
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "turnserver", "-n", "--listening-ip", RELAY_IP, "--relay-ip", RELAY_IP,
                "--listening-port", str(TURN_PORT), "--min-port", "49152", "--max-port", "65535",
                "--use-auth-secret", f"--static-auth-secret={self.turn_secret}", "--realm", "hubbub.test",
                "--no-cli", "--no-tls", "--no-dtls", "--no-multicast-peers", "--no-software-attribute",
                *denied, "--log-file", str(self.coturn_log), "--simple-log", "--no-stdout-log",
                "--pidfile", str(self.coturn_dir / "coturn.pid"), "--db", str(self.coturn_dir / "turndb"), "-v"]
        self._coturn = subprocess.Popen(self.relay_host.command(argv), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listening = self.relay_host.run(["ss", "-lntu"], check=False).stdout
            if f"{RELAY_IP}:{TURN_PORT}" in listening:
                return
            if self._coturn.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"coturn did not start; log: {self.coturn_log.read_text()[-2000:]}")

    def start_relay(self, *args: str, turn: bool = True, module: str | None = None,
                    env: dict[str, str] | None = None) -> str:
        """coturn (if `turn`) and `hubbub relay serve` on the relay host; returns the relay's address.

        `module`, `env`: a stand-in for the relay's serve module, and its environment (RelayProcess)."""
        extra: list[str] = []
        if turn:
            if self._coturn is None:
                self.start_coturn()
            extra = ["--turn", f"turn:{RELAY_IP}:{TURN_PORT}", "--turn-secret-file", str(self.secret_file)]
        if self.relay is None:
            self.relay = RelayProcess(self.workdir / "relay-data", *extra, *args, listen=f"{RELAY_IP}:{RELAY_PORT}",
                                      argv_prefix=self.relay_host.command([]), via_hubbub=True, module=module,
                                      env=env)
        return self.relay.start()

    def close(self) -> None:
        """Stop every process started here, then delete every namespace (idempotent)."""
        if self.relay is not None:
            self.relay.stop()
        for host in self.hosts:
            host.stop_processes()
        if self._coturn is not None and self._coturn.poll() is None:
            os.killpg(self._coturn.pid, 15)
            try:
                self._coturn.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self._coturn.pid, 9)
        for name in reversed(self._created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)
        self._created.clear()
        if self.coturn_dir.exists():
            if self.coturn_log.exists():
                shutil.copyfile(self.coturn_log, self.workdir / "coturn.log")
            shutil.rmtree(self.coturn_dir, ignore_errors=True)
