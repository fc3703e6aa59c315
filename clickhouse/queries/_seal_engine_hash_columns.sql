-- Fragment: a prediction row's ids, named as the leaf names them, and the leaf hash the engine
-- computed (engine_leaf_hash; '' where engine_leafable is 0 and Python hashes the row).
    toString(Timestamp) AS timestamp,
    RecordId AS record_id,
    RowHash AS row_hash,
{{query:_seal_engine_leafable}},
{{query:_seal_engine_leaf}}
