-- Fragment: the columns of an access event as the access log shows it.
Timestamp AS timestamp,
Actor AS actor,
AccessCommand AS command,
AccessSubject AS subject,
Attributes['{{semconv.AUDIT_ACCESS_SUBJECT_KIND}}'] AS subject_kind,
AccessPeriodStart AS period_start,
AccessPeriodEnd AS period_end,
AccessRecords AS records,
AccessOutcome AS outcome,
RecordId AS record_id
