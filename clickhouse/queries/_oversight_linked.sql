-- Fragment: each decision (review, ground truth, feedback) about a prediction of one model in
-- [since, until), with its prediction. A decision names its prediction by TargetRecordId; one that
-- gives none names it by TargetRequestId (the join key is 'r:<record id>' or 'q:<request id>';
-- a prediction offers both). One row per stored decision (RecordId, RowHash), one prediction per
-- RecordId.
SELECT p.RecordId AS PredictionId, p.ModelVersion AS Version, p.OutputLabel AS Label, p.Timestamp AS PredictedAt,
       e.RecordId AS EventId, e.EventName AS EventName, e.Timestamp AS DecidedAt, e.Actor AS Actor,
       e.Decision AS Decision, e.GroundTruthValue AS Truth
FROM
(
    SELECT RecordId, ModelVersion, OutputLabel, Timestamp,
           arrayJoin([concat('r:', RecordId), concat('q:', RequestId)]) AS Key
    FROM
    (
        SELECT RecordId, RequestId, ModelVersion, OutputLabel, Timestamp
        FROM audit_predictions
        WHERE ModelName = {model:String} AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
        LIMIT 1 BY RecordId
    )
) AS p
INNER JOIN
(
    SELECT RecordId, EventName, Timestamp, Actor, Decision, GroundTruthValue,
           if(TargetRecordId != '', concat('r:', TargetRecordId), concat('q:', TargetRequestId)) AS Key
    FROM audit_events
    WHERE EventName IN ({{semconv.DECISION_EVENTS}}) AND (TargetRecordId != '' OR TargetRequestId != '')
    LIMIT 1 BY RecordId, RowHash
) AS e ON e.Key = p.Key
