// Command auditredact-jsonl applies the Go redactor to JSON lines and writes canonical JSON
// lines, for the parity test against otel_audit.redact (tests/redact/test_go_parity.py).
//
//	auditredact-jsonl -rules collector-config/redaction.yaml < in.jsonl > out.jsonl
//
// The secret is OTEL_AUDIT_REDACTION_SECRET. Each input line is one object with "id" and
// "kind"; values use a typed encoding that keeps what JSON cannot (bytes, int vs float, key
// order):
//
//	V := null | true | false | {"s": str} | {"i": int} | {"f": float | "nan" | "inf" | "-inf"}
//	   | {"b": base64} | {"a": [V, ...]} | {"m": [[key, V], ...]}
//
// Kinds and their output (besides "id"):
//
//	{"kind": "value", "value": V}              -> {"value": V, "counts": [[name, n], ...]} | {"error": name}
//	{"kind": "attributes", "attributes": M}    -> {"attributes": M, "counts": ...} | {"error": name}
//	{"kind": "text", "text": str}              -> {"text": str, "counts": ...} | {"error": name}
//	{"kind": "log", "body": V, "attributes": M}  (RedactingLogRecordProcessor.on_emit)
//	                                           -> {"body": V, "attributes": M}
//	{"kind": "span", "name": str, "attributes": M, "events": [{"name": str, "attributes": M}],
//	 "links": [{"attributes": M}], "status": {"code": "UNSET"|"OK"|"ERROR", "description": str}}
//	                                           -> the same fields, redacted
//	{"kind": "normalize_key", "key": str}      -> {"key": str}
//	{"kind": "rules", "text": yaml}            -> {"error": null | {"line": n | null, "key": str}, "needs_secret": bool}
//
// Output is json.dumps(..., separators=(",", ":")) of Python (ASCII, \uXXXX escapes), floats
// as {"f": repr(float)}.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf16"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/redact"
)

func main() {
	rulesPath := flag.String("rules", "", "the otel-audit rule file")
	flag.Parse()
	if err := run(*rulesPath); err != nil {
		fmt.Fprintln(os.Stderr, "auditredact-jsonl:", err)
		os.Exit(1)
	}
}

func run(rulesPath string) error {
	rules, err := redact.LoadRules(rulesPath)
	if err != nil {
		return err
	}
	var secret []byte
	if value, ok := os.LookupEnv("OTEL_AUDIT_REDACTION_SECRET"); ok {
		secret = []byte(value)
	}
	r, err := redact.New(rules, secret)
	if err != nil {
		return err
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	for lineNo := 1; ; lineNo++ {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			result, perr := processLine(r, line)
			if perr != nil {
				return fmt.Errorf("line %d: %w", lineNo, perr)
			}
			out.WriteString(result)
			out.WriteByte('\n')
		}
		if err != nil {
			break
		}
	}
	return nil
}

type object = map[string]any

