package redact

import (
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestKeyNormalization(t *testing.T) {
	cases := map[string]string{
		"ＰＡＳＳ\u200bWОRD ": "password", // full-width, zero-width space, Cyrillic О, trailing space
		"Pass\u00adword":  "password",
		"ſsn":             "ssn",
		"STRAẞE":          "strasse",
		"e\u0301":         "\u00e9",
	}
	for in, want := range cases {
		if got := NormalizeKey(in); got != want {
			t.Errorf("NormalizeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyRulesAndCache(t *testing.T) {
	r := shipped(t)
	m := pcommon.NewMap()
	m.PutStr("passwоrd", "x") // Cyrillic о: still a password field
	m.PutStr("customer.phone", "anything")
	m.PutStr("compass", "north")
	m.PutStr("ana@example.org", "key holds an address")
	m.PutStr("user.id", "user-1")
	w := r.newWalker(&Counts{}, r.NewBudget())
	w.mapping(m, 0, true)
	got := m.AsRaw()
	if _, ok := got["passwоrd"]; ok || got["customer.phone"] != "[PHONE]" || got["compass"] != "north" || got["[EMAIL]"] != "key holds an address" {
		t.Errorf("got %v", got)
	}
	_, cachedPII := w.keys["ana@example.org"]
	clean, cachedClean := w.keys["compass"]
	allowed := w.keys["user.id"]
	if cachedPII || !cachedClean || !clean.ruled || clean.allowed || !allowed.allowed || allowed.ruled {
		t.Errorf("only clean keys are remembered, each with what is known of it: %+v", w.keys)
	}
	// A second map is redacted the same from what the walker remembers.
	again := pcommon.NewMap()
	again.PutStr("passwоrd", "x")
	again.PutStr("customer.phone", "anything")
	again.PutStr("user.id", "ana@example.org")
	w.mapping(again, 0, true)
	if got := again.AsRaw(); len(got) != 2 || got["customer.phone"] != "[PHONE]" || got["user.id"] != "ana@example.org" {
		t.Errorf("from the remembered keys: got %v", got)
	}
}

func TestAcrossListItems(t *testing.T) {
	r := shipped(t)
	v := pcommon.NewValueSlice()
	for _, s := range []string{"ana.lopez", "@example.org", "2024-05-17", "10:30"} {
		v.Slice().AppendEmpty().SetStr(s)
	}
	counts := &Counts{}
	if err := r.ApplyValue(v, counts, r.NewBudget()); err != nil {
		t.Fatal(err)
	}
	got := v.Slice().AsRaw()
	if got[0] != "[EMAIL]" || got[1] != "[EMAIL]" || got[2] != "2024-05-17" || got[3] != "10:30" {
		t.Errorf("got %v", got)
	}
}

func TestBytesAndIntegers(t *testing.T) {
	r := shipped(t)
	v := pcommon.NewValueMap()
	m := v.Map()
	m.PutEmptyBytes("raw").FromRaw([]byte("mail ana@example.org"))
	m.PutEmptyBytes("binary").FromRaw([]byte{0xff, 0xfe, 0x40})
	m.PutInt("card", 4111111111111111)
	m.PutInt("small", 1234567)
	m.PutEmptyMap("env").PutStr("$bytes", "bWFpbCBhbmFAZXhhbXBsZS5vcmc=") // "mail ana@example.org"
	if err := r.ApplyValue(v, &Counts{}, r.NewBudget()); err != nil {
		t.Fatal(err)
	}
	got := v.Map().AsRaw()
	if got["raw"] != "mail [EMAIL]" || got["card"] != "[CARD]" || got["small"] != int64(1234567) {
		t.Errorf("got %v", got)
	}
	if env := got["env"].(map[string]any); env["$bytes"] != "bWFpbCBbRU1BSUxd" { // "mail [EMAIL]"
		t.Errorf("envelope %v", env)
	}
	if b, _ := v.Map().Get("binary"); b.Type() != pcommon.ValueTypeBytes {
		t.Error("binary data that is not UTF-8 stays bytes")
	}
}

func TestBudget(t *testing.T) {
	r := shipped(t)
	budget := &Budget{limit: 10, remaining: 10}
	if _, _, err := r.ApplyText("abcdefghij", &Counts{}, budget); err != nil {
		t.Fatalf("exactly the budget: %v", err)
	}
	if _, _, err := r.ApplyText("é", &Counts{}, budget); err == nil || PythonName(err) != "RedactionBudgetError" {
		t.Fatalf("over the budget: %v", err)
	}
	// Characters, not bytes: 10 two-byte characters fit in 10.
	if _, _, err := r.ApplyText(strings.Repeat("é", 10), &Counts{}, &Budget{limit: 10, remaining: 10}); err != nil {
		t.Fatalf("code points: %v", err)
	}
}

// A key costs the same whether the key cache knows it or not (the budget never depends on it).
func TestCachedKeysAreCharged(t *testing.T) {
	r := shipped(t)
	fill := func(m pcommon.Map) {
		for i := 0; i < 80; i++ {
			m.PutInt(fmt.Sprintf("field_%04d_%s", i, strings.Repeat("k", 40)), int64(i))
		}
	}
	var used []int
	for round := 0; round < 2; round++ {
		v := pcommon.NewValueMap()
		fill(v.Map())
		budget := r.NewBudget()
		if err := r.ApplyValue(v, &Counts{}, budget); err != nil {
			t.Fatal(err)
		}
		used = append(used, budget.limit-budget.remaining)
	}
	if used[0] != used[1] || used[0] < 80*50 {
		t.Errorf("characters charged, first and cached: %v", used)
	}
}

func TestDepth(t *testing.T) {
	r := shipped(t)
	v := pcommon.NewValueMap()
	m := v.Map()
	for i := 0; i < DefaultMaxDepth-1; i++ {
		m = m.PutEmptyMap("d")
	}
	if err := r.ApplyValue(v, &Counts{}, r.NewBudget()); err != nil {
		t.Fatalf("depth %d: %v", DefaultMaxDepth, err)
	}
	m.PutEmptyMap("d")
	if err := r.ApplyValue(v, &Counts{}, r.NewBudget()); PythonName(err) != "RedactionDepthError" {
		t.Fatalf("depth %d: %v", DefaultMaxDepth+1, err)
	}
}

func TestPseudonym(t *testing.T) {
	r := shipped(t)
	// HMAC-SHA256(secret, "EMAIL\x00ana@example.org"), first 16 hex characters (Python's value).
	if got := r.Pseudonym("EMAIL", "ana@example.org"); got != "[EMAIL:94bb46ba2e35d0be]" {
		t.Errorf("pseudonym %q", got)
	}
}

// A string with no candidate costs no allocation.
func TestCleanStringDoesNotAllocate(t *testing.T) {
	r := shipped(t)
	w := r.newWalker(&Counts{}, &Budget{limit: 1 << 30, remaining: 1 << 30})
	for _, text := range []string{
		"The transaction matches the customer's usual pattern; no anomaly was found.",
		"approve", "Ünïcödé text, nothing personal", "order ORD-2021", "2026-05-19T11:30:00Z",
	} {
		if allocs := testing.AllocsPerRun(100, func() { w.scan(text) }); allocs != 0 {
			t.Errorf("%q: %v allocations", text, allocs)
		}
	}
}
