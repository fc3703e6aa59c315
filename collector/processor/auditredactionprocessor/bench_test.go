package auditredactionprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
)

const shippedRules = "../../../collector-config/redaction.yaml"

// auditRecord appends a realistic audit log record: ~15 attributes and a nested JSON-ish body
// with a few personal values among ordinary ones.
func auditRecord(records plog.LogRecordSlice) {
	record := records.AppendEmpty()
	attributes := record.Attributes()
	attributes.PutStr("gen_ai.request.model", "fraud_detector")
	attributes.PutStr("gen_ai.operation.name", "predict")
	attributes.PutStr("ml.model.version", "v3.2.1")
	attributes.PutStr("audit.input.hash", "9f2c4e1a7b3d5f60819a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70")
	attributes.PutStr("audit.request.id", "5f0c6a6e-8d1b-4e43-9a53-2f7f3e8f3b11")
	attributes.PutStr("audit.outcome", "ok")
	attributes.PutDouble("audit.latency_ms", 12.75)
	attributes.PutInt("audit.batch.size", 1)
	attributes.PutStr("audit.schema.version", "1")
	attributes.PutStr("user.id", "user-00042")
	attributes.PutStr("audit.output.label", "approve")
	attributes.PutStr("app.channel", "web")
	attributes.PutStr("app.session_id", "c1f7d2e0-6a44-4d2b-9f3e-5c8a1b7d9e20")
	attributes.PutStr("app.customer.email", "ana.lopez@example.org")
	attributes.PutStr("app.region", "eu-west-1")
	body := record.Body().SetEmptyMap()
	input := body.PutEmptyMap("input")
	input.PutStr("note", "Customer Ana (ana.lopez@example.org, +44 20 7946 0958) asked on 2024-05-17 about order ORD-2024-000123")
	input.PutStr("payment", "card 4111 1111 1111 1111, expires 12/27")
	input.PutStr("created_at", "2026-05-19T11:30:00Z")
	input.PutInt("max_tokens", 512)
	input.PutStr("order_id", "ORD-2021-400804")
	features := input.PutEmptyMap("features")
	for _, name := range []string{"age_bucket", "hour_sin", "score", "segment", "tenure_months"} {
		features.PutDouble(name, 0.1956)
	}
	tags := input.PutEmptySlice("tags")
	tags.AppendEmpty().SetStr("eu")
	tags.AppendEmpty().SetStr("web")
	customer := input.PutEmptyMap("customer")
	customer.PutStr("name", "Ana Lopez")
	customer.PutStr("iban", "DE89 3704 0044 0532 0130 00")
	customer.PutStr("password", "hunter2")
	history := input.PutEmptySlice("history")
	for i := 0; i < 3; i++ {
		event := history.AppendEmpty().SetEmptyMap()
		event.PutStr("event", "login")
		event.PutInt("t", int64(92+i))
		event.PutStr("ip", "203.0.113.17")
	}
	output := body.PutEmptyMap("output")
	output.PutStr("label", "approve")
	output.PutDouble("score", 0.8731)
	output.PutStr("explanation", "The transaction matches the customer's usual pattern; no anomaly was found in the last 30 days.")
}

func benchLogs(n int) plog.Logs {
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < n; i++ {
		auditRecord(records)
	}
	return logs
}

func BenchmarkProcessLogs(b *testing.B) {
	benchProcess(b, benchLogs(100), 32)
}

// benchProcess runs the processor over copies of template in turn, refilled outside the timer,
// and reports the time and CPU per record.
func benchProcess(b *testing.B, template plog.Logs, copies int) {
	p, err := newAuditRedaction(processortest.NewNopSettings(metadata.Type), &Config{RulesFile: shippedRules})
	if err != nil {
		b.Fatal(err)
	}
	records := template.LogRecordCount()
	// Copies are decoded from the protobuf request, as the OTLP receiver makes them: their
	// attribute slices have the spare capacity of a decoder's growth, not a copy's exact fit.
	request, err := (&plog.ProtoMarshaler{}).MarshalLogs(template)
	if err != nil {
		b.Fatal(err)
	}
	pending := make([]plog.Logs, copies)
	refill := func() {
		for i := range pending {
			if pending[i], err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(request); err != nil {
				b.Fatal(err)
			}
		}
	}
	refill()
	b.ReportAllocs()
	b.ResetTimer()
	var cpu int64
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%copies == 0 {
			b.StopTimer()
			cpu += cpuTime() - start
			refill()
			start = cpuTime()
			b.StartTimer()
		}
		if _, err := p.processLogs(context.Background(), pending[i%copies]); err != nil {
			b.Fatal(err)
		}
	}
	cpu += cpuTime() - start
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
	b.ReportMetric(float64(cpu)/float64(b.N*records), "cpu-ns/record")
	b.ReportMetric(float64(b.N*records)/(float64(cpu)/1e9), "records/cpu-s")
}

// BenchmarkCleanString: a string with no candidate must not allocate.
func BenchmarkCleanString(b *testing.B) {
	p, err := newAuditRedaction(processortest.NewNopSettings(metadata.Type), &Config{RulesFile: shippedRules})
	if err != nil {
		b.Fatal(err)
	}
	logs := plog.NewLogs()
	record := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		record.Body().SetStr("The transaction matches the customer's usual pattern; no anomaly was found.")
		record.Attributes().Clear()
		p.redactor.RedactLogRecord(record)
	}
}

var _ = pcommon.NewMap
