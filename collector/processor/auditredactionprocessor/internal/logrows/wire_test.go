package logrows

// The wire decoder against the protobuf library: whatever the decoder accepts, the library
// parses to the same values (generated canonical requests must all be accepted; fuzzed bytes
// may be refused, never read differently).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// tree is a value as plain Go data, duplicates and order kept, for comparing both decoders; a
// nested value the decoder refuses is an error, as it is when the mapping writes it.
func tree(v anyValue) (any, error) {
	switch v.kind {
	case kindString:
		return "s:" + v.str, nil
	case kindBool:
		return v.num != 0, nil
	case kindInt:
		return int64(v.num), nil //nolint:gosec // int_value's two's complement
	case kindDouble:
		return math.Float64frombits(v.num), nil
	case kindBytes:
		return "b:" + string(v.raw), nil
	case kindArray:
		out := []any{"array"}
		err := eachRepeated(v.raw, 1, func(raw []byte) error {
			item, err := decodeAnyValue(raw)
			if err != nil {
				return err
			}
			value, err := tree(item)
			out = append(out, value)
			return err
		})
		return out, err
	case kindKvlist:
		items, err := appendKeyValues(nil, v.raw, 1)
		if err != nil {
			return nil, err
		}
		return pairs(items)
	}
	return nil, nil
}

func pairs(items []keyValue) ([]any, error) {
	out := []any{"kvlist"}
	for _, item := range items {
		value, err := tree(item.value)
		if err != nil {
			return nil, err
		}
		out = append(out, item.key, value)
	}
	return out, nil
}

func libraryTree(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return "s:" + x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return "b:" + string(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		out := []any{"array"}
		for _, item := range x.ArrayValue.GetValues() {
			out = append(out, libraryTree(item))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return libraryPairs(x.KvlistValue.GetValues())
	}
	return nil
}

func libraryPairs(items []*commonpb.KeyValue) []any {
	out := []any{"kvlist"}
	for _, item := range items {
		out = append(out, item.GetKey(), libraryTree(item.GetValue()))
	}
	return out
}

// decoded is a request as plain data, from the wire decoder.
func decoded(payload []byte) ([]any, error) {
	raws, ok := resourceLogs(payload)
	if !ok {
		return nil, errMalformed
	}
	var out []any
	var resource resourceLogsMessage
	var scope scopeLogs
	var record logRecord
	for _, raw := range raws {
		if err := decodeResourceLogs(raw, &resource); err != nil {
			return nil, err
		}
		attributes, err := pairs(resource.attributes)
		if err != nil {
			return nil, err
		}
		out = append(out, "resource", resource.schemaURL, attributes)
		for _, rawScope := range resource.scopes {
			if err := decodeScopeLogs(rawScope, &scope); err != nil {
				return nil, err
			}
			attributes, err := pairs(scope.attributes)
			if err != nil {
				return nil, err
			}
			out = append(out, "scope", scope.schemaURL, scope.name, scope.version, attributes)
			for _, rawRecord := range scope.records {
				if err := decodeLogRecord(rawRecord, &record); err != nil {
					return nil, err
				}
				body := any("absent")
				if record.hasBody {
					if body, err = tree(record.body); err != nil {
						return nil, err
					}
				}
				attributes, err := pairs(record.attributes)
				if err != nil {
					return nil, err
				}
				out = append(out, record.time, record.observed, record.severity, record.severityText, body,
					attributes, record.flags, fmt.Sprintf("%x/%x", record.traceID, record.spanID),
					record.traceID == nil, record.spanID == nil, record.eventName)
			}
		}
	}
	return out, nil
}

func libraryDecoded(payload []byte) ([]any, error) {
	raws, ok := resourceLogs(payload)
	if !ok {
		return nil, errMalformed
	}
	var out []any
	for _, raw := range raws {
		var resource logspb.ResourceLogs
		if err := proto.Unmarshal(raw, &resource); err != nil {
			return nil, err
		}
		out = append(out, "resource", resource.GetSchemaUrl(), libraryPairs(resource.GetResource().GetAttributes()))
		for _, scope := range resource.GetScopeLogs() {
			s := scope.GetScope()
			out = append(out, "scope", scope.GetSchemaUrl(), s.GetName(), s.GetVersion(), libraryPairs(s.GetAttributes()))
			for _, r := range scope.GetLogRecords() {
				body := any("absent")
				if r.Body != nil {
					body = libraryTree(r.Body)
				}
				// The library keeps an empty bytes field as an empty, non-nil slice, as this decoder does.
				out = append(out, r.GetTimeUnixNano(), r.GetObservedTimeUnixNano(), int32(r.GetSeverityNumber()),
					r.GetSeverityText(), body, libraryPairs(r.GetAttributes()), r.GetFlags(),
					fmt.Sprintf("%x/%x", r.GetTraceId(), r.GetSpanId()), r.TraceId == nil, r.SpanId == nil,
					r.GetEventName())
			}
		}
	}
	return out, nil
}

// randomValue is a random AnyValue, nested up to depth.
func randomValue(rng *rand.Rand, depth int) *commonpb.AnyValue {
	texts := []string{"", "a", "é", "ключ", "😀", "service.name", "\x00", "x y"}
	switch n := rng.IntN(9); {
	case n == 0:
		return &commonpb.AnyValue{}
	case n == 1:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: rng.IntN(2) == 1}}
	case n == 2:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: rng.Int64() - math.MaxInt64/2}}
	case n == 3:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: rng.NormFloat64() * 1e10}}
	case n == 4:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte(texts[rng.IntN(len(texts))])}}
	case n == 5 && depth > 0:
		array := &commonpb.ArrayValue{}
		for range rng.IntN(4) {
			array.Values = append(array.Values, randomValue(rng, depth-1))
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: array}}
	case n == 6 && depth > 0:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
			Values: randomAttributes(rng, depth-1),
		}}}
	}
	return str(texts[rng.IntN(len(texts))])
}

