-- Replace Input, Output, the output label and the content attributes (batch outputs) of the given
-- records by tombstones that keep the SHA-256 of the content (so the Merkle leaf still verifies).
-- Already-erased content is left as is. A label sealed in a version-2 leaf (before schema 090,
-- whose leaves have no RowHash) is committed to as text, so it is left alone (docs/tamper-evidence.md).
ALTER TABLE audit_predictions
UPDATE
    Input = if(startsWith(Input, '{"$erased":'), Input,
               concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(Input))), '"}}')),
    Output = if(startsWith(Output, '{"$erased":'), Output,
                concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(Output))), '"}}')),
    OutputLabel = if(OutputLabel = '' OR startsWith(OutputLabel, '{"$erased":')
                     OR (RecordId, toString(Timestamp)) IN (SELECT RecordId, Timestamp FROM audit_seal_leaves WHERE RowHash = ''),
                     OutputLabel,
                     concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(OutputLabel))), '"}}')),
    Attributes = mapApply((k, v) -> (k, if(k NOT IN ({{semconv.CONTENT_ATTRIBUTES}}) OR startsWith(v, '{"$erased":'), v,
               concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(v))), '"}}'))), Attributes)
WHERE RecordId IN {record_ids:Array(String)}
