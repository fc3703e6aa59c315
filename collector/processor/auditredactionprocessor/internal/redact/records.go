package redact

import (
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The port of otel_audit/redact/processor.py: how a log record and a span are redacted, with
// their count attributes and the fail-closed withholding.

// Outcome of redacting one record.
type Outcome int

const (
	// Redacted: the record was redacted (possibly nothing to replace).
	Redacted Outcome = iota
	// FailedClosed: redaction failed; the record's data was withheld (audit.redaction.error=1).
	FailedClosed
	// OverBudget: the record went over limits.max_record_chars and was withheld.
	OverBudget
)

const (
	// WithheldMessage is the value of processor.WITHHELD_BODY's "$redaction" key.
	WithheldMessage   = "withheld: record over the redaction budget"
	withheldBodyKey   = "$redaction"
	errorBodyKey      = "redaction_error"
	errorSpanName     = "[REDACTION_ERROR]"
	withheldSpanName  = "[REDACTION_WITHHELD]"
	withheldSpanError = "withheld: over the redaction budget"
	failedSpanError   = "redaction failed"
)

func outcomeOf(err error) Outcome {
	if _, ok := err.(*BudgetError); ok {
		return OverBudget
	}
	return FailedClosed
}

// putCounts adds count_attributes(counts): audit.redaction.<name> (> 0) and the total.
func putCounts(m pcommon.Map, counts *Counts) {
	m.EnsureCapacity(m.Len() + countAttributes(counts)) // one allocation, not one growth per counter
	appendCounts(m, counts)
}

// countAttributes is how many attributes putCounts adds.
func countAttributes(counts *Counts) int {
	added := 1
	for _, value := range counts.Values {
		if value != 0 {
			added++
		}
	}
	return added
}

func appendCounts(m pcommon.Map, counts *Counts) {
	for i, key := range counts.keys {
		if counts.Values[i] != 0 {
			m.PutInt(key, int64(counts.Values[i]))
		}
	}
	m.PutInt(RedactionCount, int64(counts.Total()))
}

// keepAllowed removes every attribute not on the allow-list (and every audit.redaction.*).
func (r *Redactor) keepAllowed(m pcommon.Map) {
	m.RemoveIf(func(k string, _ pcommon.Value) bool {
		return !r.allowKeys[k] || len(k) >= len(RedactionPrefix) && k[:len(RedactionPrefix)] == RedactionPrefix
	})
}

// finishAttributes puts the entries of changed after the others, keeping both groups in order
// (what the SDK's BoundedAttributes does to a log record's attributes when processor.py writes
// changed values back: a replaced value is re-inserted at the end), then adds the counts. The
// changed entries are taken out in one pass and put back: each put scans the map for its key
// (pcommon.Map is a list), so rebuilding it entry by entry would cost a scan per entry.
func finishAttributes(m pcommon.Map, changed []string, counts *Counts) {
	if len(changed) == 0 {
		putCounts(m, counts)
		return
	}
	isChanged := func(k string) bool { return slices.Contains(changed, k) }
	if len(changed) > 16 { // many changed entries: a set, not a scan of the list per attribute
		set := make(map[string]bool, len(changed))
		for _, key := range changed {
			set[key] = true
		}
		isChanged = func(k string) bool { return set[k] }
	}
	moved := pcommon.NewMap()
	moved.EnsureCapacity(len(changed))
	m.RemoveIf(func(k string, v pcommon.Value) bool {
		if !isChanged(k) {
			return false
		}
		v.MoveTo(moved.PutEmpty(k))
		return true
	})
	m.EnsureCapacity(m.Len() + moved.Len() + countAttributes(counts))
	moved.Range(func(k string, v pcommon.Value) bool {
		v.MoveTo(m.PutEmpty(k))
		return true
	})
	appendCounts(m, counts)
}

// RedactLogRecord is RedactingLogRecordProcessor.on_emit: the body and attributes are redacted
// in place and the counts added; on any failure the record is withheld (fail closed).
func (r *Redactor) RedactLogRecord(record plog.LogRecord) (outcome Outcome, err error) {
	pw := r.getWalker()
	defer r.putWalker(pw)
	counts := &pw.counts
	var changed []string
	err = func() (err error) {
		defer catch(&err)
		w := &pw.walker
		if body := record.Body(); body.Type() != pcommon.ValueTypeEmpty {
			w.value(body, 0)
		}
		if attributes := record.Attributes(); attributes.Len() > 0 && w.mapping(attributes, 0, true) {
			changed = w.changed
		}
		return nil
	}()
	attributes := record.Attributes()
	if err == nil {
		finishAttributes(attributes, changed, counts)
		return Redacted, nil
	}
	outcome = outcomeOf(err)
	body := record.Body().SetEmptyMap()
	flag := RedactionError
	if outcome == OverBudget {
		body.PutStr(withheldBodyKey, WithheldMessage)
		flag = RedactionOverBudget
	} else {
		body.PutStr(errorBodyKey, "redaction failed ("+PythonName(err)+"); the data was withheld")
	}
	r.keepAllowed(attributes)
	attributes.PutInt(flag, 1)
	attributes.PutInt(RedactionCount, 1)
	return outcome, err
}

// RedactSpan is processor.redact_span with RedactingSpanExporter's fail-closed handling: name,
// attributes, event and link attributes and the status message are redacted in place.
func (r *Redactor) RedactSpan(span ptrace.Span) (outcome Outcome, err error) {
	pw := r.getWalker()
	defer r.putWalker(pw)
	counts := &pw.counts
	err = func() (err error) {
		defer catch(&err)
		w := &pw.walker
		if name, changed := w.scan(span.Name()); changed {
			span.SetName(name)
		}
		w.mapping(span.Attributes(), 0, true)
		events := span.Events()
		for i := 0; i < events.Len(); i++ {
			w.mapping(events.At(i).Attributes(), 0, true)
		}
		links := span.Links()
		for i := 0; i < links.Len(); i++ {
			w.mapping(links.At(i).Attributes(), 0, true)
		}
		status := span.Status()
		if message := status.Message(); message != "" {
			if redacted, changed := w.scan(message); changed {
				status.SetMessage(redacted)
			}
		}
		return nil
	}()
	if err == nil {
		putCounts(span.Attributes(), counts)
		return Redacted, nil
	}
	outcome = outcomeOf(err)
	attributes := span.Attributes()
	r.keepAllowed(attributes)
	name, reason, flag := errorSpanName, failedSpanError, RedactionError
	if outcome == OverBudget {
		name, reason, flag = withheldSpanName, withheldSpanError, RedactionOverBudget
	}
	attributes.PutInt(flag, 1)
	attributes.PutInt(RedactionCount, 1)
	span.SetName(name)
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		events.At(i).Attributes().Clear()
	}
	links := span.Links()
	for i := 0; i < links.Len(); i++ {
		links.At(i).Attributes().Clear()
	}
	if span.Status().Code() == ptrace.StatusCodeError {
		span.Status().SetMessage(reason)
	} else {
		span.Status().SetMessage("")
	}
	return outcome, err
}

// pooledWalker is a walker with its counts and budget, reused between records (its scratch
// buffers too).
type pooledWalker struct {
	walker
	counts Counts
	budget Budget
}

func (r *Redactor) getWalker() *pooledWalker {
	pw, _ := r.walkers.Get().(*pooledWalker)
	if pw == nil {
		pw = &pooledWalker{}
	}
	pw.counts = Counts{}
	pw.budget = Budget{limit: r.maxChars, remaining: r.maxChars}
	pw.walker.r, pw.walker.counts, pw.walker.budget = r, &pw.counts, &pw.budget
	return pw
}

// putWalker returns pw to the pool, its buffers wiped: no record's data stays behind.
func (r *Redactor) putWalker(pw *pooledWalker) {
	w := &pw.walker
	clear(w.plans[:cap(w.plans)])
	clear(w.found[:cap(w.found)])
	clear(w.join[:cap(w.join)])
	clear(w.changed[:cap(w.changed)])
	w.plans, w.found, w.join, w.changed = w.plans[:0], w.found[:0], w.join[:0], w.changed[:0]
	pw.counts = Counts{}
	r.walkers.Put(pw)
}
