package auditredactionprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
)

func newTestProcessor(t *testing.T, cfg *Config) (*auditRedaction, *componenttest.Telemetry) {
	t.Helper()
	telemetry := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = telemetry.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = telemetry.NewTelemetrySettings()
	p, err := newAuditRedaction(set, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, telemetry
}

func oneLog() (plog.Logs, plog.LogRecord) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.owner", "ana@example.org")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().Attributes().PutStr("scope.contact", "ana@example.org")
	return ld, sl.LogRecords().AppendEmpty()
}

func attributes(m pcommon.Map) [][2]string {
	var out [][2]string
	m.Range(func(k string, v pcommon.Value) bool {
		out = append(out, [2]string{k, v.AsString()})
		return true
	})
	return out
}

func equal(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLogRecordCountsAndOrder(t *testing.T) {
	p, _ := newTestProcessor(t, &Config{RulesFile: shippedRules})
	ld, record := oneLog()
	body := record.Body().SetEmptyMap()
	body.PutStr("note", "mail ana@example.org or call +44 20 7946 0958")
	body.PutStr("password", "hunter2")
	body.PutInt("card", 4111111111111111)
	attrs := record.Attributes()
	attrs.PutStr("user.id", "ana@example.org") // allow-listed: never touched
	attrs.PutStr("app.contact", "bob@example.org")
	attrs.PutStr("app.channel", "web")
	attrs.PutInt("audit.redaction.count", 0) // only the redactor writes these
	attrs.PutStr("audit.output.label", "ana@example.org")
	if _, err := p.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{"note": "mail [EMAIL] or call [PHONE]", "card": "[CARD]"}
	if got := record.Body().Map().AsRaw(); len(got) != 2 || got["note"] != wantBody["note"] || got["card"] != wantBody["card"] {
		t.Errorf("body %v", got)
	}
	// Python's order: unchanged attributes first, the changed ones re-inserted after them, then the counts.
	want := [][2]string{
		{"user.id", "ana@example.org"}, {"app.channel", "web"}, {"app.contact", "[EMAIL]"},
		{"audit.redaction.email", "2"}, {"audit.redaction.phone", "1"}, {"audit.redaction.credential", "1"},
		{"audit.redaction.card", "1"}, {"audit.redaction.reserved", "1"}, {"audit.redaction.label", "1"},
		{"audit.redaction.count", "7"},
	}
	if got := attributes(attrs); !equal(got, want) {
		t.Errorf("attributes\n got %v\nwant %v", got, want)
	}
	resource := ld.ResourceLogs().At(0)
	if v, _ := resource.Resource().Attributes().Get("service.owner"); v.Str() != "ana@example.org" {
		t.Error("resource attributes are configuration: untouched")
	}
	if v, _ := resource.ScopeLogs().At(0).Scope().Attributes().Get("scope.contact"); v.Str() != "ana@example.org" {
		t.Error("scope attributes are configuration: untouched")
	}
}

func TestNothingToRedactStillCounts(t *testing.T) {
	p, _ := newTestProcessor(t, &Config{RulesFile: shippedRules})
	ld, record := oneLog()
	record.Body().SetStr("nothing personal here")
	record.Attributes().PutStr("gen_ai.request.model", "fraud_detector")
	if _, err := p.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"gen_ai.request.model", "fraud_detector"}, {"audit.redaction.count", "0"}}
	if got := attributes(record.Attributes()); !equal(got, want) || record.Body().Str() != "nothing personal here" {
		t.Errorf("got %v %q", got, record.Body().Str())
	}
}

func counterValue(t *testing.T, telemetry *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := telemetry.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, point := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += point.Value
	}
	return total
}

func TestOverBudgetIsWithheld(t *testing.T) {
	p, telemetry := newTestProcessor(t, &Config{RulesFile: "testdata/small_budget.yaml"})
	ld, record := oneLog()
	body := record.Body().SetEmptyMap()
	long := make([]byte, 2000)
	for i := range long {
		long[i] = 'x'
	}
	body.PutStr("note", string(long))
	record.Attributes().PutStr("user.id", "u-1")
	record.Attributes().PutStr("app.note", "ana@example.org")
	if _, err := p.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if got := record.Body().Map().AsRaw(); got["$redaction"] != "withheld: record over the redaction budget" || len(got) != 1 {
		t.Errorf("body %v", got)
	}
	want := [][2]string{{"user.id", "u-1"}, {"audit.redaction.over_budget", "1"}, {"audit.redaction.count", "1"}}
	if got := attributes(record.Attributes()); !equal(got, want) {
		t.Errorf("attributes %v", got)
	}
	if n := counterValue(t, telemetry, "otelcol_processor_auditredaction_over_budget_records"); n != 1 {
		t.Errorf("over-budget counter %d", n)
	}
}

