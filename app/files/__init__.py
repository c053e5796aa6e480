"""Files and pictures, peer to peer: encrypted chunks named by their hash, a manifest in the message, any holder serves.

| module | what it is |
|---|---|
| `chunks.py` | the per-file key, chunk encryption, chunk ids and the root (sans-IO) |
| `manifest.py` | `Manifest`: what a message's `a` list holds, built and read by crdt/attachments.py's rules |
| `chunker.py` | a file on disk cut into encrypted chunks, streaming (a 4 GB file never sits in memory) |
| `pictures.py` | Pillow: metadata stripped, orientation applied, thumbnail and blurhash |
| `store.py` | the content-addressed chunk folder in the profile and its index: pins, cache limit, removal |
| `protocol.py` | the chunk protocol's frames (have/want/chunk), strict decoders |
| `schedule.py` | one download's plan across several sources (sans-IO): who is asked for which chunk |
| `transfer.py` | serving and fetching chunks over byte streams (asyncio) |
| `assemble.py` | a verified file written out from its chunks |
| `part.py` | `Files`, the node's part: sending, downloading, serving, removal on deletion and expiry |
"""
