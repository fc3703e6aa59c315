package redact

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// Python's text forms of values, where they reach the output: float repr (json.dumps), the
// json.dumps of a pseudonymized value, bytes repr (json.dumps(default=str)), str repr (messages).

func isUnicodeDigit(r rune) bool { return pyuni.IsDigit(r) }

// PyFloatRepr is Python's repr(float).
func PyFloatRepr(f float64) string { return pyFloatRepr(f) }

// pyFloatRepr is Python's repr(float).
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// Shortest round-trip digits and the decimal exponent, as repr computes them.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mantissa, exponent, _ := strings.Cut(e, "e")
	digits := strings.Replace(mantissa, ".", "", 1)
	exp, _ := strconv.Atoi(exponent)
	decpt := exp + 1 // position of the decimal point relative to the digits
	if -4 < decpt && decpt <= 16 {
		switch {
		case decpt <= 0:
			return sign + "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			return sign + digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			return sign + digits[:decpt] + "." + digits[decpt:]
		}
	}
	out := digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	expSign := "+"
	if exp < 0 {
		expSign, exp = "-", -exp
	}
	expText := strconv.Itoa(exp)
	if len(expText) < 2 {
		expText = "0" + expText
	}
	return sign + out + "e" + expSign + expText
}

// pyJSONFloat is json.dumps of a float (NaN, Infinity, -Infinity for the non-finite ones).
func pyJSONFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return pyFloatRepr(f)
}

// pyJSONString is json.dumps(s, ensure_ascii=False): only '"', '\\' and the control characters
// are escaped, so runs of other characters are copied whole. A byte that is not UTF-8 is
// written as U+FFFD, as ranging over the string decodes it.
func pyJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size // a character written as it is
				continue
			}
			b.WriteString(s[start:i])
			b.WriteString("\uFFFD")
			i++
			start = i
			continue
		}
		b.WriteString(s[start:i])
		switch c {
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
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// pyJSONDumps is json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
// default=str) of the Python value a pcommon.Value stands for.
func pyJSONDumps(b *strings.Builder, v pcommon.Value) {
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		b.WriteString("null")
	case pcommon.ValueTypeStr:
		pyJSONString(b, v.Str())
	case pcommon.ValueTypeInt:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case pcommon.ValueTypeDouble:
		b.WriteString(pyJSONFloat(v.Double()))
	case pcommon.ValueTypeBool:
		if v.Bool() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case pcommon.ValueTypeBytes:
		pyJSONString(b, pyBytesRepr(v.Bytes().AsRaw()))
	case pcommon.ValueTypeSlice:
		b.WriteByte('[')
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			pyJSONDumps(b, s.At(i))
		}
		b.WriteByte(']')
	case pcommon.ValueTypeMap:
		m := v.Map()
		keys := make([]string, 0, m.Len())
		values := map[string]pcommon.Value{}
		m.Range(func(k string, val pcommon.Value) bool {
			keys = append(keys, k)
			values[k] = val
			return true
		})
		sort.Strings(keys) // UTF-8 byte order is code point order, as Python sorts str
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			pyJSONString(b, k)
			b.WriteByte(':')
			pyJSONDumps(b, values[k])
		}
		b.WriteByte('}')
	}
}

// pyBytesRepr is Python's repr(bytes).
func pyBytesRepr(data []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(data), '\'') >= 0 && strings.IndexByte(string(data), '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(quote)
	for _, c := range data {
		switch {
		case c == quote || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyStrRepr is (close to) Python's repr(str), for messages.
func pyStrRepr(s string) string {
	quote := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = `"`
	}
	var b strings.Builder
	b.WriteString(quote)
	for _, r := range s {
		switch {
		case string(r) == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)+0x100, 16)[1:])
		case r >= utf8.RuneSelf && !unicode.IsPrint(r):
			if r <= 0xff {
				b.WriteString(`\x` + strconv.FormatInt(int64(r)+0x100, 16)[1:])
			} else if r <= 0xffff {
				b.WriteString(`\u` + strconv.FormatInt(int64(r)+0x10000, 16)[1:])
			} else {
				b.WriteString(`\U` + strconv.FormatInt(int64(r)+0x100000000, 16)[1:])
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(quote)
	return b.String()
}

// PyJSONString writes json.dumps(s, ensure_ascii=False).
func PyJSONString(b *strings.Builder, s string) { pyJSONString(b, s) }

// PyJSONFloat is json.dumps of a float.
func PyJSONFloat(f float64) string { return pyJSONFloat(f) }

// PyBytesRepr is Python's repr(bytes).
func PyBytesRepr(data []byte) string { return pyBytesRepr(data) }
