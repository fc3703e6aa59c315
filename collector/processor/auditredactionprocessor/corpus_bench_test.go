package auditredactionprocessor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
)

// bench/bench_collector.py's corpora: pii (its default) and redaction.
const (
	piiCorpus       = "../../../tests/data/pii_corpus.jsonl"
	redactionCorpus = "../../../tests/data/redaction_corpus.jsonl"
)

// corpusLogs is bench/bench_collector.py's default corpus: its records as one plog.Logs.
func corpusLogs(b testing.TB) plog.Logs { return corpusFileLogs(b, piiCorpus) }

// corpusFileLogs is a corpus file's records as one plog.Logs, as bench_collector.py sends them
// (a {"$corpus.bytes": text} map is a bytes value).
func corpusFileLogs(b testing.TB, path string) plog.Logs {
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	logs := plog.NewLogs()
	records := logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		decoder := json.NewDecoder(bytes.NewReader(scanner.Bytes()))
		decoder.UseNumber()
		var line map[string]any
		if err := decoder.Decode(&line); err != nil {
			b.Fatal(err)
		}
		record := records.AppendEmpty()
		body, ok := line["body"]
		if !ok {
			body = map[string]any{"input": line["input"], "output": line["output"]}
		}
		if err := record.Body().FromRaw(numbers(bytesValues(body))); err != nil {
			b.Fatal(err)
		}
		attributes := bytesValues(line["attributes"]).(map[string]any)
		if err := record.Attributes().FromRaw(numbers(attributes).(map[string]any)); err != nil {
			b.Fatal(err)
		}
	}
	if err := scanner.Err(); err != nil {
		b.Fatal(err)
	}
	return logs
}

// bytesValues turns the corpus's {"$corpus.bytes": text} maps into []byte.
func bytesValues(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if text, ok := t["$corpus.bytes"].(string); ok && len(t) == 1 {
			return []byte(text)
		}
		for k, item := range t {
			t[k] = bytesValues(item)
		}
	case []any:
		for i, item := range t {
			t[i] = bytesValues(item)
		}
	}
	return v
}

// numbers turns json.Number into int64 or float64, as the OTLP request of the Python bench has them.
func numbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, item := range t {
			t[k] = numbers(item)
		}
		return t
	case []any:
		for i, item := range t {
			t[i] = numbers(item)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// BenchmarkPIICorpus: the processor over bench_collector.py's PII corpus (every record once per
// op). A few copies are redacted in turn and refilled outside the timer, so the records are warm
// in the cache, as they are in the collector right after the receiver decoded them.
func BenchmarkPIICorpus(b *testing.B) {
	benchProcess(b, corpusLogs(b), 4)
}

// BenchmarkRedactionCorpus: the same over bench_collector.py's redaction corpus (1,264 records
// of independent generators, shorter than the PII corpus's and denser in personal data).
func BenchmarkRedactionCorpus(b *testing.B) {
	benchProcess(b, corpusFileLogs(b, redactionCorpus), 1)
}

// BenchmarkCorpusPipeline: the collector's own work on each corpus without the network and the
// disk, side by side: passthrough decodes a request of the corpus's records from protobuf (as the
// OTLP receiver does) and encodes it as the file exporter's JSON; auditredaction redacts in
// between. Each op decodes the request afresh, so the records are not warm in the cache from the
// op before. The ns/record of the two, in one run, give the processor's ratio with the
// steadiness that bench/bench_collector.py's HTTP and file writes lack.
func BenchmarkCorpusPipeline(b *testing.B) {
	p, err := newAuditRedaction(processortest.NewNopSettings(metadata.Type), &Config{RulesFile: shippedRules})
	if err != nil {
		b.Fatal(err)
	}
	for _, corpus := range []struct{ name, path string }{{"pii", piiCorpus}, {"redaction", redactionCorpus}} {
		request, err := (&plog.ProtoMarshaler{}).MarshalLogs(corpusFileLogs(b, corpus.path))
		if err != nil {
			b.Fatal(err)
		}
		for _, redact := range []bool{false, true} {
			name := corpus.name + "/passthrough"
			if redact {
				name = corpus.name + "/auditredaction"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				records := 0
				for i := 0; i < b.N; i++ {
					logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(request)
					if err != nil {
						b.Fatal(err)
					}
					if redact {
						if logs, err = p.processLogs(context.Background(), logs); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := (&plog.JSONMarshaler{}).MarshalLogs(logs); err != nil {
						b.Fatal(err)
					}
					records += logs.LogRecordCount()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
			})
		}
	}
}