func randomAttributes(rng *rand.Rand, depth int) []*commonpb.KeyValue {
	keys := []string{"a", "b", "a", "service.name", "log.record.uid", "ключ", ""}
	var out []*commonpb.KeyValue
	for range rng.IntN(5) {
		item := &commonpb.KeyValue{Key: keys[rng.IntN(len(keys))]}
		if rng.IntN(6) > 0 {
			item.Value = randomValue(rng, depth)
		}
		out = append(out, item)
	}
	return out
}

func randomRequest(rng *rand.Rand) []byte {
	var payload []byte
	for range 1 + rng.IntN(2) {
		resource := &logspb.ResourceLogs{SchemaUrl: []string{"", "https://x/1"}[rng.IntN(2)]}
		if rng.IntN(4) > 0 {
			resource.Resource = &resourcepb.Resource{Attributes: randomAttributes(rng, 2)}
		}
		for range 1 + rng.IntN(2) {
			scope := &logspb.ScopeLogs{SchemaUrl: []string{"", "s"}[rng.IntN(2)]}
			if rng.IntN(2) == 1 {
				scope.Scope = &commonpb.InstrumentationScope{Name: "otel_audit", Version: "1", Attributes: randomAttributes(rng, 1)}
			}
			for range 1 + rng.IntN(4) {
				record := &logspb.LogRecord{
					TimeUnixNano: rng.Uint64() >> rng.IntN(64), ObservedTimeUnixNano: rng.Uint64() >> rng.IntN(64),
					SeverityNumber: logspb.SeverityNumber(rng.IntN(300) - 20), SeverityText: "INFO",
					Attributes: randomAttributes(rng, 3), Flags: rng.Uint32(),
					TraceId:   [][]byte{nil, {}, make([]byte, 16), []byte("0123456789abcdef")}[rng.IntN(4)],
					SpanId:    [][]byte{nil, make([]byte, 8), []byte("01234567")}[rng.IntN(3)],
					EventName: []string{"", "prediction", "other"}[rng.IntN(3)],
				}
				if rng.IntN(5) > 0 {
					record.Body = randomValue(rng, 3)
				}
				scope.LogRecords = append(scope.LogRecords, record)
			}
			resource.ScopeLogs = append(resource.ScopeLogs, scope)
		}
		raw, err := proto.Marshal(resource)
		if err != nil {
			panic(err)
		}
		payload = protowire.AppendBytes(protowire.AppendTag(payload, 1, protowire.BytesType), raw)
	}
	return payload
}

func TestDecoderReadsWhatTheLibraryReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 3000 {
		payload := randomRequest(rng)
		got, err := decoded(payload)
		if err != nil {
			t.Fatalf("trial %d: a canonical request refused: %v", trial, err)
		}
		want, err := libraryDecoded(payload)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d:\n decoder %v\n library %v", trial, got, want)
		}
	}
}

// Non-canonical encodings the decoder refuses (Python maps those batches): a singular message
// twice (parsers merge the two), a oneof set twice, a string field with a varint.
func TestDecoderRefusesWhatParsersMerge(t *testing.T) {
	record := func(fields ...[]byte) []byte {
		var raw []byte
		for _, f := range fields {
			raw = append(raw, f...)
		}
		scope := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), raw)
		resource := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), scope)
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), resource)
	}
	body := func(value []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 5, protowire.BytesType), value)
	}
	stringValue := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "x")
	intValue := protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 7)
	for name, payload := range map[string][]byte{
		"body twice":           record(body(stringValue), body(intValue)),
		"a oneof set twice":    record(body(append(append([]byte{}, stringValue...), intValue...))),
		"severity_text varint": record(protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 1)),
		"a string not UTF-8":   record(protowire.AppendString(protowire.AppendTag(nil, 3, protowire.BytesType), "\xff")),
	} {
		if _, err := decoded(payload); err == nil {
			t.Errorf("%s: accepted", name)
		}
		var c Columns
		if err := c.Map(identity, [][]byte{payload}); err == nil {
			t.Errorf("%s: mapped", name)
		}
	}
}

func FuzzDecoderReadsWhatTheLibraryReads(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(randomRequest(rng))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := decoded(payload)
		if err != nil {
			return // refused: Python maps it
		}
		want, err := libraryDecoded(payload)
		if err != nil {
			t.Fatalf("the decoder read a request the library refuses (%v)", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoder %v\nlibrary %v", got, want)
		}
	})
}