func TestFailClosedOnDepth(t *testing.T) {
	p, telemetry := newTestProcessor(t, &Config{RulesFile: shippedRules})
	ld, record := oneLog()
	m := record.Body().SetEmptyMap()
	for i := 0; i < 70; i++ {
		m = m.PutEmptyMap("d")
	}
	m.PutStr("x", "ana@example.org")
	record.Attributes().PutStr("audit.request.id", "r-1")
	record.Attributes().PutStr("app.x", "ana@example.org")
	if _, err := p.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if got := record.Body().Map().AsRaw(); got["redaction_error"] != "redaction failed (RedactionDepthError); the data was withheld" {
		t.Errorf("body %v", got)
	}
	want := [][2]string{{"audit.request.id", "r-1"}, {"audit.redaction.error", "1"}, {"audit.redaction.count", "1"}}
	if got := attributes(record.Attributes()); !equal(got, want) {
		t.Errorf("attributes %v", got)
	}
	if n := counterValue(t, telemetry, "otelcol_processor_auditredaction_failed_closed_records"); n != 1 {
		t.Errorf("failed-closed counter %d", n)
	}
}

func TestSpan(t *testing.T) {
	p, _ := newTestProcessor(t, &Config{RulesFile: shippedRules})
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName("predict for ana@example.org")
	span.Attributes().PutStr("ana@example.org", "key holds an address")
	span.Attributes().PutStr("gen_ai.request.model", "m")
	event := span.Events().AppendEmpty()
	event.SetName("exception ana@example.org") // event names are kept, as in Python
	event.Attributes().PutStr("exception.message", "bad card 4111 1111 1111 1111")
	span.Links().AppendEmpty().Attributes().PutStr("peer", "+44 20 7946 0958")
	span.Status().SetCode(ptrace.StatusCodeError)
	span.Status().SetMessage("failed for ana@example.org")
	if _, err := p.processTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if span.Name() != "predict for [EMAIL]" || span.Status().Message() != "failed for [EMAIL]" {
		t.Errorf("name %q status %q", span.Name(), span.Status().Message())
	}
	want := [][2]string{{"[EMAIL]", "key holds an address"}, {"gen_ai.request.model", "m"},
		{"audit.redaction.email", "3"}, {"audit.redaction.card", "1"}, {"audit.redaction.phone", "1"}, {"audit.redaction.count", "5"}}
	if got := attributes(span.Attributes()); !equal(got, want) {
		t.Errorf("attributes\n got %v\nwant %v", got, want)
	}
	if event.Name() != "exception ana@example.org" {
		t.Errorf("event name %q", event.Name())
	}
	if v, _ := event.Attributes().Get("exception.message"); v.Str() != "bad card [CARD]" {
		t.Errorf("event %q", v.Str())
	}
	if v, _ := span.Links().At(0).Attributes().Get("peer"); v.Str() != "[PHONE]" {
		t.Errorf("link %q", v.Str())
	}
}

func TestSpanFailClosed(t *testing.T) {
	p, _ := newTestProcessor(t, &Config{RulesFile: "testdata/small_budget.yaml"})
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	long := make([]byte, 1500)
	for i := range long {
		long[i] = 'y'
	}
	span.SetName(string(long))
	span.Attributes().PutStr("user.id", "u")
	span.Attributes().PutStr("app.x", "z")
	span.Events().AppendEmpty().Attributes().PutStr("a", "b")
	span.Status().SetCode(ptrace.StatusCodeError)
	span.Status().SetMessage("boom ana@example.org")
	if _, err := p.processTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"user.id", "u"}, {"audit.redaction.over_budget", "1"}, {"audit.redaction.count", "1"}}
	if got := attributes(span.Attributes()); !equal(got, want) || span.Name() != "[REDACTION_WITHHELD]" ||
		span.Status().Message() != "withheld: over the redaction budget" || span.Events().At(0).Attributes().Len() != 0 {
		t.Errorf("got %v %q %q", got, span.Name(), span.Status().Message())
	}
}

func TestPseudonyms(t *testing.T) {
	p, _ := newTestProcessor(t, &Config{RulesFile: "testdata/pseudonymize.yaml", Secret: "test-secret-of-at-least-16-bytes"})
	ld, record := oneLog()
	body := record.Body().SetEmptyMap()
	body.PutStr("a", "Ana@Example.org")
	body.PutStr("b", "ana%40example.org")
	body.PutStr("ssn", "123-45-6789")
	if _, err := p.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	got := record.Body().Map().AsRaw()
	// Same normalized value, same secret: same pseudonym (the decoded view is what is hashed).
	if got["a"] != got["b"] || len(got["a"].(string)) != len("[EMAIL:0123456789abcdef]") {
		t.Errorf("pseudonyms %v", got)
	}
	if got["ssn"] == "123-45-6789" || got["ssn"].(string)[:13] != "[NATIONAL_ID:" {
		t.Errorf("key rule pseudonym %v", got["ssn"])
	}
}
