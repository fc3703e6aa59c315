-- Redactions recorded on predictions over [since, until), for one model or all (model = ''):
-- per model and audit.redaction.* attribute, the predictions carrying it, those where it is a
-- number above 0 (e.g. something was redacted), and the sum of its numeric values (others count 0).
SELECT
    model,
    attribute,
    count() AS predictions,
    countIf(toFloat64OrZero(value) > 0) AS nonzero,
    sum(toFloat64OrZero(value)) AS value_sum
FROM
(
    SELECT ModelName AS model, kv.1 AS attribute, kv.2 AS value
    FROM
    (
        SELECT RecordId, ModelName, Attributes
        FROM audit_predictions
        WHERE ({model:String} = '' OR ModelName = {model:String})
          AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
        LIMIT 1 BY RecordId, RowHash
    )
    ARRAY JOIN arrayZip(mapKeys(Attributes), mapValues(Attributes)) AS kv
    WHERE startsWith(kv.1, {prefix:String})
)
GROUP BY model, attribute
ORDER BY model, attribute
