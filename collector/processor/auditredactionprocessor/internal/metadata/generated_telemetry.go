package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// Meter returns the meter of the processor's own telemetry.
func Meter(settings component.TelemetrySettings) metric.Meter {
	return settings.MeterProvider.Meter(ScopeName)
}

// TelemetryBuilder holds the processor's internal counters (the telemetry section of
// metadata.yaml; hand-written because mdatagen is not served by the module proxy here).
type TelemetryBuilder struct {
	// ProcessorAuditredactionFailedClosedRecords counts records withheld because redaction failed.
	ProcessorAuditredactionFailedClosedRecords metric.Int64Counter
	// ProcessorAuditredactionOverBudgetRecords counts records withheld for going over the budget.
	ProcessorAuditredactionOverBudgetRecords metric.Int64Counter
}

// NewTelemetryBuilder creates the counters on the meter provider of settings.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	builder := TelemetryBuilder{}
	meter := Meter(settings)
	var err, errs error
	builder.ProcessorAuditredactionFailedClosedRecords, err = meter.Int64Counter(
		"otelcol_processor_auditredaction_failed_closed_records",
		metric.WithDescription("Records whose redaction failed and whose data was withheld (audit.redaction.error=1)."),
		metric.WithUnit("{records}"),
	)
	errs = errors.Join(errs, err)
	builder.ProcessorAuditredactionOverBudgetRecords, err = meter.Int64Counter(
		"otelcol_processor_auditredaction_over_budget_records",
		metric.WithDescription("Records over the redaction budget (limits.max_record_chars), withheld (audit.redaction.over_budget=1)."),
		metric.WithUnit("{records}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}
