package logrows

// The mapping's specification is Python's: tests/service/test_ingest_helper.py compares the two on
// the project's corpora and on generated requests. These tests cover what Go alone can check:
// layout, refusals and robustness.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

var identity = &Identity{Version: "otel-audit.record/1", UIDKey: "log.record.uid", Events: map[string]bool{"prediction": true}}

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

// request is an ExportLogsServiceRequest of one resource: its field 1, written by hand (the
// collector's generated package would add gRPC to this module's requirements).
func request(t testing.TB, records ...*logspb.LogRecord) []byte {
	t.Helper()
	resource, err := proto.Marshal(&logspb.ResourceLogs{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: "service.name", Value: str("first")}, {Key: "service.name", Value: str("second")},
		}},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: records}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), resource)
}

func prediction(n int) *logspb.LogRecord {
	return &logspb.LogRecord{
		TimeUnixNano: 1_700_000_000_000_000_000, EventName: "prediction",
		Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
			Values: []*commonpb.KeyValue{{Key: "input", Value: str(fmt.Sprint("x", n%3))}},
		}}},
		Attributes: []*commonpb.KeyValue{{Key: "user.id", Value: str("u")}},
	}
}

func TestRowsAndTheirIdentity(t *testing.T) {
	var c Columns
	one, other := prediction(0), prediction(1)
	uid := &logspb.LogRecord{EventName: "prediction", Attributes: []*commonpb.KeyValue{{Key: "log.record.uid", Value: str("mine")}}}
	if err := c.Map(identity, [][]byte{request(t, one, one, other, uid), request(t, one)}); err != nil {
		t.Fatal(err)
	}
	if c.Rows != 5 {
		t.Fatalf("rows = %d, want 5", c.Rows)
	}
	service := c.strings[colServiceName]
	if got := string(service.data[service.offsets[0]:service.offsets[1]]); got != "first" {
		t.Errorf("ServiceName = %q, want the first service.name", got)
	}
	ids := map[string]int{}
	logs := &c.maps[mapLog]
	for row := 0; row < c.Rows; row++ {
		last := logs.offsets[row+1] - 1
		key := string(logs.keys.data[logs.keys.offsets[last]:logs.keys.offsets[last+1]])
		value := string(logs.values.data[logs.values.offsets[last]:logs.values.offsets[last+1]])
		if key != "log.record.uid" {
			t.Fatalf("row %d: last attribute %q, want the uid", row, key)
		}
		ids[value]++
	}
	// The repeat within a request is numbered apart; the same record in the next request is not.
	if len(ids) != 4 || ids["mine"] != 1 {
		t.Errorf("ids = %v: want the sender's, three distinct content ids, one of them twice", ids)
	}
}

func TestRefusesWhatPythonRejects(t *testing.T) {
	var c Columns
	late := &logspb.LogRecord{TimeUnixNano: 1 << 63}
	loud := &logspb.LogRecord{SeverityNumber: 300}
	for name, payloads := range map[string][][]byte{
		"timestamp past 2262": {request(t, late)},
		"severity past 255":   {request(t, loud)},
		"not protobuf":        {request(t, prediction(0)), {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		if err := c.Map(identity, payloads); !errors.Is(err, ErrNotExact) {
			t.Errorf("%s: err = %v, want ErrNotExact", name, err)
		}
	}
}

func TestWriteToLayout(t *testing.T) {
	var c Columns
	if err := c.Map(identity, [][]byte{request(t, prediction(0), prediction(1))}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := c.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	data, count := out.Bytes(), 0
	for len(data) > 0 {
		length := binary.LittleEndian.Uint64(data)
		data = data[8+length:]
		count++
	}
	if count != BufferCount {
		t.Fatalf("%d buffers, want %d", count, BufferCount)
	}
}

func FuzzMapNeverPanics(f *testing.F) {
	f.Add(request(f, prediction(0)))
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c Columns
		if err := c.Map(identity, [][]byte{payload}); err != nil && !errors.Is(err, ErrNotExact) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func BenchmarkMap(b *testing.B) {
	records := make([]*logspb.LogRecord, 1000)
	for i := range records {
		records[i] = prediction(i)
	}
	payloads := [][]byte{request(b, records...)}
	var c Columns
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.Map(identity, payloads); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(records)), "ns/record")
}
