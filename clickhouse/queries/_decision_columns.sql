-- Fragment: the columns of a decision (review, ground truth, feedback) as the reports show it.
Timestamp AS decided_at,
RecordId AS record_id,
EventName AS kind,
TargetRecordId AS target_record_id,
TargetRequestId AS target_request_id,
Actor AS reviewer,
Decision AS decision,
Reason AS reason,
FinalOutput AS final_output,
GroundTruthValue AS ground_truth,
GroundTruthSource AS ground_truth_source,
FeedbackText AS feedback
