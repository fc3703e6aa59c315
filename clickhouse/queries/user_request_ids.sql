-- The distinct request ids of one user's predictions (at most {limit}): the subjects, besides the
-- user id, whose reads `report data-access` lists as reads of that user's records.
SELECT DISTINCT RequestId
FROM audit_predictions
WHERE UserId = {user:String} AND RequestId != ''
LIMIT {limit:UInt32}
