-- Tamper evidence (docs/tamper-evidence.md): the RFC 6962 Merkle tree over audit_predictions,
-- its signed checkpoints, and the log of GDPR erasures. Written only by `otel-audit seal` and
-- `otel-audit erase`; no TTL, so the seal outlives the records it covers.

-- One row per sealed record, in tree order. LeafHash (hex) is the RFC 6962 leaf hash of the
-- record's canonical form; Timestamp is the record's as text (UTC, 9 digits), kept so `verify --since` can skip leaves
-- whose records left the retention window.
CREATE TABLE IF NOT EXISTS audit_seal_leaves
(
    `LeafIndex` UInt64,
    `RecordId` String CODEC(ZSTD(1)),
    `Timestamp` String CODEC(ZSTD(1)),
    `LeafHash` String CODEC(ZSTD(1)),
    `SealedAt` DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY LeafIndex;

-- One row per signed checkpoint: TreeSize leaves, RootHash (hex), and the C2SP signed note.
CREATE TABLE IF NOT EXISTS audit_seal_checkpoints
(
    `TreeSize` UInt64,
    `RootHash` String,
    `Note` String,
    `SealedAt` DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY TreeSize;

-- One row per record whose input/output were replaced by a tombstone (GDPR Art. 17).
-- Selector says how it was chosen (user or request_id); the user id itself is not copied here.
CREATE TABLE IF NOT EXISTS audit_erasures
(
    `ErasedAt` DateTime64(3),
    `RecordId` String,
    `RequestId` String,
    `Selector` LowCardinality(String),
    `Reason` String
)
ENGINE = MergeTree
ORDER BY (ErasedAt, RecordId);
