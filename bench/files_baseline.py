"""Same-run floors for `bench files`: the same bytes over a bare TCP socket, and over TCP with libsodium's
secretstream written to disk (what a file transfer cannot beat on this machine).

    python -m bench.files_baseline serve --host IP --port N --mode raw|secure [--out FILE]   # prints "listening"
    python -m bench.files_baseline send IP:N --mode raw|secure --path FILE                    # prints JSON seconds

The sender times from connecting until the receiver's one-byte answer after the last byte (after the write, for
`secure`). The key is fixed: the floor measures moving and sealing bytes, not a handshake.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import time

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
)

KEY = b"k" * 32
BLOCK = 1 << 20
_LEN = struct.Struct(">IQ")


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        r = conn.recv_into(view[got:])
        if not r:
            raise ConnectionError("peer closed early")
        got += r
    return bytes(buf)


def serve(host: str, port: int, mode: str, out: str | None) -> None:
    srv = socket.create_server((host, port))
    print("listening", flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    total = struct.unpack(">Q", _recv_exactly(conn, 8))[0]
    if mode == "raw":
        buf = bytearray(BLOCK)
        got = 0
        while got < total:
            r = conn.recv_into(buf)
            if not r:
                break
            got += r
    else:
        state = crypto_secretstream_xchacha20poly1305_state()
        crypto_secretstream_xchacha20poly1305_init_pull(state, _recv_exactly(conn, 24), KEY)
        got = 0
        with open(out or "/dev/null", "wb") as f:
            while got < total:
                length = struct.unpack(">I", _recv_exactly(conn, 4))[0]
                plain, _tag = crypto_secretstream_xchacha20poly1305_pull(state, _recv_exactly(conn, length))
                f.write(plain)
                got += len(plain)
    conn.sendall(b"!")
    conn.close()


def send(target: str, mode: str, path: str) -> float:
    host, port = target.rsplit(":", 1)
    with open(path, "rb") as f:
        total = f.seek(0, 2)
        f.seek(0)
        started = time.perf_counter()
        conn = socket.create_connection((host, int(port)))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        conn.sendall(struct.pack(">Q", total))
        if mode == "raw":
            block = f.read(BLOCK)  # the same bytes, from memory: the network's floor, no disk
            sent = 0
            while sent < total:
                piece = block[: total - sent]
                conn.sendall(piece)
                sent += len(piece)
        else:
            state = crypto_secretstream_xchacha20poly1305_state()
            conn.sendall(crypto_secretstream_xchacha20poly1305_init_push(state, KEY))
            while True:
                plain = f.read(BLOCK)
                if not plain:
                    break
                sealed = crypto_secretstream_xchacha20poly1305_push(state, plain)
                conn.sendall(struct.pack(">I", len(sealed)))
                conn.sendall(sealed)
        _recv_exactly(conn, 1)
        elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--mode", choices=("raw", "secure"), required=True)
    s.add_argument("--out")
    c = sub.add_parser("send")
    c.add_argument("target")
    c.add_argument("--mode", choices=("raw", "secure"), required=True)
    c.add_argument("--path", required=True)
    args = parser.parse_args()
    if args.what == "serve":
        serve(args.host, args.port, args.mode, args.out)
    else:
        print(json.dumps({"seconds": send(args.target, args.mode, args.path)}), flush=True)


if __name__ == "__main__":
    main()
