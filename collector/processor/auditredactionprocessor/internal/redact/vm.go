package redact

import (
	"regexp/syntax"
	"sync"
	"unicode/utf8"
)

// backtracker runs a compiled RE2 program anchored at one position, with leftmost-first
// (Perl) priorities: the same algorithm as the backtracker of Go's regexp package (a job stack
// and a visited bitmap of (instruction, position), so the work is linear in the window), with
// what makes it cheap here: every instruction matches an ASCII byte by a table lookup, and
// the bitmap only covers the window a match can reach.
type backtracker struct {
	prog  *syntax.Prog
	insts []btInst // prog's instructions, Nop and Capture skipped
	start int
	rows  int       // instructions reachable in more than one way: the rows of the visited bitmap
	pool  sync.Pool // *btState
}

// btInst is an instruction of prog in the form the loop reads. Only an instruction reachable
// from more than one place (a row >= 0) needs a visited bit: any other is reached from its
// single predecessor, at a position that predecessor fixes, so at most as often as it.
type btInst struct {
	op       syntax.InstOp
	empty    syntax.EmptyOp
	row      int32 // row in the visited bitmap, -1: none needed
	out, arg int32
	ascii    *[256]bool // rune instructions: the ASCII bytes (and, in 128..255, nothing) accepted
	inst     *syntax.Inst
}

type btJob struct{ pc, pos int }

type btState struct {
	visited []uint32
	jobs    []btJob
}

func newBacktracker(tree *syntax.Regexp) (*backtracker, error) {
	prog, err := syntax.Compile(tree)
	if err != nil {
		return nil, err
	}
	follow := func(pc uint32) int32 {
		for steps := 0; steps <= len(prog.Inst); steps++ {
			op := prog.Inst[pc].Op
			if op != syntax.InstNop && op != syntax.InstCapture {
				return int32(pc)
			}
			pc = prog.Inst[pc].Out
		}
		return int32(pc) // a cycle of Nops cannot come out of syntax.Compile
	}
	bt := &backtracker{prog: prog, insts: make([]btInst, len(prog.Inst))}
	bt.start = int(follow(uint32(prog.Start)))
	indegree := make([]int, len(prog.Inst))
	indegree[bt.start]++
	for pc := range prog.Inst {
		inst := &prog.Inst[pc]
		b := &bt.insts[pc]
		b.op, b.inst, b.row = inst.Op, inst, -1
		switch inst.Op {
		case syntax.InstNop, syntax.InstCapture:
			continue // never executed
		case syntax.InstAlt, syntax.InstAltMatch:
			b.out, b.arg = follow(inst.Out), follow(inst.Arg)
			indegree[b.out]++
			indegree[b.arg]++
		case syntax.InstEmptyWidth:
			b.empty = syntax.EmptyOp(inst.Arg)
			b.out = follow(inst.Out)
			indegree[b.out]++
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			b.ascii = new([256]bool)
			for c := 0; c < utf8.RuneSelf; c++ {
				b.ascii[c] = inst.MatchRune(rune(c))
			}
			b.out = follow(inst.Out)
			indegree[b.out]++
		}
	}
	for pc := range bt.insts {
		if indegree[pc] > 1 {
			bt.insts[pc].row = int32(bt.rows)
			bt.rows++
		}
	}
	bt.pool.New = func() any { return &btState{} }
	return bt, nil
}

// match returns the end of the leftmost-first match starting at pos that consumes nothing at
// or after limit, or -1. Assertions see the whole text.
func (bt *backtracker) match(text string, pos, limit int) int {
	st := bt.pool.Get().(*btState)
	defer bt.pool.Put(st)
	width := limit - pos + 1
	size := (bt.rows*width + 31) / 32
	if cap(st.visited) < size {
		st.visited = make([]uint32, size)
	} else {
		st.visited = st.visited[:size]
		clear(st.visited)
	}
	visited := st.visited
	insts := bt.insts
	st.jobs = append(st.jobs[:0], btJob{bt.start, pos})
	for len(st.jobs) > 0 {
		job := st.jobs[len(st.jobs)-1]
		st.jobs = st.jobs[:len(st.jobs)-1]
		pc, i := job.pc, job.pos
	thread:
		for {
			inst := &insts[pc]
			if inst.row >= 0 {
				key := uint(inst.row)*uint(width) + uint(i-pos)
				word, bit := &visited[key>>5], uint32(1)<<(key&31)
				if *word&bit != 0 {
					break
				}
				*word |= bit
			}
			switch inst.op {
			case syntax.InstFail:
				break thread
			case syntax.InstMatch:
				return i
			case syntax.InstAlt, syntax.InstAltMatch:
				st.jobs = append(st.jobs, btJob{int(inst.arg), i})
				pc = int(inst.out)
			case syntax.InstEmptyWidth:
				if inst.empty&^emptyContext(text, i) != 0 {
					break thread
				}
				pc = int(inst.out)
			default: // a rune instruction
				if i >= limit {
					break thread
				}
				c := text[i]
				if c < utf8.RuneSelf {
					if !inst.ascii[c] {
						break thread
					}
					i++
				} else {
					r, size := utf8.DecodeRuneInString(text[i:])
					if !inst.inst.MatchRune(r) || i+size > limit {
						break thread
					}
					i += size
				}
				pc = int(inst.out)
			}
		}
	}
	return -1
}

// emptyContext is the set of empty-width assertions that hold at byte offset i of text.
func emptyContext(text string, i int) syntax.EmptyOp {
	before, after := rune(-1), rune(-1)
	if i > 0 {
		before, _ = utf8.DecodeLastRuneInString(text[:i])
	}
	if i < len(text) {
		after, _ = utf8.DecodeRuneInString(text[i:])
	}
	return syntax.EmptyOpContext(before, after)
}
