// Package logrows maps OTLP logs export requests to the columns of otel-audit's otel_logs table,
// byte for byte as otel_audit.export.otlp.otlp_log_table builds them in Python, and lays them out
// as Arrow buffers, so that otel-audit serve can map a batch outside its Python process.
//
// The mapping, per log record (Python's names in parentheses):
//
//   - Timestamp: time_unix_nano, or observed_time_unix_nano when it is 0;
//   - TraceId, SpanId: lower-case hex of the bytes as sent ("" when empty; 16 zero bytes stay
//     32 zeros);
//   - TraceFlags: flags & 0xFF; SeverityText, SeverityNumber, EventName: as sent;
//   - ServiceName: the first service.name of the resource's attributes;
//   - Body (body_text): "" without a body; a string as is; bytes in standard base64; anything
//     else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
//     default=str) of the Python value (any_value_to_python);
//   - attribute maps (attribute_text): every key/value pair in order, duplicates kept; a value
//     stringified as the Python SDK path does (bools true/false, numbers repr, bytes base64,
//     arrays and maps as the body's JSON, an empty value "");
//   - the content id (otel_audit.export.record_id, whose docstring is the specification): a
//     record of an identified event without the uid attribute gets it appended.
//
// A batch this package cannot map exactly as Python would (a timestamp past 2262, a severity
// outside 0..255, an unreadable payload) is refused with an error, and the caller maps it in
// Python, so every outcome, errors and counts included, stays Python's.
package logrows

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/redact"
)

// Identity is the content-id specification's parameters, sent by Python (one place for each fact).
type Identity struct {
	Version string          // CONTENT_ID_VERSION, the hashed array's first element
	UIDKey  string          // the sender's id attribute (log.record.uid)
	Events  map[string]bool // IDENTIFIED_EVENTS
}

// ErrNotExact says a batch holds something this package does not map as Python would.
var ErrNotExact = errors.New("not mapped outside Python")

// Column order of the buffers, otel_audit.export.rows.LOG_COLUMNS.
const (
	colTraceID = iota
	colSpanID
	colSeverityText
	colServiceName
	colBody
	colResourceSchemaURL
	colScopeSchemaURL
	colScopeName
	colScopeVersion
	colEventName
	stringColumns
)

const (
	mapResource = iota
	mapScope
	mapLog
	mapColumns
)

type stringColumn struct {
	offsets []int32
	data    []byte
}

func (c *stringColumn) reset() {
	c.offsets = append(c.offsets[:0], 0)
	c.data = c.data[:0]
}

func (c *stringColumn) add(s string) {
	c.data = append(c.data, s...)
	c.offsets = append(c.offsets, int32(len(c.data))) //nolint:gosec // checked in finish
}

type mapColumn struct {
	offsets      []int32
	keys, values stringColumn
}

func (m *mapColumn) reset() {
	m.offsets = append(m.offsets[:0], 0)
	m.keys.reset()
	m.values.reset()
}

func (m *mapColumn) addPairs(keys, values []string) {
	for i, key := range keys {
		m.keys.add(key)
		m.values.add(values[i])
	}
}

func (m *mapColumn) endRow() {
	m.offsets = append(m.offsets, int32(len(m.keys.offsets)-1)) //nolint:gosec // checked in finish
}

// Columns are one batch's rows as Arrow buffers; a Columns is reused from batch to batch.
type Columns struct {
	Rows     int
	ts       []int64
	flags    []byte
	severity []byte
	strings  [stringColumns]stringColumn
	maps     [mapColumns]mapColumn

	scratch  strings.Builder
	recKeys  []string
	pairs    []pair
	seen     map[[32]byte]int
	resource []string // resource keys then values, reused

	// The decoded messages, reused from one to the next.
	resourceMsg resourceLogsMessage
	scopeMsg    scopeLogs
	record      logRecord
}

type pair struct{ key, value string }

// Map maps every logs request of payloads (serialized ExportLogsServiceRequest messages) into c.
// A payload that does not parse makes the batch ErrNotExact: Python counts it and maps the rest.
func (c *Columns) Map(identity *Identity, payloads [][]byte) error {
	c.Rows = 0
	c.ts, c.flags, c.severity = c.ts[:0], c.flags[:0], c.severity[:0]
	for i := range c.strings {
		c.strings[i].reset()
	}
	for i := range c.maps {
		c.maps[i].reset()
	}
	if c.seen == nil {
		c.seen = map[[32]byte]int{}
	}
	for _, payload := range payloads {
		raws, ok := resourceLogs(payload)
		if !ok {
			return fmt.Errorf("%w: a payload is no logs request", ErrNotExact)
		}
		clear(c.seen) // repeats are numbered within one request, which a retry resends whole
		for _, raw := range raws {
			if err := c.addResource(identity, raw); err != nil {
				return err
			}
		}
	}
	return c.finish()
}

