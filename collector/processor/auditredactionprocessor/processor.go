package auditredactionprocessor

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/redact"
)

const failureLogInterval = 10 * time.Second

type auditRedaction struct {
	redactor  *redact.Redactor
	telemetry *metadata.TelemetryBuilder
	logger    *zap.Logger

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

func newAuditRedaction(set processor.Settings, cfg *Config) (*auditRedaction, error) {
	rules, err := redact.LoadRules(cfg.RulesFile)
	if err != nil {
		return nil, err
	}
	var secret []byte
	if cfg.Secret != "" {
		secret = []byte(string(cfg.Secret))
	}
	r, err := redact.New(rules, secret)
	if err != nil {
		return nil, err
	}
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	if len(secret) > 0 && len(secret) < 16 {
		set.Logger.Warn("the redaction secret is short; use at least 16 bytes so pseudonyms cannot be brute-forced",
			zap.Int("bytes", len(secret)))
	}
	return &auditRedaction{redactor: r, telemetry: telemetry, logger: set.Logger}, nil
}

// report counts a withheld record and logs the failure (never the data), at most every 10 s.
func (p *auditRedaction) report(ctx context.Context, signal string, outcome redact.Outcome, err error) {
	switch outcome {
	case redact.OverBudget:
		p.telemetry.ProcessorAuditredactionOverBudgetRecords.Add(ctx, 1)
		return
	case redact.FailedClosed:
		p.telemetry.ProcessorAuditredactionFailedClosedRecords.Add(ctx, 1)
	default:
		return
	}
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.lastLog) < failureLogInterval {
		p.suppressed++
		p.mu.Unlock()
		return
	}
	suppressed := p.suppressed
	p.lastLog, p.suppressed = now, 0
	p.mu.Unlock()
	// The error names its kind only: it never quotes the value being redacted.
	p.logger.Error("otel-audit redaction of a record failed; its data was withheld",
		zap.String("signal", signal), zap.String("error", redact.PythonName(err)),
		zap.Int("similar_failures_not_logged", suppressed))
}

func (p *auditRedaction) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	resources := ld.ResourceLogs()
	for i := 0; i < resources.Len(); i++ {
		scopes := resources.At(i).ScopeLogs()
		for j := 0; j < scopes.Len(); j++ {
			records := scopes.At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				if outcome, err := p.redactor.RedactLogRecord(records.At(k)); outcome != redact.Redacted {
					p.report(ctx, "log", outcome, err)
				}
			}
		}
	}
	return ld, nil
}

func (p *auditRedaction) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	resources := td.ResourceSpans()
	for i := 0; i < resources.Len(); i++ {
		scopes := resources.At(i).ScopeSpans()
		for j := 0; j < scopes.Len(); j++ {
			spans := scopes.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				if outcome, err := p.redactor.RedactSpan(spans.At(k)); outcome != redact.Redacted {
					p.report(ctx, "span", outcome, err)
				}
			}
		}
	}
	return td, nil
}
