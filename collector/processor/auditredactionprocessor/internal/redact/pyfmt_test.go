package redact

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// pyJSONStringByRune is the definition pyJSONString keeps: each character of the string as
// ranging over it decodes them (U+FFFD for a byte that is not UTF-8), escaped as Python's
// json.dumps(s, ensure_ascii=False) escapes them.
func pyJSONStringByRune(s string) string {
	var b strings.Builder
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
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[r>>4])
				b.WriteByte("0123456789abcdef"[r&15])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestPyJSONStringCopiesRuns(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b\c`, "\x00\x1f\x7f", "é ключ 😀 \u2028", "\xff", "a\xe2\x82", "\xef\xbf\xbd", "\ud7ff"} {
		var b strings.Builder
		pyJSONString(&b, s)
		if got, want := b.String(), pyJSONStringByRune(s); got != want {
			t.Errorf("%q: %q, want %q", s, got, want)
		}
	}
	pieces := []string{"a", "Z", " ", `"`, `\`, "\n", "\x01", "\x7f", "é", "€", "😀", "\xff", "\xc3", "\xe2\x82", "\xf0\x9f"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var text strings.Builder
		for range rng.IntN(12) {
			text.WriteString(pieces[rng.IntN(len(pieces))])
		}
		var b strings.Builder
		pyJSONString(&b, text.String())
		if got, want := b.String(), pyJSONStringByRune(text.String()); got != want {
			t.Fatalf("%q: %q, want %q", text.String(), got, want)
		}
	}
}
