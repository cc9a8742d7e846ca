"""Keyed hashes: how a record names its session and its model response without raw Codex ids.

blake2b in keyed mode is a MAC: without the key, nobody can test a guessed session id against a
published hash. The default key is the same on every machine, so the same response gets the same
``event_id`` wherever it is read (what makes re-syncs and archive copies collapse); a deployment
can set its own key with ``CODEXTIME_HASH_KEY``.
"""

from __future__ import annotations

try:  # hashlib's own blake2b, without the OpenSSL bindings hashlib loads (2-3 ms a report)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

from store.settings import HASH_KEY

DEFAULT_KEY = b"codextime/usage-record/v1"


def hash_key() -> bytes:
    env = HASH_KEY.value()
    return env.encode() if env else DEFAULT_KEY


def keyed_hash(material: bytes, key: bytes) -> str:
    """A 128-bit keyed hash as 32 hex digits."""
    return blake2b(material, key=key, digest_size=16).hexdigest()


def session_hash(session_id: str, key: bytes) -> str:
    return keyed_hash(b"session\x00" + session_id.encode(), key)


def event_hash(identity: bytes, key: bytes) -> str:
    # The keyed state after the prefix is set up once per key: a copy is half the cost.
    base = _EVENT_BASES.get(key)
    if base is None:
        base = _EVENT_BASES[key] = blake2b(b"event\x00", key=key, digest_size=16)
    h = base.copy()
    h.update(identity)
    return h.hexdigest()


_EVENT_BASES: dict[bytes, blake2b] = {}
