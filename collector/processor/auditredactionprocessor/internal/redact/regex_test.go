package redact

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Patterns keep Python's meaning (re.ASCII) in RE2.
func TestPythonRegexSemantics(t *testing.T) {
	cases := []struct {
		pattern, text string
		want          bool
	}{
		{`(?i)k`, "\u212a", false}, // Kelvin sign: RE2 folds it to k, Python's re.ASCII does not
		{`(?i)k`, "K", true},
		{`(?i:[a-c])x`, "Bx", true},
		{`[^a](?i)`, "", false},
		{`\s`, "\v", true}, // Python's \s has \v, RE2's has not
		{`\S`, "\v", false},
		{`\d`, "٣", false}, // ASCII digits only
		{`\w`, "é", false},
		{`a$`, "a\n", true}, // $ before a final newline
		{`a$`, "a\nb", false},
		{`^b`, "a\nb", false},
		{`(?m)^b`, "a\nb", true},
		{`.`, "\n", false},
		{`(?s).`, "\n", true},
		{`\bx`, "ax", false},
		{`a{,2}`, "a{,2}", true}, // not a repetition in Python: literal text
		{`x{}`, "x{}", true},
	}
	for _, tc := range cases {
		re, err := compilePy(tc.pattern)
		if err != nil {
			if tc.pattern == `[^a](?i)` {
				continue // global flags not at the start: refused, as Python refuses it
			}
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := re.search(tc.text); got != tc.want {
			t.Errorf("%q on %q: %v, want %v", tc.pattern, tc.text, got, tc.want)
		}
	}
	re := mustCompilePy(`a$`)
	if spans := re.findAll("a\n"); len(spans) != 1 || spans[0] != [2]int{0, 1} {
		t.Errorf("$ is zero width: %v", spans)
	}
}

func TestPythonRegexRefusals(t *testing.T) {
	for _, pattern := range []string{`a**`, `a*??`, `(?P<1x>a)`, `(?P<x>a)(?P<x>b)`, `[z-a]`, `\e`, `a)`, `(a`, `[a`,
		`\x4`, `a{2,1}`, `(?)`, `(?i-i:a)`, `(?-:a)`, `a(?i)b`, `^*`, `\b*`} {
		if _, err := compilePy(pattern); err == nil {
			t.Errorf("%q compiled; Python refuses it", pattern)
		}
	}
	for _, pattern := range []string{`(?=x)`, `\Z`, `a{1001}`, `a{,3}`, `(?x)a`, `[[:alpha:]]`, `a*+`, `\1`, `\p{L}`} {
		if CheckRE2Syntax(pattern) == "" {
			t.Errorf("%q passed the portability screen", pattern)
		}
	}
}

func TestFastPathAgreesWithRE2(t *testing.T) {
	rules, err := LoadRules(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"mail ana@example.org, bob@x.io", "card 4111 1111 1111 1111 and +44 20 7946 0958", "2001:db8::1 ::1 fe80::1",
		"AKIAIOSFODNN7EXAMPLE eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
		"DE89 3704 0044 0532 0130 00 GB29NWBK60161331926819", "10.0.0.1 1.2.3.4.5", strings.Repeat("a@", 40),
	}
	for _, d := range rules.Detectors {
		for _, text := range texts {
			want := d.Regex.re.FindAllStringIndex(text, -1)
			got := d.Regex.findAll(text)
			if len(got) != len(want) {
				t.Errorf("%s on %q: %v, RE2 %v", d.Name, text, got, want)
				continue
			}
			for i := range got {
				if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
					t.Errorf("%s on %q: %v, RE2 %v", d.Name, text, got, want)
				}
			}
		}
	}
}

func TestYAMLIsPyYAML(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"version: 1\nlimits: {max_record_chars: 1_048_576}", ""},
		{"version: 1\nlimits: {max_record_chars: 04000}", ""}, // octal 2048
		{"version: 1\nlimits: {max_record_chars: 01000}", "limits.max_record_chars"},
		{"version: 1.0", ""},
		{"version: yes", ""}, // True == 1 in Python
		{"version: 1\ndetectors: [{name: p, pattern: x, validate: phone, options: {regions: [NO]}}]", "detectors[0].options"},
		{"version: 1\nversion: 1", "version"},
	} {
		_, err := ParseRules(tc.text, "<string>")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.want != "" && (err == nil || err.(*RuleError).Key != tc.want):
			t.Errorf("%q: %v, want an error at %s", tc.text, err, tc.want)
		}
	}
}

