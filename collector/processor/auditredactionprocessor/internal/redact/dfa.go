package redact

import (
	"regexp/syntax"
	"strings"
)

// dfa is the backtracker's program turned into a deterministic automaton over ASCII bytes,
// built whole when the pattern is compiled (so it is read-only and shared by every goroutine).
// It finds the same match end as the backtracker, leftmost-first, in one pass: a state is the
// ordered list of the program's threads waiting for the next byte (the order is their priority)
// and what the byte before them was. Reading a byte runs the threads' empty-width steps in the
// context of the bytes on both sides, notes a match when a thread reaches Match (the threads
// after it, of lower priority, are dropped, as a backtracker would never try them), and moves
// the others over the byte. A window holding a non-ASCII character the match would have to
// consume is left to the backtracker.
//
// Symbols that every state treats alike share one column of the table (a byte class: the
// shipped patterns need 2 to 30 of the 130 symbols), so the tables of all patterns take a
// tenth of the memory (0.1 MB instead of 1.3 MB) and stay in the cache while the
// collector decodes and encodes around them.
type dfa struct {
	// steps[state*stride+class[symbol]]: the transition on the symbol, one load per byte: (the
	// next state's row + 1) << 1 (0: no thread left), | 1 when a match ends before the symbol.
	steps  []int32
	class  [dfaSymbols]uint8
	stride int // the number of byte classes: the length of a state's row
	// wide[state]: a thread of the state that a match could still take (one of higher priority
	// than any match ending here) might consume a non-ASCII character, which only the
	// backtracker reads. Elsewhere a non-ASCII character ends the match as any other byte the
	// threads cannot take.
	wide  []bool
	start [prevClasses]int32
}

// program is a pattern's backtracker and, when it has at most maxDFAStates states, its
// automaton, which decides every window it can.
type program struct {
	bt  *backtracker
	dfa *dfa // nil: too many states
}

func newProgram(tree *syntax.Regexp) (*program, error) {
	bt, err := newBacktracker(tree)
	if err != nil {
		return nil, err
	}
	return &program{bt: bt, dfa: newDFA(bt)}, nil
}

// match is the end of the leftmost-first match starting at pos that consumes nothing at or
// after limit, or -1: the automaton's answer, or the backtracker's where it has none.
func (p *program) match(text string, pos, limit int) int {
	if p.dfa != nil {
		if end, ok := p.dfa.match(text, pos, limit); ok {
			return end
		}
	}
	return p.bt.match(text, pos, limit)
}

// step is the entry of steps for a transition to next (-1: none) that notes a match or not.
func step(next int32, matched bool) int32 {
	row := int32(0)
	if next >= 0 {
		row = next + 1 // a state number here; compact makes it a row offset
	}
	entry := row << 1
	if matched {
		entry |= 1
	}
	return entry
}

const (
	symNonASCII = 128 // any byte >= 0x80: a context for assertions only, never consumed here
	symEnd      = 129 // the end of the text
	dfaSymbols  = 130

	// What the byte before a position was, for the assertions (^, \A, \b, \B).
	prevStart   = 0
	prevNewline = 1
	prevWord    = 2
	prevOther   = 3
	prevClasses = 4

	// maxDFAStates bounds the automaton of one pattern; a larger one keeps the backtracker.
	maxDFAStates = 2048
)

// newDFA builds the automaton of bt's program, or returns nil when it has more than
// maxDFAStates states.
func newDFA(bt *backtracker) *dfa {
	b := dfaBuilder{bt: bt, ids: map[string]int32{}, seen: make([]bool, len(bt.insts))}
	d := &dfa{}
	for class := range prevClasses {
		id, ok := b.state([]int32{int32(bt.start)}, class)
		if !ok {
			return nil
		}
		d.start[class] = id
	}
	for at := 0; at < len(b.kernels); at++ {
		for symbol := range dfaSymbols {
			next, matched := b.step(b.kernels[at], b.classes[at], symbol)
			id := int32(-1)
			if len(next) > 0 {
				var ok bool
				if id, ok = b.state(next, classOfSymbol(symbol)); !ok {
					return nil
				}
			}
			d.steps = append(d.steps, step(id, matched))
			if symbol == symNonASCII {
				d.wide = append(d.wide, b.leavesTakeNonASCII())
			}
		}
	}
	d.compact()
	return d
}

// compact merges the symbols whose columns are the same in every state into one byte class,
// and turns the state numbers of the entries into row offsets of the smaller table.
func (d *dfa) compact() {
	states := len(d.steps) / dfaSymbols
	columns := map[string]uint8{}
	var representative []int // a symbol of each class
	column := make([]byte, 0, states*4)
	for symbol := range dfaSymbols {
		column = column[:0]
		for state := range states {
			entry := d.steps[state*dfaSymbols+symbol]
			column = append(column, byte(entry), byte(entry>>8), byte(entry>>16), byte(entry>>24))
		}
		class, ok := columns[string(column)]
		if !ok {
			class = uint8(len(representative)) // at most 130 classes
			columns[string(column)] = class
			representative = append(representative, symbol)
		}
		d.class[symbol] = class
	}
	d.stride = len(representative)
	steps := make([]int32, 0, states*d.stride)
	for state := range states {
		for _, symbol := range representative {
			entry := d.steps[state*dfaSymbols+symbol]
			if next := entry >> 1; next > 0 {
				entry = ((next-1)*int32(d.stride)+1)<<1 | entry&1
			}
			steps = append(steps, entry)
		}
	}
	d.steps = steps
}

