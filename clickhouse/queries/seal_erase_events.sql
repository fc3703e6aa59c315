-- Replace the content of the given decision events (reason, final output, ground-truth value,
-- feedback text) by tombstones that keep its SHA-256, so the event leaf still verifies. Empty and
-- already-erased content is left as is.
ALTER TABLE audit_events
UPDATE
    Reason = if(Reason = '' OR startsWith(Reason, '{"$erased":'), Reason,
                concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(Reason))), '"}}')),
    FinalOutput = if(FinalOutput = '' OR startsWith(FinalOutput, '{"$erased":'), FinalOutput,
                concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(FinalOutput))), '"}}')),
    GroundTruthValue = if(GroundTruthValue = '' OR startsWith(GroundTruthValue, '{"$erased":'), GroundTruthValue,
                concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(GroundTruthValue))), '"}}')),
    FeedbackText = if(FeedbackText = '' OR startsWith(FeedbackText, '{"$erased":'), FeedbackText,
                concat('{"$erased":{"at":"', {at:String}, '","sha256":"', lower(hex(SHA256(FeedbackText))), '"}}'))
WHERE RecordId IN {record_ids:Array(String)}
  AND EventName IN ({{semconv.DECISION_EVENTS}})
