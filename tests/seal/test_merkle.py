"""RFC 6962/9162 tree hashing and proofs, against a literal transcription of the RFC's definitions."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_audit.seal.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    hash_leaf,
    root_of,
    verify_consistency,
    verify_inclusion,
)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    return [*_path(m, d[:k]), _mth(d[k:])] if m < k else [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


def _data(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


class TestMerkleTree:
    def test_known_values(self) -> None:
        """The empty root is SHA-256 of nothing and a one-leaf root is its 0x00-prefixed hash."""
        assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        assert root_of([hash_leaf(b"")]).hex() == hashlib.sha256(b"\x00").hexdigest()

    @settings(max_examples=40, deadline=None)
    @given(st.integers(min_value=0, max_value=70))
    def test_roots_match_the_rfc_definition(self, n: int) -> None:
        """Compact-range and memoized roots equal MTH for every size."""
        data = _data(n)
        leaves = [hash_leaf(item) for item in data]
        assert root_of(leaves) == _mth(data)
        tree = MerkleTree(leaves)
        assert all(tree.root(size) == _mth(data[:size]) for size in range(n + 1))

    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=1, max_value=40), st.data())
    def test_inclusion_proofs(self, n: int, draw: st.DataObject) -> None:
        """Inclusion paths equal RFC PATH and verify; another leaf or index does not."""
        data = _data(n)
        tree = MerkleTree([hash_leaf(item) for item in data])
        size = draw.draw(st.integers(min_value=1, max_value=n))
        index = draw.draw(st.integers(min_value=0, max_value=size - 1))
        path = tree.inclusion_proof(index, size)
        assert path == _path(index, data[:size])
        root = tree.root(size)
        assert verify_inclusion(hash_leaf(data[index]), index, size, path, root)
        assert not verify_inclusion(hash_leaf(b"other"), index, size, path, root)
        if size > 1:
            assert not verify_inclusion(hash_leaf(data[index]), (index + 1) % size, size, path, root)

    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=1, max_value=40), st.data())
    def test_consistency_proofs(self, n: int, draw: st.DataObject) -> None:
        """Consistency proofs equal RFC PROOF and verify; a wrong old root does not."""
        data = _data(n)
        tree = MerkleTree([hash_leaf(item) for item in data])
        old = draw.draw(st.integers(min_value=1, max_value=n))
        proof = tree.consistency_proof(old, n)
        assert proof == (_subproof(old, data, True) if old < n else [])
        assert verify_consistency(old, n, tree.root(old), tree.root(), proof)
        if old < n:
            assert not verify_consistency(old, n, hash_leaf(b"x"), tree.root(), proof)
            assert not verify_consistency(old, n, tree.root(old), tree.root(), proof[:-1])

    def test_compact_range_counts(self) -> None:
        """CompactRange tracks its size as leaves are appended."""
        compact = CompactRange()
        compact.extend(hash_leaf(item) for item in _data(5))
        assert compact.size == 5 and compact.root() == _mth(_data(5))
