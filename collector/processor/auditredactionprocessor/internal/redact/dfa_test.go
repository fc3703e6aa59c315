package redact

import (
	"strings"
	"testing"
)

// The automaton finds the backtracker's match end at every start and window, on random text
// made of the pieces these patterns look for (and non-ASCII characters, which end a match the
// automaton reads unless a thread could take one), for every shipped pattern (the key rules'
// search automata too) and a few others that stress priorities (lazy and greedy loops,
// alternation order, assertions).
func TestDFAIsTheBacktracker(t *testing.T) {
	rules, err := LoadRules(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	var patterns []*pyRegex
	for _, d := range rules.Detectors {
		patterns = append(patterns, d.Regex)
		if d.RequiresRegex != nil {
			patterns = append(patterns, d.RequiresRegex)
		}
	}
	for _, k := range rules.KeyRules {
		patterns = append(patterns, k.Regex)
	}
	for _, source := range []string{
		`a+?b?`, `(?:ab|a)(?:bc|b)?`, `\bx\w*\b`, `^\d{2,}?\B`, `(?:a|ab)(?:c|bcd)`, `x*$`, `(?i)tkt-[0-9]{4,8}\b`,
		`(?:\+|00)?[0-9](?:[ -]?[0-9]){5,9}`, `[^ ]+@[a-z]+(?:\.[a-z]{2,3}){1,2}`,
	} {
		patterns = append(patterns, mustCompilePy(source))
	}
	pieces := []string{"a", "b", "c", "x", "tkt-", "TKT-", "@", ".", "..", " ", "-", "+", "00", "(", ")", "/", ":", "\n",
		"1", "23", "456", "7890", "4111", "DE89", "ext", "x12", "AKIA", "eyJ", "_", "Ab", "é", "ff", "::", "192.168.1.1",
		"，", "谢谢", "ß", "\u212a", "\u017f", "п"}
	state := uint64(3)
	random := func(n int) int {
		state = state*6364136223846793005 + 1442695040888963407
		return int(state>>33) % n
	}
	withDFA, compared := 0, 0
	for _, p := range patterns {
		automaton, backtracker := p.prog.dfa, p.prog.bt
		if automaton == nil {
			continue
		}
		withDFA++
		for trial := 0; trial < 3000; trial++ {
			var b strings.Builder
			for n := random(12); n >= 0; n-- {
				b.WriteString(pieces[random(len(pieces))])
			}
			text := b.String()
			pos := random(len(text) + 1)
			limit := pos + random(len(text)-pos+1)
			got, ok := automaton.match(text, pos, limit)
			if !ok {
				continue
			}
			compared++
			if want := backtracker.match(text, pos, limit); got != want {
				t.Fatalf("%q on %q from %d to %d: automaton %d, backtracker %d", p.source, text, pos, limit, got, want)
			}
		}
	}
	if withDFA < len(patterns)/2 || compared < 10_000 {
		t.Fatalf("%d of %d patterns have an automaton, %d matches compared", withDFA, len(patterns), compared)
	}
}

// The automata of the shipped rules share columns between the symbols every state treats alike:
// their tables take about 0.1 MB, where one column per symbol took 1.3 MB (more than this box's
// L2 cache per core, beside the collector's own decoding and encoding).
func TestDFATablesAreCompact(t *testing.T) {
	rules, err := LoadRules(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	total, automata := 0, 0
	count := func(p *pyRegex) {
		if p == nil || p.prog.dfa == nil {
			return
		}
		d := p.prog.dfa
		if d.stride < 1 || d.stride > dfaSymbols || len(d.steps)%d.stride != 0 {
			t.Fatalf("%q: %d classes for %d entries", p.source, d.stride, len(d.steps))
		}
		total += 4 * len(d.steps)
		automata++
	}
	for _, d := range rules.Detectors {
		count(d.Regex)
		count(d.RequiresRegex)
	}
	for _, k := range rules.KeyRules {
		count(k.Regex)
	}
	if automata < 10 || total > 200_000 {
		t.Fatalf("%d automata take %d bytes", automata, total)
	}
}
