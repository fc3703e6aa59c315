-- Records chosen for erasure: by user id or by request id (an empty selector matches nothing).
SELECT DISTINCT RecordId, RequestId
FROM audit_predictions
WHERE (UserId = {user:String} AND {user:String} != '')
   OR (RequestId = {request_id:String} AND {request_id:String} != '')
ORDER BY RecordId
