package logrows

// A decoder for the part of an OTLP logs request the mapping reads, straight from the protobuf
// wire format: no message objects, and strings that point into the payload (every string the
// mapping keeps is copied into a column, and the payload outlives the batch's mapping). The
// Go protobuf library's reflective decoding was two thirds of the helper's time.
//
// It reads what a canonical encoder writes, as Python's parser would read it: scalars and
// strings (the last occurrence wins), repeated messages in order, unknown fields skipped. Where
// parsers must merge (a singular message field twice) or a oneof is set twice, where a field the
// mapping reads has an unexpected wire type, or a string is not UTF-8, it refuses with
// ErrNotExact and Python maps the batch; so it does for a message field parsers read and the
// mapping does not (a resource's entity references). The test compares it with the protobuf
// library on generated and fuzzed requests.

import (
	"fmt"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

type valueKind uint8

const (
	kindNone valueKind = iota // no value set, or string_value_strindex (None in Python)
	kindString
	kindBool
	kindInt
	kindDouble
	kindBytes
	kindArray
	kindKvlist
)

// anyValue is an AnyValue: str holds a string, num a bool, int or double's bits, raw the bytes
// or an ArrayValue's or KeyValueList's message (decoded when the value is written).
type anyValue struct {
	kind valueKind
	str  string
	num  uint64
	raw  []byte
}

type keyValue struct {
	key   string
	value anyValue
}

// logRecord is a LogRecord's fields the mapping reads.
type logRecord struct {
	time, observed uint64
	severity       int32
	severityText   string
	hasBody        bool
	body           anyValue
	attributes     []keyValue
	flags          uint32
	traceID        []byte
	spanID         []byte
	eventName      string
}

func errWire(what string) error { return fmt.Errorf("%w: %s", ErrNotExact, what) }

var (
	errMalformed = errWire("a payload is no logs request")
	errMerged    = errWire("a field a parser would merge or a oneof set twice")
)

// field reads one field's tag from b: its number, wire type and the rest of b after the tag.
func field(b []byte) (protowire.Number, protowire.Type, []byte, error) {
	number, kind, n := protowire.ConsumeTag(b)
	if n < 0 || !number.IsValid() { // parsers refuse a number past 2^29 - 1
		return 0, 0, nil, errMalformed
	}
	return number, kind, b[n:], nil
}

// skip consumes a field the mapping does not read, as every parser skips an unknown field.
func skip(number protowire.Number, kind protowire.Type, b []byte) ([]byte, error) {
	n := protowire.ConsumeFieldValue(number, kind, b)
	if n < 0 {
		return nil, errMalformed
	}
	return b[n:], nil
}

func bytesField(kind protowire.Type, b []byte) ([]byte, []byte, error) {
	if kind != protowire.BytesType {
		return nil, nil, errWire("a field with an unexpected wire type")
	}
	value, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return nil, nil, errMalformed
	}
	return value, b[n:], nil
}

func stringField(kind protowire.Type, b []byte) (string, []byte, error) {
	value, rest, err := bytesField(kind, b)
	if err != nil {
		return "", nil, err
	}
	if !utf8.Valid(value) {
		return "", nil, errWire("a string that is not UTF-8")
	}
	return view(value), rest, nil
}

// view is b as a string without a copy (b is not written to while the string is used).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func varintField(kind protowire.Type, b []byte) (uint64, []byte, error) {
	if kind != protowire.VarintType {
		return 0, nil, errWire("a field with an unexpected wire type")
	}
	value, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, nil, errMalformed
	}
	return value, b[n:], nil
}

func fixed64Field(kind protowire.Type, b []byte) (uint64, []byte, error) {
	if kind != protowire.Fixed64Type {
		return 0, nil, errWire("a field with an unexpected wire type")
	}
	value, n := protowire.ConsumeFixed64(b)
	if n < 0 {
		return 0, nil, errMalformed
	}
	return value, b[n:], nil
}

