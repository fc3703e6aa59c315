package redact

import (
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

var (
	fuzzOnce     sync.Once
	fuzzRedactor *Redactor
)

// FuzzRedact: any text, alone and split into list items, never makes the redactor fail
// (budget and depth aside), its output is UTF-8 when the input is, and the fast search path
// finds exactly the matches RE2 finds.
func FuzzRedact(f *testing.F) {
	for _, seed := range []string{
		"mail ana@example.org or call +44 20 7946 0958", "card 4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
		"a%2540b &amp;#64; ＠ \\u0040", "1::1:1::1:", "1.1.1.1.1.", "+(1) +(1) (1)(1)", "0171 5942400x1 ", "2024-05-17 10:30",
		"Tel.: 992 729 978", "телефон 8 916 123-45-67", "電話 03-1234-5678", "e\u0301 ＡＢＣ ΑΣ", "%DhWMr@F2tQ", "ZZ 66 28 48 T",
		strings.Repeat("a@b.", 30), strings.Repeat("12 ", 40), "\x00\x01\xff", "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJ.eyJzdWIiOiIx.dozjgNryP4",
	} {
		f.Add(seed, uint8(3))
	}
	f.Fuzz(func(t *testing.T, text string, split uint8) {
		fuzzOnce.Do(func() {
			rules, err := LoadRules(shippedRules)
			if err != nil {
				t.Fatal(err)
			}
			if fuzzRedactor, err = New(rules, []byte("fuzz-secret-of-at-least-16-bytes")); err != nil {
				t.Fatal(err)
			}
		})
		r := fuzzRedactor
		started := time.Now()
		defer func() {
			if elapsed := time.Since(started); elapsed > 2*time.Second {
				t.Fatalf("%d bytes took %v: %q", len(text), elapsed, text[:min(len(text), 300)])
			}
		}()
		out, _, err := r.ApplyText(text, &Counts{}, r.NewBudget())
		if err != nil && PythonName(err) == "InternalError" {
			t.Fatalf("%q: %v", text, err)
		}
		if err == nil && utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("%q -> invalid UTF-8 %q", text, out)
		}
		v := pcommon.NewValueSlice()
		step := int(split%8) + 1
		for i := 0; i < len(text); i += step {
			v.Slice().AppendEmpty().SetStr(text[i:min(i+step, len(text))])
		}
		if err := r.ApplyValue(v, &Counts{}, r.NewBudget()); err != nil && PythonName(err) == "InternalError" {
			t.Fatalf("%q split by %d: %v", text, step, err)
		}
		// The searches with the bytes present known (gates, prechecks, decode triggers) are
		// re.search.
		if text != "" {
			present := presentBytes(text)
			searches := []*pyRegex{triggerPercent, triggerHTML, triggerJSON}
			for _, d := range r.Rules.Detectors {
				searches = append(searches, d.Regex)
				if d.RequiresRegex != nil {
					searches = append(searches, d.RequiresRegex)
				}
			}
			for _, p := range searches {
				if got, want := p.searchPresent(text, &present), p.re.MatchString(text); got != want {
					t.Fatalf("search %q on %q: %v, RE2 %v", p.source, text, got, want)
				}
			}
		}
		for _, d := range r.Rules.Detectors {
			if d.Regex.dollar {
				continue
			}
			want := d.Regex.re.FindAllStringIndex(text, -1)
			got := d.Regex.findAll(text)
			if len(got) != len(want) {
				t.Fatalf("%s on %q: %v, RE2 %v", d.Name, text, got, want)
			}
			for i := range got {
				if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
					t.Fatalf("%s on %q: %v, RE2 %v", d.Name, text, got, want)
				}
			}
		}
	})
}