// leavesTakeNonASCII reports whether a rune instruction among the last step's leaves, before
// any Match (the threads after it are never tried), can match a character >= 0x80.
func (b *dfaBuilder) leavesTakeNonASCII() bool {
	for _, pc := range b.leaves {
		inst := b.bt.insts[pc].inst
		switch inst.Op {
		case syntax.InstMatch:
			return false
		case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return true
		case syntax.InstRune1:
			if inst.Rune[0] >= symNonASCII {
				return true
			}
		case syntax.InstRune:
			if syntax.Flags(inst.Arg)&syntax.FoldCase != 0 {
				return true // folding can take a non-ASCII form of an ASCII letter (K: U+212A)
			}
			for i := 1; i < len(inst.Rune); i += 2 {
				if inst.Rune[i] >= symNonASCII {
					return true
				}
			}
		}
	}
	return false
}

// match is backtracker.match for ASCII windows: the end of the leftmost-first match starting at
// pos that consumes nothing at or after limit, or -1; ok is false when a non-ASCII character
// stands where the match might consume it (the backtracker decides those).
func (d *dfa) match(text string, pos, limit int) (end int, ok bool) {
	stride := d.stride
	row := int(d.start[prevClassAt(text, pos)]) * stride
	end = -1
	steps, class := d.steps, &d.class
	i := pos
	// The ASCII bytes of the window, one load each.
	for ; i < limit && i < len(text); i++ {
		c := text[i]
		if c >= symNonASCII {
			break
		}
		entry := steps[row+int(class[c])]
		if entry&1 != 0 {
			end = i
		}
		if entry>>1 == 0 {
			return end, true // no thread left
		}
		row = int(entry>>1) - 1
	}
	// At the window's limit, the text's end or a non-ASCII byte: a match may end before it.
	symbol := symEnd
	if i < len(text) {
		if c := text[i]; c < symNonASCII {
			symbol = int(c)
		} else {
			symbol = symNonASCII
		}
	}
	if steps[row+int(class[symbol])]&1 != 0 {
		end = i
	}
	if i >= limit || symbol == symEnd {
		return end, true
	}
	if d.wide[row/stride] {
		return -1, false
	}
	return end, true // no thread can take it: the match (if any) ended before it
}

func prevClassAt(text string, pos int) int {
	if pos == 0 {
		return prevStart
	}
	return classOfSymbol(int(min(text[pos-1], symNonASCII)))
}

// classOfSymbol is what the symbol is as "the byte before" the next position.
func classOfSymbol(symbol int) int {
	switch {
	case symbol == '\n':
		return prevNewline
	case symbol < symNonASCII && isWordByte(byte(symbol)):
		return prevWord
	default:
		return prevOther
	}
}

// context is the set of assertions that hold between a byte of class prev and symbol.
func context(prev, symbol int) syntax.EmptyOp {
	before := [prevClasses]rune{prevStart: -1, prevNewline: '\n', prevWord: 'a', prevOther: ' '}[prev]
	after := rune(symbol)
	switch symbol {
	case symEnd:
		after = -1
	case symNonASCII:
		after = 0x80 // neither a word character nor a newline
	}
	return syntax.EmptyOpContext(before, after)
}

type dfaBuilder struct {
	bt      *backtracker
	ids     map[string]int32
	kernels [][]int32
	classes []int
	seen    []bool  // scratch: instructions reached in the closure being built
	leaves  []int32 // scratch: the closure's Match and rune instructions, in priority order
}

// state returns the id of the state (kernel, class), making it when new; false beyond the bound.
func (b *dfaBuilder) state(kernel []int32, class int) (int32, bool) {
	var key strings.Builder
	key.WriteByte(byte(class))
	for _, pc := range kernel {
		key.WriteByte(byte(pc))
		key.WriteByte(byte(pc >> 8))
		key.WriteByte(byte(pc >> 16))
	}
	if id, ok := b.ids[key.String()]; ok {
		return id, true
	}
	if len(b.kernels) >= maxDFAStates {
		return 0, false
	}
	id := int32(len(b.kernels))
	b.ids[key.String()] = id
	b.kernels = append(b.kernels, kernel)
	b.classes = append(b.classes, class)
	return id, true
}

// step reads symbol in state (kernel, prev): whether a match ends before it, and the threads
// after it (the kernel of the next state), in priority order.
func (b *dfaBuilder) step(kernel []int32, prev, symbol int) ([]int32, bool) {
	ctx := context(prev, symbol)
	clear(b.seen)
	b.leaves = b.leaves[:0]
	for _, pc := range kernel {
		b.closure(pc, ctx)
	}
	var next []int32
	for _, pc := range b.leaves {
		inst := &b.bt.insts[pc]
		if inst.op == syntax.InstMatch {
			return next, true // lower-priority threads are never tried
		}
		if symbol < symNonASCII && inst.ascii[symbol] && !containsPC(next, inst.out) {
			next = append(next, inst.out)
		}
	}
	return next, false
}

// closure adds the Match and rune instructions reachable from pc without consuming, in the
// backtracker's priority order (an alternation's first branch before its second).
func (b *dfaBuilder) closure(pc int32, ctx syntax.EmptyOp) {
	for {
		if b.seen[pc] {
			return
		}
		b.seen[pc] = true
		inst := &b.bt.insts[pc]
		switch inst.op {
		case syntax.InstAlt, syntax.InstAltMatch:
			b.closure(inst.out, ctx)
			pc = inst.arg
		case syntax.InstEmptyWidth:
			if inst.empty&^ctx != 0 {
				return
			}
			pc = inst.out
		case syntax.InstFail:
			return
		default: // Match, or a rune instruction
			b.leaves = append(b.leaves, pc)
			return
		}
	}
}

func containsPC(pcs []int32, pc int32) bool {
	for _, p := range pcs {
		if p == pc {
			return true
		}
	}
	return false
}