func processLine(r *redact.Redactor, line []byte) (result string, err error) {
	decoder := json.NewDecoder(strings.NewReader(string(line)))
	decoder.UseNumber()
	var input object
	if err := decoder.Decode(&input); err != nil {
		return "", err
	}
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("%v", rec)
		}
	}()
	var b strings.Builder
	b.WriteString(`{"id":`)
	writeJSONAny(&b, input["id"])
	switch input["kind"] {
	case "value":
		v := pcommon.NewValueEmpty()
		decodeValue(input["value"], v)
		counts := &redact.Counts{}
		if err := r.ApplyValue(v, counts, r.NewBudget()); err != nil {
			writeError(&b, err)
			break
		}
		b.WriteString(`,"value":`)
		writeValue(&b, v)
		writeCounts(&b, counts)
	case "attributes":
		m := pcommon.NewMap()
		decodeMap(input["attributes"], m)
		counts := &redact.Counts{}
		if _, err := r.ApplyAttributes(m, counts, r.NewBudget()); err != nil {
			writeError(&b, err)
			break
		}
		b.WriteString(`,"attributes":`)
		writeMap(&b, m)
		writeCounts(&b, counts)
	case "text":
		counts := &redact.Counts{}
		text, _, err := r.ApplyText(input["text"].(string), counts, r.NewBudget())
		if err != nil {
			writeError(&b, err)
			break
		}
		b.WriteString(`,"text":`)
		writeString(&b, text)
		writeCounts(&b, counts)
	case "log":
		record := plog.NewLogRecord()
		if body, ok := input["body"]; ok && body != nil {
			decodeValue(body, record.Body())
		}
		if attributes, ok := input["attributes"]; ok {
			decodeMap(attributes, record.Attributes())
		}
		r.RedactLogRecord(record)
		b.WriteString(`,"body":`)
		writeValue(&b, record.Body())
		b.WriteString(`,"attributes":`)
		writeMap(&b, record.Attributes())
	case "span":
		span := ptrace.NewSpan()
		decodeSpan(input, span)
		r.RedactSpan(span)
		writeSpan(&b, span)
	case "normalize_key":
		b.WriteString(`,"key":`)
		writeString(&b, r.NormalizeKey(input["key"].(string)))
	case "rules":
		rules, err := redact.ParseRules(input["text"].(string), "<string>")
		b.WriteString(`,"error":`)
		var ruleErr *redact.RuleError
		switch {
		case err == nil:
			b.WriteString("null")
		case errors.As(err, &ruleErr):
			b.WriteString(`{"line":`)
			if ruleErr.Line > 0 {
				b.WriteString(strconv.Itoa(ruleErr.Line))
			} else {
				b.WriteString("null")
			}
			b.WriteString(`,"key":`)
			writeString(&b, ruleErr.Key)
			b.WriteString("}")
		default:
			return "", err
		}
		b.WriteString(`,"needs_secret":`)
		b.WriteString(strconv.FormatBool(err == nil && rules.NeedsSecret()))
	default:
		return "", fmt.Errorf("unknown kind %v", input["kind"])
	}
	b.WriteString("}")
	return b.String(), nil
}

func writeError(b *strings.Builder, err error) {
	b.WriteString(`,"error":`)
	writeString(b, redact.PythonName(err))
}

func writeCounts(b *strings.Builder, counts *redact.Counts) {
	b.WriteString(`,"counts":[`)
	for i, name := range counts.Names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		writeString(b, name)
		b.WriteString("," + strconv.Itoa(counts.Values[i]) + "]")
	}
	b.WriteByte(']')
}

// -- decoding the typed values ----------------------------------------------------------------------

func decodeValue(raw any, v pcommon.Value) {
	switch x := raw.(type) {
	case nil:
		return
	case bool:
		v.SetBool(x)
		return
	case object:
		for tag, content := range x {
			switch tag {
			case "s":
				v.SetStr(content.(string))
			case "i":
				n, err := content.(json.Number).Int64()
				if err != nil {
					panic(fmt.Sprintf("integer out of range: %v", content))
				}
				v.SetInt(n)
			case "f":
				v.SetDouble(decodeFloat(content))
			case "b":
				data, err := base64.StdEncoding.DecodeString(content.(string))
				if err != nil {
					panic(err)
				}
				v.SetEmptyBytes().FromRaw(data)
			case "a":
				s := v.SetEmptySlice()
				for _, item := range content.([]any) {
					decodeValue(item, s.AppendEmpty())
				}
			case "m":
				decodeMap(x, v.SetEmptyMap())
			default:
				panic("unknown value tag " + tag)
			}
			return
		}
	}
	panic(fmt.Sprintf("not a typed value: %v", raw))
}

func decodeFloat(raw any) float64 {
	if s, ok := raw.(string); ok {
		switch s {
		case "nan":
			return nan()
		case "inf":
			return inf(1)
		case "-inf":
			return inf(-1)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(err)
		}
		return f
	}
	f, err := raw.(json.Number).Float64()
	if err != nil {
		panic(err)
	}
	return f
}

func decodeMap(raw any, m pcommon.Map) {
	if raw == nil {
		return
	}
	pairs := raw.(object)["m"].([]any)
	for _, pair := range pairs {
		kv := pair.([]any)
		decodeValue(kv[1], m.PutEmpty(kv[0].(string)))
	}
}

