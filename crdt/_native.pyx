# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled fast path of the entry and update readers: what nearly every entry of a catch-up is.

C twins of Python code that stays the reference (crdt/entry.py `decode_entry`, crdt/sync.py
`_decode_entries`, crdt/content.py `check_content`):

* `decode_entry(buf, pos)` reads one entry (varints of up to 8 bytes), with its hash and whether its
  payload matches its signed hash (libsodium's BLAKE2b, called directly); `decode_entries` reads the
  entries of a sync frame;
* `check_message(e, body, writer)` reads the update of a plain 3-field message (one item at clock 0,
  a flat map {c, t, ts}, no deletions) and makes the checks `check_content` makes of it.

Each returns None for anything it does not read, odd or hostile input included, and the caller then
runs the Python code, which accepts it or says why not. So a result from here must equal the Python
result for the same bytes (tests/unit/test_native_reader.py checks that on generated and mutated
input; tests/fuzz runs it too), and None is always safe. Every read is bounds-checked by hand against
`n` before it happens.

`bind()` hands over the Python classes the results are made of (no import cycle with crdt.entry).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Size
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_DecodeUTF8, PyUnicode_GET_LENGTH
from libc.string cimport memcmp, memcpy
from libc.math cimport isnan, fabs

import hashlib

cdef object _Entry = None
cdef object _ContentCheck = None
cdef object _UpdateSummary = None
cdef object _InsertedItem = None
cdef object _member = None
cdef object _new = object.__new__
cdef object _blake2b = hashlib.blake2b
cdef object _kind_obj = 0
cdef object _flags_obj = 0
cdef Py_ssize_t _max_name = 0
cdef Py_ssize_t _max_text = 0

# The room id, author and single-dependency list decoded last (the entries of a frame come in runs
# that share them, so they share these objects too, as the Python reader does).
cdef bytes _room = bytes(32)
cdef bytes _author = bytes(32)
cdef tuple _deps1 = (bytes(32),)

# libsodium's BLAKE2b, as PyNaCl's build exports it (crdt/native.py finds its address); NULL: hashlib's.
ctypedef int (*blake2b_fn)(unsigned char* out, size_t outlen, const unsigned char* data, unsigned long long inlen,
                           const unsigned char* key, size_t keylen, const unsigned char* salt,
                           const unsigned char* personal) nogil
cdef blake2b_fn _b2b = NULL


cdef bytes _hash(const unsigned char* data, Py_ssize_t size, Py_ssize_t digest):
    """The plain BLAKE2b hash of `size` bytes at `data`, `digest` bytes long (at most 64)."""
    cdef unsigned char out[64]
    if _b2b != NULL and _b2b(out, digest, data, size, NULL, 0, NULL, NULL) == 0:
        return PyBytes_FromStringAndSize(<const char*>out, digest)
    return _blake2b(PyBytes_FromStringAndSize(<const char*>data, size), digest_size=digest).digest()


# The results are made as their dataclasses' own slot descriptors would make them, by writing each slot at
# the offset its descriptor names (checked at bind time to be a plain object slot; else with setattr).
cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        const char* name
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    PyTypeObject PyMemberDescr_Type

ENTRY_FIELDS = ("room_id", "author", "seq", "prev", "epoch", "deps", "nonce", "payload_hash", "signature",
                "ciphertext", "_hash", "_header", "_intact")
ITEM_FIELDS = ("client", "clock", "root", "key", "value")
SUMMARY_FIELDS = ("inserts", "deletes")
CHECK_FIELDS = ("summary", "need", "flags", "kind", "ts")
cdef Py_ssize_t _entry_at[13]
cdef Py_ssize_t _item_at[5]
cdef Py_ssize_t _summary_at[2]
cdef Py_ssize_t _check_at[5]
cdef bint _direct = False


def slots_written_directly():
    """Whether results are made by writing their slots (True unless the classes are not what bind expects)."""
    return _direct


cdef bint _offsets(object cls, tuple names, Py_ssize_t* out) except -1:
    cdef PyMemberDef* m
    for i, name in enumerate(names):
        d = cls.__dict__.get(name)
        if d is None or type(d) is not <object>&PyMemberDescr_Type:
            return False
        m = (<PyMemberDescrObject*><PyObject*>d).d_member
        if m.type != 16 or m.flags & 1:  # T_OBJECT_EX, not READONLY
            return False
        out[i] = m.offset
    return True


cdef object _build(object cls, Py_ssize_t* at, tuple names, int count, PyObject** values):
    """A new `cls` (a slots dataclass, its __init__ not run) with `values` in the slots `names`."""
    cdef PyObject** slot
    cdef PyObject* old
    cdef int i
    obj = _new(cls)
    if not _direct:
        for i in range(count):
            setattr(obj, names[i], <object>values[i])
        return obj
    for i in range(count):
        slot = <PyObject**>((<char*><PyObject*>obj) + at[i])
        old = slot[0]
        Py_INCREF(<object>values[i])
        slot[0] = values[i]
        Py_XDECREF(old)
    return obj


cdef bytes _DIGITS = b"0123456789abcdefghijklmnopqrstuvwxyz"

cdef enum:  # crdt/entry.py's sizes
    KEY = 32
    HASH = 32
    NONCE = 8
    SIG = 64
cdef Py_ssize_t MAX_DEPS = 0
cdef Py_ssize_t MAX_CIPHERTEXT = 0


def bind(entry, content_check, update_summary, inserted_item, member, int kind_messages, int flags_inserts,
         int max_name, int max_text, Py_ssize_t max_deps, Py_ssize_t max_ciphertext, size_t blake2b_address):
    """Hand over the result classes and constants (crdt/native.py calls this once), and the address of
    libsodium's `crypto_generichash_blake2b_salt_personal` (0: none)."""
    global _Entry, _ContentCheck, _UpdateSummary, _InsertedItem, _member, _b2b, MAX_DEPS, MAX_CIPHERTEXT
    _b2b = <blake2b_fn>blake2b_address
    MAX_DEPS, MAX_CIPHERTEXT = max_deps, max_ciphertext
    global _kind_obj, _flags_obj, _max_name, _max_text
    global _direct
    _Entry, _ContentCheck, _UpdateSummary, _InsertedItem, _member = (
        entry, content_check, update_summary, inserted_item, member)
    _direct = (_offsets(entry, ENTRY_FIELDS, _entry_at) and _offsets(inserted_item, ITEM_FIELDS, _item_at)
               and _offsets(update_summary, SUMMARY_FIELDS, _summary_at)
               and _offsets(content_check, CHECK_FIELDS, _check_at))
    _kind_obj, _flags_obj, _max_name, _max_text = kind_messages, flags_inserts, max_name, max_text


cdef inline Py_ssize_t _uint(const unsigned char* b, Py_ssize_t p, Py_ssize_t n, long long* out):
    """A minimal varint of at most 8 bytes (56 bits) at p: the position after it, or -1."""
    cdef unsigned char c
    cdef long long v = 0
    cdef int shift = 0
    while True:
        if p >= n or shift > 49:
            return -1
        c = b[p]
        p += 1
        v |= (<long long>(c & 0x7F)) << shift
        if c < 0x80:
            if c == 0 and shift:
                return -1
            out[0] = v
            return p
        shift += 7


def decode_entries(object frame, Py_ssize_t pos, Py_ssize_t count, Py_ssize_t max_entry):
    """The `count` entries of an ENTRIES frame from `pos` on, each behind its length, if every one of them
    is a usual entry and they fill the frame exactly (crdt/sync.py `_decode_entries`); else None."""
    if type(frame) is not bytes or pos < 0 or count < 0:
        return None
    cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(frame)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(frame), i
    cdef long long length = 0
    cdef list out = []
    for i in range(count):
        pos = _uint(b, pos, n, &length)
        if pos < 0 or length > max_entry or pos + length > n:
            return None
        read = decode_entry(frame, pos)
        if read is None or read[1] != pos + length:
            return None
        out.append(read[0])
        pos += length
    return out if pos == n else None


def decode_entry(object buf, Py_ssize_t pos):
    """(entry, end) for the usual entry at `pos`, or None (then the Python reader decides)."""
    global _room, _author, _deps1
    if type(buf) is not bytes:
        return None
    cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(buf)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(buf)
    cdef Py_ssize_t p, start = pos, payload_at
    cdef long long seq = 0, epoch = 0, ndeps = 0, length = 0
    cdef Py_ssize_t i
    cdef bytes room, author, prev, nonce, payload_hash, signature, header, ct
    cdef object ciphertext
    cdef tuple deps
    if _Entry is None or pos < 0 or pos + 1 + 2 * KEY >= n or b[pos] != 1:
        return None
    p = pos + 1
    if memcmp(b + p, PyBytes_AS_STRING(_room), KEY) == 0:
        room = _room
    else:
        room = _room = PyBytes_FromStringAndSize(<const char*>b + p, KEY)
    p += KEY
    if memcmp(b + p, PyBytes_AS_STRING(_author), KEY) == 0:
        author = _author
    else:
        author = _author = PyBytes_FromStringAndSize(<const char*>b + p, KEY)
    p += KEY
    p = _uint(b, p, n, &seq)
    if p < 0 or p + HASH > n:
        return None
    prev = PyBytes_FromStringAndSize(<const char*>b + p, HASH)
    p += HASH
    p = _uint(b, p, n, &epoch)
    if p < 0 or epoch >= 2147483648:
        return None
    p = _uint(b, p, n, &ndeps)
    if p < 0 or ndeps > MAX_DEPS or p + ndeps * HASH > n:
        return None
    if ndeps == 1:
        if memcmp(b + p, PyBytes_AS_STRING(_deps1[0]), HASH) == 0:
            deps = _deps1
        else:
            deps = _deps1 = (PyBytes_FromStringAndSize(<const char*>b + p, HASH),)
    else:
        for i in range(1, ndeps):  # sorted and distinct
            if memcmp(b + p + (i - 1) * HASH, b + p + i * HASH, HASH) >= 0:
                return None
        deps = tuple([PyBytes_FromStringAndSize(<const char*>b + p + i * HASH, HASH) for i in range(ndeps)])
    p += ndeps * HASH
    if p + NONCE + HASH + SIG + 1 > n:
        return None
    payload_at = p + NONCE
    nonce = PyBytes_FromStringAndSize(<const char*>b + p, NONCE)
    payload_hash = PyBytes_FromStringAndSize(<const char*>b + p + NONCE, HASH)
    p += NONCE + HASH
    header = PyBytes_FromStringAndSize(<const char*>b + start, p - start)
    signature = PyBytes_FromStringAndSize(<const char*>b + p, SIG)
    p += SIG
    entry_hash = _hash(b + start, p - start, HASH)
    if b[p] == 0:
        ciphertext = None
        p += 1
    elif b[p] == 1:
        p = _uint(b, p + 1, n, &length)
        if p < 0 or length > MAX_CIPHERTEXT or p + length > n:
            return None
        ciphertext = PyBytes_FromStringAndSize(<const char*>b + p, length)
        p += length
    else:
        return None
    intact = ciphertext is not None and memcmp(PyBytes_AS_STRING(_hash(
        <const unsigned char*>PyBytes_AS_STRING(ciphertext), length, HASH)), b + payload_at, HASH) == 0
    cdef object seq_obj = seq, epoch_obj = epoch, intact_obj = bool(intact)
    cdef PyObject* values[13]
    values[0], values[1], values[2], values[3] = <PyObject*>room, <PyObject*>author, <PyObject*>seq_obj, <PyObject*>prev
    values[4], values[5], values[6] = <PyObject*>epoch_obj, <PyObject*>deps, <PyObject*>nonce
    values[7], values[8], values[9] = <PyObject*>payload_hash, <PyObject*>signature, <PyObject*>ciphertext
    values[10], values[11], values[12] = <PyObject*>entry_hash, <PyObject*>header, <PyObject*>intact_obj
    e = _build(_Entry, _entry_at, ENTRY_FIELDS, 13, values)
    return e, p


cdef inline bint _is_num(object v):
    cdef double d
    if type(v) is float:
        d = v
        return not isnan(d) and fabs(d) < 4611686018427387904.0
    if type(v) is int:
        return -4611686018427387904 < v < 4611686018427387904
    return False


cdef str _b36(long n):
    cdef char out[16]
    cdef int i = 16
    if n == 0:
        return "0"
    while n > 0:
        i -= 1
        out[i] = (<const char*>_DIGITS)[n % 36]
        n //= 36
    return PyUnicode_DecodeUTF8(out + i, 16 - i, NULL)


def check_message(object e, object body, object writer):
    """The `ContentCheck` of a plain message update by `e`'s author (short id `writer`), or None."""
    if type(body) is not bytes or type(writer) is not str or type(e) is not _Entry or type(e.seq) is not int:
        return None
    cdef const unsigned char* b = <const unsigned char*>PyBytes_AS_STRING(body)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(body)
    cdef Py_ssize_t pos, length, fields, f
    cdef unsigned long long client = 0
    cdef unsigned char c, tag
    cdef int shift = 7
    cdef long seq
    cdef double d
    cdef object name, v
    cdef str key
    cdef dict value
    if _ContentCheck is None or n < 12 or b[0] != 1 or b[1] != 1 or b[n - 1] != 0:
        return None
    c = b[2]
    client = c & 0x7F
    pos = 3
    while c & 0x80:
        if pos >= n:
            return None
        c = b[pos]
        pos += 1
        client |= (<unsigned long long>(c & 0x7F)) << shift
        shift += 7
        if shift > 63:
            return None
    if (c == 0 and shift > 7) or pos + 6 > n:
        return None
    # clock 0; Any content under a map key; parent a root; the 1-byte root name "m"
    if b[pos] != 0 or b[pos + 1] != 0x28 or b[pos + 2] != 1 or b[pos + 3] != 1 or b[pos + 4] != 0x6D:
        return None
    length = b[pos + 5]
    pos += 6
    if length >= 0x80 or pos + length + 3 > n:
        return None
    try:
        key = PyUnicode_DecodeUTF8(<const char*>b + pos, length, NULL)
    except UnicodeDecodeError:
        return None
    pos += length
    if b[pos] != 1 or b[pos + 1] != 118 or b[pos + 2] >= 0x80:
        return None
    fields = b[pos + 2]
    pos += 3
    value = {}
    for f in range(fields):
        if pos >= n:
            return None
        length = b[pos]
        if length >= 0x80 or pos + 1 + length + 1 > n:
            return None
        try:
            name = PyUnicode_DecodeUTF8(<const char*>b + pos + 1, length, NULL)
        except UnicodeDecodeError:
            return None
        pos += 1 + length
        tag = b[pos]
        pos += 1
        if tag == 119:
            if pos >= n:
                return None
            length = b[pos]
            pos += 1
            if length >= 0x80:
                if pos >= n or b[pos] == 0 or b[pos] >= 0x80:
                    return None
                length = (length & 0x7F) | (<Py_ssize_t>b[pos] << 7)
                pos += 1
            if pos + length > n:
                return None
            try:
                v = PyUnicode_DecodeUTF8(<const char*>b + pos, length, NULL)
            except UnicodeDecodeError:
                return None
            pos += length
        elif tag == 123:
            if pos + 8 > n:
                return None
            d = _f64(b + pos)
            v = d
            pos += 8
        elif tag == 124:
            if pos + 4 > n:
                return None
            v = <double>_f32(b + pos)
            pos += 4
        elif tag == 120:
            v = True
        elif tag == 121:
            v = False
        elif tag == 126 or tag == 127:
            v = None
        elif tag == 125:
            if pos >= n or b[pos] & 0x80:
                return None
            v = -(b[pos] & 0x3F) if b[pos] & 0x40 else b[pos] & 0x3F
            pos += 1
        else:
            return None  # any other content: the Python reader reads it or says why not
        value[name] = v
    if pos != n - 1:
        return None
    # What check_content and value_problem make of it.
    seq = e.seq
    if key != writer + _b36(seq) or client != _client_id(writer, seq):
        return None
    if PyDict_Size(value) != 3:
        return None
    ch, text, ts = value.get("c"), value.get("t"), value.get("ts")
    if (type(ch) is not str or PyUnicode_GET_LENGTH(ch) > _max_name or type(text) is not str
            or PyUnicode_GET_LENGTH(text) > _max_text or not _is_num(ts)):
        return None
    cdef PyObject* values[5]
    cdef object client_obj = client, zero = 0, root = "m", stamp = float(ts), no_deletes = ()
    values[0], values[1], values[2], values[3], values[4] = (<PyObject*>client_obj, <PyObject*>zero, <PyObject*>root,
                                                              <PyObject*>key, <PyObject*>value)
    item = _build(_InsertedItem, _item_at, ITEM_FIELDS, 5, values)
    inserts = (item,)
    values[0], values[1] = <PyObject*>inserts, <PyObject*>no_deletes
    summary = _build(_UpdateSummary, _summary_at, SUMMARY_FIELDS, 2, values)
    values[0], values[1], values[2], values[3], values[4] = (<PyObject*>summary, <PyObject*>_member,
                                                              <PyObject*>_flags_obj, <PyObject*>_kind_obj, <PyObject*>stamp)
    check = _build(_ContentCheck, _check_at, CHECK_FIELDS, 5, values)
    return check


cdef inline unsigned long long _big_endian(const unsigned char* p, int size):
    """`size` (at most 8) bytes at `p` as a big-endian unsigned number."""
    cdef unsigned long long u = 0
    cdef int i
    for i in range(size):
        u = (u << 8) | p[i]
    return u


cdef inline double _f64(const unsigned char* p):
    """A big-endian IEEE 754 double."""
    cdef unsigned long long u = _big_endian(p, 8)
    cdef double d
    memcpy(&d, &u, 8)
    return d


cdef inline float _f32(const unsigned char* p):
    """A big-endian IEEE 754 single."""
    cdef unsigned int u = <unsigned int>_big_endian(p, 4)
    cdef float f
    memcpy(&f, &u, 4)
    return f


cdef unsigned long long _client_id(str short, long seq):
    """crdt/schema.py `client_id`: the top 53 bits of BLAKE2b-64 over the short id and the 8-byte seq."""
    cdef bytes raw = short.encode("ascii") + (<object>seq).to_bytes(8, "big")
    cdef bytes h = _hash(<const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), 8)
    return _big_endian(<const unsigned char*>PyBytes_AS_STRING(h), 8) >> 11
