-- Per-user predictions per whole UTC day in [since, until) from current rollups, newest first:
-- a lower bound of what each day holds (rows are only ever added), used to read just the
-- newest days when listing a heavy user's latest predictions.
SELECT Day AS day, countMerge(Predictions) AS predictions
FROM audit_user_daily
WHERE UserId = {user:String}
  AND (Day, BuiltAt) IN ({{query:_user_current}})
GROUP BY Day
ORDER BY Day DESC