func decodeSpan(input object, span ptrace.Span) {
	if name, ok := input["name"].(string); ok {
		span.SetName(name)
	}
	decodeMap(input["attributes"], span.Attributes())
	if events, ok := input["events"].([]any); ok {
		for _, raw := range events {
			event := raw.(object)
			e := span.Events().AppendEmpty()
			e.SetName(event["name"].(string))
			decodeMap(event["attributes"], e.Attributes())
		}
	}
	if links, ok := input["links"].([]any); ok {
		for _, raw := range links {
			decodeMap(raw.(object)["attributes"], span.Links().AppendEmpty().Attributes())
		}
	}
	if status, ok := input["status"].(object); ok {
		switch status["code"] {
		case "OK":
			span.Status().SetCode(ptrace.StatusCodeOk)
		case "ERROR":
			span.Status().SetCode(ptrace.StatusCodeError)
		}
		if description, ok := status["description"].(string); ok {
			span.Status().SetMessage(description)
		}
	}
}

// -- canonical output -----------------------------------------------------------------------------

func writeSpan(b *strings.Builder, span ptrace.Span) {
	b.WriteString(`,"name":`)
	writeString(b, span.Name())
	b.WriteString(`,"attributes":`)
	writeMap(b, span.Attributes())
	b.WriteString(`,"events":[`)
	for i := 0; i < span.Events().Len(); i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		event := span.Events().At(i)
		b.WriteString(`{"name":`)
		writeString(b, event.Name())
		b.WriteString(`,"attributes":`)
		writeMap(b, event.Attributes())
		b.WriteByte('}')
	}
	b.WriteString(`],"links":[`)
	for i := 0; i < span.Links().Len(); i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"attributes":`)
		writeMap(b, span.Links().At(i).Attributes())
		b.WriteByte('}')
	}
	b.WriteString(`],"status":{"code":`)
	code := map[ptrace.StatusCode]string{ptrace.StatusCodeUnset: "UNSET", ptrace.StatusCodeOk: "OK", ptrace.StatusCodeError: "ERROR"}[span.Status().Code()]
	writeString(b, code)
	b.WriteString(`,"description":`)
	writeString(b, span.Status().Message())
	b.WriteString("}")
}

func writeValue(b *strings.Builder, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		b.WriteString("null")
	case pcommon.ValueTypeBool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case pcommon.ValueTypeStr:
		b.WriteString(`{"s":`)
		writeString(b, v.Str())
		b.WriteByte('}')
	case pcommon.ValueTypeInt:
		b.WriteString(`{"i":` + strconv.FormatInt(v.Int(), 10) + "}")
	case pcommon.ValueTypeDouble:
		b.WriteString(`{"f":`)
		writeString(b, redact.PyFloatRepr(v.Double()))
		b.WriteByte('}')
	case pcommon.ValueTypeBytes:
		b.WriteString(`{"b":`)
		writeString(b, base64.StdEncoding.EncodeToString(v.Bytes().AsRaw()))
		b.WriteByte('}')
	case pcommon.ValueTypeSlice:
		b.WriteString(`{"a":[`)
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, s.At(i))
		}
		b.WriteString("]}")
	case pcommon.ValueTypeMap:
		writeMap(b, v.Map())
	}
}

func writeMap(b *strings.Builder, m pcommon.Map) {
	b.WriteString(`{"m":[`)
	first := true
	m.Range(func(k string, v pcommon.Value) bool {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteByte('[')
		writeString(b, k)
		b.WriteByte(',')
		writeValue(b, v)
		b.WriteByte(']')
		return true
	})
	b.WriteString("]}")
}

func writeJSONAny(b *strings.Builder, v any) {
	switch x := v.(type) {
	case string:
		writeString(b, x)
	case json.Number:
		b.WriteString(x.String())
	case nil:
		b.WriteString("null")
	default:
		panic(fmt.Sprintf("unsupported id %v", v))
	}
}

// writeString is Python's json.dumps(s) (ensure_ascii=True).
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (r > 0x7f && r <= 0xffff):
				b.WriteString(`\u`)
				b.WriteByte(hex[r>>12&15])
				b.WriteByte(hex[r>>8&15])
				b.WriteByte(hex[r>>4&15])
				b.WriteByte(hex[r&15])
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				for _, u := range []rune{hi, lo} {
					b.WriteString(`\u`)
					b.WriteByte(hex[u>>12&15])
					b.WriteByte(hex[u>>8&15])
					b.WriteByte(hex[u>>4&15])
					b.WriteByte(hex[u&15])
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func nan() float64         { return math.NaN() }
func inf(sign int) float64 { return math.Inf(sign) }
