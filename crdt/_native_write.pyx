# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled writer of sync frames: entries packed into ENTRIES frames in one copy each.

The C twin of crdt/sync.py `frames_for` with `Entry.encode` and `encode_entries`, which stay the reference
(tests/unit/test_native_reader.py compares the two on generated entries). It writes only our own entries
(the sender's side of a sync), and checks every write against the size it worked out first.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy


cdef inline Py_ssize_t _uint_size(Py_ssize_t v):
    cdef Py_ssize_t size = 1
    while v > 0x7F:
        v >>= 7
        size += 1
    return size


cdef inline Py_ssize_t _put_uint(char* out, Py_ssize_t p, Py_ssize_t v):
    while v > 0x7F:
        out[p] = <char>((v & 0x7F) | 0x80)
        v >>= 7
        p += 1
    out[p] = <char>v
    return p + 1


def encode_entries_frame(list entries, Py_ssize_t start, Py_ssize_t max_frame, bytes head):
    """One ENTRIES frame (`head`, the count, then each entry's encoding behind its length) of as many of
    `entries[start:]` as fit under `max_frame` (at least one), and the index after the last one taken.
    What crdt/sync.py `frames_for` builds with `Entry.encode` and `encode_entries`."""
    cdef Py_ssize_t i, k = start, end, count, size, total, p = 0, body_size
    cdef list headers = []
    cdef bytes header, sig, frame
    cdef object ct
    cdef char* out
    size = 16
    end = start
    total = 0
    while end < len(entries):
        e = entries[end]
        header = e._header
        if header is None:
            header = e.header()
        ct = e.ciphertext
        body_size = PyBytes_GET_SIZE(header) + PyBytes_GET_SIZE(e.signature) + 1
        if ct is not None:
            body_size += _uint_size(PyBytes_GET_SIZE(ct)) + PyBytes_GET_SIZE(ct)
        if end > start and size + body_size + 5 > max_frame:
            break
        headers.append(header)
        size += body_size + 5
        total += _uint_size(body_size) + body_size
        end += 1
    count = end - start
    total += PyBytes_GET_SIZE(head) + _uint_size(count)
    frame = PyBytes_FromStringAndSize(NULL, total)
    out = PyBytes_AS_STRING(frame)
    memcpy(out, PyBytes_AS_STRING(head), PyBytes_GET_SIZE(head))
    p = _put_uint(out, PyBytes_GET_SIZE(head), count)
    for i in range(count):
        e = entries[start + i]
        header = headers[i]
        sig = e.signature
        ct = e.ciphertext
        body_size = PyBytes_GET_SIZE(header) + PyBytes_GET_SIZE(sig) + 1
        if ct is not None:
            body_size += _uint_size(PyBytes_GET_SIZE(ct)) + PyBytes_GET_SIZE(ct)
        if p + _uint_size(body_size) + body_size > total:
            raise RuntimeError("an entry changed while it was being encoded")
        p = _put_uint(out, p, body_size)
        memcpy(out + p, PyBytes_AS_STRING(header), PyBytes_GET_SIZE(header))
        p += PyBytes_GET_SIZE(header)
        memcpy(out + p, PyBytes_AS_STRING(sig), PyBytes_GET_SIZE(sig))
        p += PyBytes_GET_SIZE(sig)
        if ct is None:
            out[p] = 0
            p += 1
        else:
            out[p] = 1
            p = _put_uint(out, p + 1, PyBytes_GET_SIZE(ct))
            memcpy(out + p, PyBytes_AS_STRING(ct), PyBytes_GET_SIZE(ct))
            p += PyBytes_GET_SIZE(ct)
    if p != total:
        raise RuntimeError("an entry changed while it was being encoded")
    return frame, end
