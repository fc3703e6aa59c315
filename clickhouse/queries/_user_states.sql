-- Fragment: the aggregate states of per-user data access over deduplicated audit_predictions
-- rows, in the column order of audit_user_daily after BuiltAt (rollup_build_user, data_access_summary).
    countState() AS Predictions,
    countIfState(Outcome = 'error') AS Errors,
    groupUniqArrayState(ModelVersion) AS Versions,
    minState(Timestamp) AS First,
    maxState(Timestamp) AS Last