func TestPyFloatRepr(t *testing.T) {
	cases := map[float64]string{
		0.1: "0.1", 1: "1.0", 1e16: "1e+16", 1e15: "1000000000000000.0", 1e-5: "1e-05", 0.0001: "0.0001",
		123456789.0: "123456789.0", 1.5e300: "1.5e+300", 2.5e-300: "2.5e-300",
		math.Inf(1): "inf", 12.5: "12.5", 991735.15: "991735.15",
	}
	cases[math.Copysign(0, -1)] = "-0.0"
	for f, want := range cases {
		if got := pyFloatRepr(f); got != want {
			t.Errorf("repr(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestBase64AsPython(t *testing.T) {
	// base64.b64decode(s, validate=True) of CPython 3.11.
	valid := map[string]string{"": "", "QQ==": "A", "QUI=": "AB", "QUJD": "ABC", "QUJD=": "ABC", "QUJD===": "ABC", "QR==": "A"}
	for in, want := range valid {
		if got, ok := b64decodeValidate(in); !ok || string(got) != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"=", "==", "Q", "QQ", "QQ=", "QQ===", "QUI===", "QUJD=QUJD", "QUI==", "QUJ D", "QUJD\n", "ö"} {
		if _, ok := b64decodeValidate(in); ok {
			t.Errorf("%q decoded; Python refuses it", in)
		}
	}
}

// stringsOf appends every string (keys included) of a decoded JSON value.
func stringsOf(v any, out []string) []string {
	switch t := v.(type) {
	case string:
		out = append(out, t)
	case map[string]any:
		for k, item := range t {
			out = stringsOf(item, append(out, k))
		}
	case []any:
		for _, item := range t {
			out = stringsOf(item, out)
		}
	}
	return out
}

// The fast path (candidate scan, anchor byte, prefix, required byte, backtracker) finds exactly
// RE2's leftmost-first matches on every string of the project's PII corpora, for every detector.
func TestFastPathAgreesWithRE2OnCorpora(t *testing.T) {
	rules, err := LoadRules(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	texts := corpusTexts(t)
	compared := 0
	for _, d := range rules.Detectors {
		for _, text := range texts {
			want := d.Regex.re.FindAllStringIndex(text, -1)
			compared += len(want)
			if got := d.Regex.findAll(text); !sameSpans(got, want) {
				t.Fatalf("%s on %q: %v, RE2 %v", d.Name, text, got, want)
			}
		}
	}
	if compared < 1000 {
		t.Fatalf("only %d matches compared", compared)
	}
}

// The key rules (patterns with $, searched with their own automaton) find a match exactly when
// RE2 does, on every key and string of the corpora, normalized as keys are, and with a final
// newline (which $ lets a match end before).
func TestKeyRuleSearchAgreesWithRE2OnCorpora(t *testing.T) {
	rules, err := LoadRules(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	normalize := keyNormalizer(rules.KeyNormalization)
	var texts []string
	for _, text := range corpusTexts(t) {
		texts = append(texts, text, normalize(text), normalize(text)+"\n", text+"\nx")
	}
	texts = append(texts, "password", "db.password\n", "user_pin", "ssn", "\u212aey", "x.phone", "mobile\n\n")
	found := 0
	for _, rule := range rules.KeyRules {
		if !rule.Regex.dollar || rule.Regex.prog.dfa == nil {
			t.Fatalf("%s: expected a $ pattern searched by its automaton", rule.Name)
		}
		for _, text := range texts {
			want := rule.Regex.re.MatchString(text)
			if want {
				found++
			}
			if got := rule.Regex.search(text); got != want {
				t.Fatalf("%s on %q: %v, RE2 %v", rule.Name, text, got, want)
			}
		}
	}
	if found < 100 {
		t.Fatalf("only %d matching keys compared", found)
	}
}

// corpusTexts is every string and map key of the project's corpora (tests/data/*.jsonl).
func corpusTexts(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob("../../../../../tests/data/*.jsonl")
	if len(paths) < 4 {
		t.Fatalf("corpora not found: %v", paths)
	}
	var texts []string
	for _, path := range paths {
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		scanner := bufio.NewScanner(file)
		scanner.Buffer(make([]byte, 1<<20), 1<<24)
		for scanner.Scan() {
			var line any
			if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			texts = stringsOf(line, texts)
		}
		file.Close()
	}
	return texts
}

func sameSpans(got [][2]int, want [][]int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
			return false
		}
	}
	return true
}

// Past 63 classes a pattern's new classes add no condition to mayMatch (only the classes that
// have a bit are checked): patterns compiled after the table is full still find their matches.
func TestMayMatchPastTheClassTable(t *testing.T) {
	var patterns []*pyRegex
	for i := 0; i < 80; i++ {
		// Every pattern has a class of its own: a two-byte range no other pattern uses.
		lo := 0x21 + i
		patterns = append(patterns, mustCompilePy(fmt.Sprintf(`q[\x%02x-\x%02x]z`, lo, lo+1)))
	}
	classesMu.Lock()
	registered := len(classes)
	classesMu.Unlock()
	if registered != 63 {
		t.Fatalf("%d classes registered: the table did not fill, the test does not reach its case", registered)
	}
	for i, p := range patterns {
		text := fmt.Sprintf("..q%cz..", 0x21+i+1)
		present := presentBytes(text)
		if !p.mayMatch(&present) || !p.searchPresent(text, &present) || len(p.findAll(text)) != 1 {
			t.Fatalf("%q on %q: no match", p.source, text)
		}
	}
}
