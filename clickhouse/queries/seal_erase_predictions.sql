-- Replace Input, Output and the content attributes (batch outputs) of the given records by
-- tombstones that keep the SHA-256 of the content (so the Merkle leaf still verifies).
-- Already-erased content is left as is.
ALTER TABLE audit_predictions
UPDATE
    Input = if(startsWith(Input, '{"$erased":'), Input,
               concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(Input))), '"}}')),
    Output = if(startsWith(Output, '{"$erased":'), Output,
                concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(Output))), '"}}')),
    Attributes = mapApply((k, v) -> (k, if(k NOT IN ({{semconv.CONTENT_ATTRIBUTES}}) OR startsWith(v, '{"$erased":'), v,
               concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(v))), '"}}'))), Attributes)
WHERE RecordId IN {record_ids:Array(String)}