func fixed32Field(kind protowire.Type, b []byte) (uint32, []byte, error) {
	if kind != protowire.Fixed32Type {
		return 0, nil, errWire("a field with an unexpected wire type")
	}
	value, n := protowire.ConsumeFixed32(b)
	if n < 0 {
		return 0, nil, errMalformed
	}
	return value, b[n:], nil
}

// eachField calls read with every field of the message b, in order: its number, its wire type
// and the bytes after its tag; read returns the bytes after the field's value.
func eachField(b []byte, read func(protowire.Number, protowire.Type, []byte) ([]byte, error)) error {
	for len(b) > 0 {
		number, kind, rest, err := field(b)
		if err != nil {
			return err
		}
		if b, err = read(number, kind, rest); err != nil {
			return err
		}
	}
	return nil
}

// singular reads a singular message field; a second occurrence, which parsers merge into the
// first, is refused.
func singular(seen *bool, kind protowire.Type, b []byte) ([]byte, []byte, error) {
	if *seen {
		return nil, nil, errMerged
	}
	*seen = true
	return bytesField(kind, b)
}

// appendKeyValue appends the KeyValue message of one field (an attribute) to out.
func appendKeyValue(out []keyValue, kind protowire.Type, b []byte) ([]keyValue, []byte, error) {
	raw, rest, err := bytesField(kind, b)
	if err != nil {
		return out, nil, err
	}
	kv, err := decodeKeyValue(raw)
	return append(out, kv), rest, err
}

// decodeAnyValue reads an AnyValue message: string_value 1, bool_value 2, int_value 3,
// double_value 4, array_value 5, kvlist_value 6, bytes_value 7, string_value_strindex 8.
func decodeAnyValue(b []byte) (anyValue, error) {
	var v anyValue
	set := false
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		if number >= 1 && number <= 8 {
			if set {
				return nil, errMerged // a oneof set twice
			}
			set = true
		}
		switch number {
		case 1:
			v.kind = kindString
			v.str, rest, err = stringField(kind, b)
		case 2:
			v.kind = kindBool
			v.num, rest, err = varintField(kind, b)
		case 3:
			v.kind = kindInt
			v.num, rest, err = varintField(kind, b)
		case 8: // string_value_strindex: None in Python's mapping
			v.kind = kindNone
			_, rest, err = varintField(kind, b)
		case 4:
			v.kind = kindDouble
			v.num, rest, err = fixed64Field(kind, b)
		case 5, 6:
			v.kind = kindArray
			if number == 6 {
				v.kind = kindKvlist
			}
			v.raw, rest, err = bytesField(kind, b)
		case 7:
			v.kind = kindBytes
			v.raw, rest, err = bytesField(kind, b)
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	return v, err
}

// decodeKeyValue reads a KeyValue message: key 1, value 2 (key_strindex 3 is not read, as in
// Python's mapping).
func decodeKeyValue(b []byte) (keyValue, error) {
	var kv keyValue
	hasValue := false
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		switch number {
		case 1:
			kv.key, rest, err = stringField(kind, b)
		case 2:
			var raw []byte
			if raw, rest, err = singular(&hasValue, kind, b); err == nil {
				kv.value, err = decodeAnyValue(raw)
			}
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	return kv, err
}

// eachRepeated calls fn with every occurrence of the message field number of b, in order.
func eachRepeated(b []byte, want protowire.Number, fn func([]byte) error) error {
	return eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) ([]byte, error) {
		if number != want {
			return skip(number, kind, b)
		}
		raw, rest, err := bytesField(kind, b)
		if err == nil {
			err = fn(raw)
		}
		return rest, err
	})
}

// appendKeyValues appends the KeyValue messages of field number of b (the values of a
// KeyValueList) to out.
func appendKeyValues(out []keyValue, b []byte, number protowire.Number) ([]keyValue, error) {
	err := eachRepeated(b, number, func(raw []byte) error {
		kv, err := decodeKeyValue(raw)
		out = append(out, kv)
		return err
	})
	return out, err
}

