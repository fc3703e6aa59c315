"""RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency proofs.

* leaf hash  = SHA-256(0x00 || data)
* node hash  = SHA-256(0x01 || left || right)
* empty tree = SHA-256("")

A tree over ``n`` leaves splits at ``k``, the largest power of two below ``n``: the left subtree
is perfect and the right one holds the rest, so an odd node is promoted, never duplicated.
Proofs are lists of 32-byte hashes in the order RFC 9162 §2.1.3 and §2.1.4 define; the
verifiers follow the RFC's algorithms step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "MerkleTree",
    "hash_leaf",
    "hash_node",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of a tree with no leaves."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def hash_leaf(data: bytes) -> bytes:
    """Return the RFC 6962 hash of a leaf holding *data*."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def hash_node(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below *size* (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``: append in O(1) amortized.

    It holds at most log2(n) hashes, enough to compute the root of the tree so far.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
        self.size = 0

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf (already hashed with :func:`hash_leaf`)."""
        height, node = 0, leaf_hash
        stack = self._stack
        while stack and stack[-1][0] == height:
            node = hash_node(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
        self.size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add several leaves in order."""
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    def root(self) -> bytes:
        """The root hash of the tree of :attr:`size` leaves."""
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = hash_node(left, node)
        return node


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """The root of the tree whose leaves have the given hashes, in order."""
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


class MerkleTree:
    """A tree over a fixed list of leaf hashes that answers roots and proofs for any prefix size.

    Subtree hashes are memoized, so many proofs over one tree cost O(log n) each after the
    first.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.leaves = list(leaf_hashes)
        self._cache: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self.leaves)

    def _hash(self, start: int, end: int) -> bytes:
        size = end - start
        if size == 1:
            return self.leaves[start]
        key = (start, end)
        cached = self._cache.get(key)
        if cached is None:
            k = _split(size)
            cached = hash_node(self._hash(start, start + k), self._hash(start + k, end))
            self._cache[key] = cached
        return cached

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= len(self.leaves):
            raise ValueError(f"tree size {size} is outside [0, {len(self.leaves)}]")

    def root(self, size: int | None = None) -> bytes:
        """Root of the first *size* leaves (all of them by default)."""
        size = len(self.leaves) if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf *index* in the tree of the first *size* leaves (RFC 9162 §2.1.3.1)."""
        size = len(self.leaves) if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is not in a tree of size {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._hash(start + k, end))
                end = start + k
            else:
                path.append(self._hash(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of *old_size* leaves is a prefix of *new_size* (RFC 9162 §2.1.4.1)."""
        new_size = len(self.leaves) if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is not in [0, {new_size}]")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, complete=True)

    def _subproof(self, m: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        size = end - start
        if m == size:
            return [] if complete else [self._hash(start, end)]
        k = _split(size)
        if m <= k:
            return [*self._subproof(m, start, start + k, complete=complete), self._hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, complete=False), self._hash(start, start + k)]


def verify_inclusion(leaf_hash: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """True if *path* proves leaf *index* with *leaf_hash* is in the tree of *size* with *root*."""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf_hash
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = hash_node(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = hash_node(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True if *proof* shows the tree (*old_size*, *old_root*) is a prefix of (*new_size*, *new_root*)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a perfect old tree is its own first node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first = hash_node(node, first)
            second = hash_node(node, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = hash_node(second, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first == old_root and second == new_root
