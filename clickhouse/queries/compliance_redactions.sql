-- Redaction on one model's predictions over [since, until), one row per stored record (RecordId,
-- RowHash), every share taken over all of them: how many predictions there are, how many had
-- something redacted (audit.redaction.count above 0), how many had redaction fail closed
-- (audit.redaction.error above 0), and per detector (each other audit.redaction.<name>) in how
-- many predictions it redacted something (its count above 0), as (names, predictions) arrays.
SELECT
    count() AS predictions,
    countIf(toFloat64OrZero(Attributes['{{semconv.AUDIT_REDACTION_COUNT}}']) > 0) AS redacted,
    countIf(toFloat64OrZero(Attributes['{{semconv.AUDIT_REDACTION_ERROR}}']) > 0) AS failed,
    sumMap(detectors, arrayMap(name -> toUInt64(1), detectors)) AS by_detector
FROM
(
    SELECT
        Attributes,
        arrayMap(
            key -> toString(key),
            arrayFilter(
                key -> startsWith(key, '{{semconv.AUDIT_REDACTION_PREFIX}}')
                    AND key NOT IN ('{{semconv.AUDIT_REDACTION_COUNT}}', '{{semconv.AUDIT_REDACTION_ERROR}}')
                    AND toFloat64OrZero(Attributes[key]) > 0,
                mapKeys(Attributes)
            )
        ) AS detectors
    FROM audit_predictions
    WHERE ModelName = {model:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId, RowHash
)