// decodeLogRecord reads a LogRecord message into r, reusing its attribute slice.
func decodeLogRecord(b []byte, r *logRecord) error {
	attributes := r.attributes[:0]
	*r = logRecord{}
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		switch number {
		case 1:
			r.time, rest, err = fixed64Field(kind, b)
		case 11:
			r.observed, rest, err = fixed64Field(kind, b)
		case 2:
			var severity uint64
			severity, rest, err = varintField(kind, b)
			r.severity = int32(severity) //nolint:gosec // an enum is an int32 on the wire, truncated as every parser does
		case 3:
			r.severityText, rest, err = stringField(kind, b)
		case 5:
			var raw []byte
			if raw, rest, err = singular(&r.hasBody, kind, b); err == nil {
				r.body, err = decodeAnyValue(raw)
			}
		case 6:
			attributes, rest, err = appendKeyValue(attributes, kind, b)
		case 8:
			r.flags, rest, err = fixed32Field(kind, b)
		case 9:
			r.traceID, rest, err = bytesField(kind, b)
		case 10:
			r.spanID, rest, err = bytesField(kind, b)
		case 12:
			r.eventName, rest, err = stringField(kind, b)
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	r.attributes = attributes
	return err
}

// scopeLogs is a ScopeLogs message's scope (name, version, attributes), its schema URL and its
// records' messages.
type scopeLogs struct {
	name, version, schemaURL string
	attributes               []keyValue
	records                  [][]byte
}

func decodeScopeLogs(b []byte, s *scopeLogs) error {
	attributes, records := s.attributes[:0], s.records[:0]
	*s = scopeLogs{}
	hasScope := false
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		var raw []byte
		switch number {
		case 1:
			if raw, rest, err = singular(&hasScope, kind, b); err == nil {
				attributes, err = decodeScope(raw, s, attributes)
			}
		case 2:
			if raw, rest, err = bytesField(kind, b); err == nil {
				records = append(records, raw)
			}
		case 3:
			s.schemaURL, rest, err = stringField(kind, b)
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	s.attributes, s.records = attributes, records
	return err
}

// decodeScope reads an InstrumentationScope (name 1, version 2) into s and appends its
// attributes (3) to attributes.
func decodeScope(b []byte, s *scopeLogs, attributes []keyValue) ([]keyValue, error) {
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		switch number {
		case 1:
			s.name, rest, err = stringField(kind, b)
		case 2:
			s.version, rest, err = stringField(kind, b)
		case 3:
			attributes, rest, err = appendKeyValue(attributes, kind, b)
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	return attributes, err
}

// resourceLogsMessage is a ResourceLogs message's resource attributes, schema URL and scopes'
// messages.
type resourceLogsMessage struct {
	schemaURL  string
	attributes []keyValue
	scopes     [][]byte
}

func decodeResourceLogs(b []byte, r *resourceLogsMessage) error {
	attributes, scopes := r.attributes[:0], r.scopes[:0]
	*r = resourceLogsMessage{}
	hasResource := false
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		var raw []byte
		switch number {
		case 1:
			if raw, rest, err = singular(&hasResource, kind, b); err == nil {
				attributes, err = decodeResource(raw, attributes)
			}
		case 2:
			if raw, rest, err = bytesField(kind, b); err == nil {
				scopes = append(scopes, raw)
			}
		case 3:
			r.schemaURL, rest, err = stringField(kind, b)
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	r.attributes, r.scopes = attributes, scopes
	return err
}

// decodeResource appends a Resource's attributes (field 1) to attributes. Its entity_refs
// (field 3, messages that parsers read and this mapping does not) are refused rather than
// skipped unread: a parser would refuse a malformed one.
func decodeResource(b []byte, attributes []keyValue) ([]keyValue, error) {
	err := eachField(b, func(number protowire.Number, kind protowire.Type, b []byte) (rest []byte, err error) {
		switch {
		case number == 1:
			attributes, rest, err = appendKeyValue(attributes, kind, b)
		case number == 3 && kind == protowire.BytesType:
			err = errWire("a resource with entity references")
		default:
			rest, err = skip(number, kind, b)
		}
		return rest, err
	})
	return attributes, err
}