// resourceLogs splits an ExportLogsServiceRequest into its resource_logs fields (field 1), the
// one field it has; unknown fields are skipped, as every protobuf parser does.
func resourceLogs(payload []byte) ([][]byte, bool) {
	var out [][]byte
	for len(payload) > 0 {
		number, kind, n := protowire.ConsumeTag(payload)
		if n < 0 {
			return nil, false
		}
		payload = payload[n:]
		if number == 1 && kind == protowire.BytesType {
			value, m := protowire.ConsumeBytes(payload)
			if m < 0 {
				return nil, false
			}
			out = append(out, value)
			payload = payload[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(number, kind, payload)
		if m < 0 {
			return nil, false
		}
		payload = payload[m:]
	}
	return out, true
}

func (c *Columns) addResource(identity *Identity, raw []byte) error {
	resource := &c.resourceMsg
	if err := decodeResourceLogs(raw, resource); err != nil {
		return err
	}
	rKeys, rValues, err := c.texts(resource.attributes, c.resource[:0])
	if err != nil {
		return err
	}
	c.resource = rKeys[:0]
	service := ""
	for i, key := range rKeys {
		if key == "service.name" {
			service = rValues[i]
			break
		}
	}
	scope, record := &c.scopeMsg, &c.record
	for _, rawScope := range resource.scopes {
		if err := decodeScopeLogs(rawScope, scope); err != nil {
			return err
		}
		sKeys, sValues, err := c.texts(scope.attributes, nil)
		if err != nil {
			return err
		}
		for _, rawRecord := range scope.records {
			if err := decodeLogRecord(rawRecord, record); err != nil {
				return err
			}
			if err := c.addRecord(identity, record, service, resource.schemaURL, rKeys, rValues,
				scope.schemaURL, scope.name, scope.version, sKeys, sValues); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Columns) addRecord(identity *Identity, record *logRecord, service, rURL string,
	rKeys, rValues []string, sURL, sName, sVersion string, sKeys, sValues []string,
) error {
	stamp := record.time
	if stamp == 0 {
		stamp = record.observed
	}
	severity := record.severity
	if stamp > math.MaxInt64 || record.observed > math.MaxInt64 || severity < 0 || severity > 255 {
		return fmt.Errorf("%w: a timestamp past 2262 or a severity outside 0..255", ErrNotExact)
	}
	body := ""
	if record.hasBody {
		text, err := c.bodyText(record.body)
		if err != nil {
			return err
		}
		body = text
	}
	trace, span := hex.EncodeToString(record.traceID), hex.EncodeToString(record.spanID)
	c.ts = append(c.ts, int64(stamp)) //nolint:gosec // checked above
	c.flags = append(c.flags, byte(record.flags&0xFF))
	c.severity = append(c.severity, byte(severity))
	c.strings[colTraceID].add(trace)
	c.strings[colSpanID].add(span)
	c.strings[colSeverityText].add(record.severityText)
	c.strings[colServiceName].add(service)
	c.strings[colBody].add(body)
	c.strings[colResourceSchemaURL].add(rURL)
	c.strings[colScopeSchemaURL].add(sURL)
	c.strings[colScopeName].add(sName)
	c.strings[colScopeVersion].add(sVersion)
	c.strings[colEventName].add(record.eventName)
	c.maps[mapResource].addPairs(rKeys, rValues)
	c.maps[mapResource].endRow()
	c.maps[mapScope].addPairs(sKeys, sValues)
	c.maps[mapScope].endRow()

	keys, values, err := c.texts(record.attributes, c.recKeys[:0])
	if err != nil {
		return err
	}
	c.recKeys = keys[:0] // the grown buffer, for the next record
	logMap := &c.maps[mapLog]
	logMap.addPairs(keys, values)
	if identity.Events[record.eventName] && !slices.Contains(keys, identity.UIDKey) {
		id := c.contentID(identity, record, trace, span, body, keys, values, rKeys, rValues, sName, sVersion)
		logMap.keys.add(identity.UIDKey)
		logMap.values.add(id)
	}
	logMap.endRow()
	c.Rows++
	return nil
}

// texts returns the keys and stringified values of attributes (values after the keys in one
// slice, reused through buffer).
func (c *Columns) texts(attributes []keyValue, buffer []string) ([]string, []string, error) {
	n := len(attributes)
	buffer = slices.Grow(buffer[:0], 2*n)[:2*n]
	for i := range attributes {
		item := &attributes[i]
		buffer[i] = item.key
		text, err := c.attributeText(item.value)
		if err != nil {
			return nil, nil, err
		}
		buffer[n+i] = text
	}
	return buffer[:n], buffer[n:], nil
}

// attributeText is otlp._text: the stringified attribute value.
func (c *Columns) attributeText(value anyValue) (string, error) {
	switch value.kind {
	case kindString:
		return value.str, nil
	case kindBool:
		if value.num != 0 {
			return "true", nil
		}
		return "false", nil
	case kindInt:
		return strconv.FormatInt(int64(value.num), 10), nil //nolint:gosec // int_value's two's complement
	case kindDouble:
		return redact.PyFloatRepr(math.Float64frombits(value.num)), nil
	case kindBytes:
		return base64.StdEncoding.EncodeToString(value.raw), nil
	case kindArray, kindKvlist:
		return c.dumps(value)
	}
	return "", nil // no value, or a kind Python's mapping has no text for (string_value_strindex)
}

// bodyText is rows.body_text(any_value_to_python(body)).
func (c *Columns) bodyText(body anyValue) (string, error) {
	switch body.kind {
	case kindString:
		return body.str, nil
	case kindBytes:
		return base64.StdEncoding.EncodeToString(body.raw), nil
	case kindNone:
		return "", nil
	}
	return c.dumps(body)
}

func (c *Columns) dumps(value anyValue) (string, error) {
	c.scratch.Reset()
	if err := dumps(&c.scratch, value, 0); err != nil {
		return "", err
	}
	return c.scratch.String(), nil
}

// maxDepth bounds the nesting dumps follows; Python's json module would raise RecursionError
// long before a spooled request (parsed by Python at the door) gets this deep.
const maxDepth = 200

// dumps writes json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
// default=str) of the Python value of an AnyValue.
func dumps(b *strings.Builder, value anyValue, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: a value nested deeper than %d", ErrNotExact, maxDepth)
	}
	switch value.kind {
	case kindString:
		redact.PyJSONString(b, value.str)
	case kindBool:
		if value.num != 0 {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case kindInt:
		b.WriteString(strconv.FormatInt(int64(value.num), 10)) //nolint:gosec // int_value's two's complement
	case kindDouble:
		b.WriteString(redact.PyJSONFloat(math.Float64frombits(value.num)))
	case kindBytes:
		// default=str: str(bytes) is its repr
		redact.PyJSONString(b, redact.PyBytesRepr(value.raw))
	case kindArray:
		b.WriteByte('[')
		first := true
		err := eachRepeated(value.raw, 1, func(raw []byte) error { // ArrayValue.values
			item, err := decodeAnyValue(raw)
			if err != nil {
				return err
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			return dumps(b, item, depth+1)
		})
		if err != nil {
			return err
		}
		b.WriteByte(']')
	case kindKvlist:
		// A Python dict of the pairs: one entry per key, the last value winning; sort_keys.
		items, err := appendKeyValues(nil, value.raw, 1) // KeyValueList.values
		if err != nil {
			return err
		}
		latest := make(map[string]anyValue, len(items))
		keys := make([]string, 0, len(items))
		for _, item := range items {
			if _, found := latest[item.key]; !found {
				keys = append(keys, item.key)
			}
			latest[item.key] = item.value
		}
		slices.Sort(keys) // UTF-8 byte order is code point order, as Python sorts str
		b.WriteByte('{')
		for i, key := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			redact.PyJSONString(b, key)
			b.WriteByte(':')
			if err := dumps(b, latest[key], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		b.WriteString("null") // no value (None), or string_value_strindex (None in Python)
	}
	return nil
}

// contentID is ContentIds.missing: the SHA-256 of the record's compact JSON array, the k-th
// repeat within the request with k appended.
func (c *Columns) contentID(identity *Identity, record *logRecord, trace, span, body string,
	keys, values, rKeys, rValues []string, sName, sVersion string,
) string {
	b := &c.scratch
	b.Reset()
	b.WriteByte('[')
	redact.PyJSONString(b, identity.Version)
	b.WriteByte(',')
	b.WriteString(strconv.FormatUint(record.time, 10))
	b.WriteByte(',')
	b.WriteString(strconv.FormatUint(record.observed, 10))
	for _, text := range []string{trace, span} {
		b.WriteByte(',')
		redact.PyJSONString(b, text)
	}
	b.WriteByte(',')
	b.WriteString(strconv.FormatInt(int64(record.severity), 10))
	for _, text := range []string{record.severityText, record.eventName, body} {
		b.WriteByte(',')
		redact.PyJSONString(b, text)
	}
	b.WriteByte(',')
	c.writePairs(keys, values)
	b.WriteByte(',')
	c.writePairs(rKeys, rValues)
	for _, text := range []string{sName, sVersion} {
		b.WriteByte(',')
		redact.PyJSONString(b, text)
	}
	digest := sha256.Sum256([]byte(b.String() + "]"))
	repeat := c.seen[digest]
	c.seen[digest] = repeat + 1
	if repeat > 0 {
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(repeat))
		b.WriteByte(']')
		digest = sha256.Sum256([]byte(b.String()))
	}
	return hex.EncodeToString(digest[:])
}

// writePairs writes sorted(zip(keys, values)) as a JSON array of [key, value] arrays.
func (c *Columns) writePairs(keys, values []string) {
	pairs := c.pairs[:0]
	for i, key := range keys {
		pairs = append(pairs, pair{key, values[i]})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if n := strings.Compare(a.key, b.key); n != 0 {
			return n
		}
		return strings.Compare(a.value, b.value)
	})
	c.pairs = pairs
	b := &c.scratch
	b.WriteByte('[')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		redact.PyJSONString(b, p.key)
		b.WriteByte(',')
		redact.PyJSONString(b, p.value)
		b.WriteByte(']')
	}
	b.WriteByte(']')
}

// finish refuses a batch whose string data outgrows Arrow's int32 offsets (Python builds large
// columns its own way).
func (c *Columns) finish() error {
	columns := make([]*stringColumn, 0, stringColumns+2*mapColumns)
	for i := range c.strings {
		columns = append(columns, &c.strings[i])
	}
	for i := range c.maps {
		columns = append(columns, &c.maps[i].keys, &c.maps[i].values)
	}
	for _, column := range columns {
		if len(column.data) > math.MaxInt32 {
			return fmt.Errorf("%w: a column over 2 GiB", ErrNotExact)
		}
	}
	return nil
}

// WriteTo writes the buffers, each as a little-endian uint64 length and its bytes, in the order
// otel_audit.service.native reads them: Timestamp (int64), the string columns (offsets, data),
// TraceFlags and SeverityNumber (uint8), the three maps (offsets, key offsets, key data, value
// offsets, value data). Lengths are bytes; offsets are int32.
func (c *Columns) WriteTo(w io.Writer) (int64, error) {
	var total int64
	write := func(buffer []byte) error {
		var length [8]byte
		binary.LittleEndian.PutUint64(length[:], uint64(len(buffer)))
		n, err := w.Write(length[:])
		total += int64(n)
		if err != nil {
			return err
		}
		n, err = w.Write(buffer)
		total += int64(n)
		return err
	}
	buffers := [][]byte{int64Bytes(c.ts)}
	for i := range c.strings {
		buffers = append(buffers, int32Bytes(c.strings[i].offsets), c.strings[i].data)
	}
	buffers = append(buffers, c.flags, c.severity)
	for i := range c.maps {
		m := &c.maps[i]
		buffers = append(buffers, int32Bytes(m.offsets), int32Bytes(m.keys.offsets), m.keys.data,
			int32Bytes(m.values.offsets), m.values.data)
	}
	for _, buffer := range buffers {
		if err := write(buffer); err != nil {
			return total, err
		}
	}
	return total, nil
}

// BufferCount is the number of buffers WriteTo writes.
const BufferCount = 1 + 2*stringColumns + 2 + 5*mapColumns

func int64Bytes(values []int64) []byte {
	out := make([]byte, 8*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint64(out[8*i:], uint64(v)) //nolint:gosec // two's complement, as Arrow stores it
	}
	return out
}

func int32Bytes(values []int32) []byte {
	out := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(v)) //nolint:gosec // two's complement, as Arrow stores it
	}
	return out
}
