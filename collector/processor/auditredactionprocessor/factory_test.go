package auditredactionprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
)

func TestFactory(t *testing.T) {
	factory := NewFactory()
	if factory.Type().String() != "auditredaction" {
		t.Fatalf("type %s", factory.Type())
	}
	if err := componenttest.CheckConfigStruct(factory.CreateDefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if factory.LogsStability() != metadata.LogsStability || factory.TracesStability() != metadata.TracesStability {
		t.Fatal("stability")
	}
}

func TestLifecycle(t *testing.T) {
	factory := NewFactory()
	cfg := &Config{RulesFile: shippedRules}
	set := processortest.NewNopSettings(metadata.Type)
	logsSink, tracesSink := new(consumertest.LogsSink), new(consumertest.TracesSink)
	logs, err := factory.CreateLogs(context.Background(), set, cfg, logsSink)
	if err != nil {
		t.Fatal(err)
	}
	traces, err := factory.CreateTraces(context.Background(), set, cfg, tracesSink)
	if err != nil {
		t.Fatal(err)
	}
	host := componenttest.NewNopHost()
	if err := logs.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	if err := traces.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	if !logs.Capabilities().MutatesData || !traces.Capabilities().MutatesData {
		t.Fatal("the processor rewrites data: MutatesData must be set")
	}
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("mail ana@example.org")
	if err := logs.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("call +44 20 7946 0958")
	if err := traces.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if got := logsSink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str(); got != "mail [EMAIL]" {
		t.Errorf("log body %q", got)
	}
	if got := tracesSink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name(); got != "call [PHONE]" {
		t.Errorf("span name %q", got)
	}
	if err := logs.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := traces.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCreateFailsOnBadRules(t *testing.T) {
	_, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type),
		&Config{RulesFile: "testdata/pseudonymize.yaml"}, consumertest.NewNop())
	if err == nil {
		t.Fatal("a pseudonymizing rule file without a secret must be refused")
	}
}
