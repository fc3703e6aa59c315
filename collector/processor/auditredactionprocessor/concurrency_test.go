package auditredactionprocessor

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/redact"
)

// One processor redacts the PII corpus from several goroutines at once, while another
// processor is built (its patterns register their byte classes) alongside: every copy comes
// out as the corpus redacted alone. Run with -race, it also checks the pooled walkers' own key
// caches and the class table for data races.
func TestConcurrentRedactionIsSequentialRedaction(t *testing.T) {
	p, err := newAuditRedaction(processortest.NewNopSettings(metadata.Type), &Config{RulesFile: shippedRules})
	if err != nil {
		t.Fatal(err)
	}
	template := corpusLogs(t)
	request, err := (&plog.ProtoMarshaler{}).MarshalLogs(template)
	if err != nil {
		t.Fatal(err)
	}
	decode := func() plog.Logs {
		logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(request)
		if err != nil {
			t.Error(err)
		}
		return logs
	}
	alone := decode()
	if _, err := p.processLogs(context.Background(), alone); err != nil {
		t.Fatal(err)
	}
	want, err := (&plog.JSONMarshaler{}).MarshalLogs(alone)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				logs := decode()
				if _, err := p.processLogs(context.Background(), logs); err != nil {
					errs <- err
					return
				}
				got, err := (&plog.JSONMarshaler{}).MarshalLogs(logs)
				if err != nil || string(got) != string(want) {
					errs <- fmt.Errorf("a concurrent redaction differs from the sequential one (err %v)", err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			rules, err := redact.ParseRules(fmt.Sprintf("version: 1\ndetectors:\n  - name: ticket\n    pattern: '[~^|]{%d}QZ[0-9]{5}'\n", i+1), "inline")
			if err != nil {
				errs <- err
				return
			}
			if _, err := redact.New(rules, nil); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
