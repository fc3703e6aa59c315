package redact

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Python's re (with re.ASCII, as rules.py compiles every pattern) and Go's RE2 agree on most of
// the portable subset the rule file allows, but not on all of it:
//
//   - \s is [ \t\n\r\f\v] in Python, [\t\n\f\r ] in RE2 (no \v);
//   - (?i) with re.ASCII folds ASCII letters only; RE2 folds Unicode (k matches U+212A);
//   - $ (without (?m)) matches at the end and before a final newline in Python, at the end only
//     in RE2.
//
// So patterns are not handed to RE2 as written: pyRegexTranslate parses them as Python's
// sre_parse does (refusing what Python refuses) and writes an RE2 pattern in which every class
// is spelled out (\d -> [0-9], \s -> [\t\n\v\f\r ], case-insensitive letters -> [aA]) and every
// anchor is explicit. A Python `$` becomes `(?:(\n)?\z)`: the capture tells a match that ended
// through the optional newline, whose end is then moved back before it (Python's `$` is zero
// width). That is exact when `$` ends the pattern or one of its top-level alternatives, which
// is how rule files use it.

const (
	flagIgnoreCase = 1 << iota
	flagMultiline
	flagDotAll
)

// pyRegex is a rule-file pattern compiled to RE2 with Python's meaning.
//
// Go's regexp has no DFA: an unanchored search tries every start position with a backtracker or
// an NFA, which costs far more per byte than CPython's sre on these patterns. So a search runs
// the pattern anchored, and only at the positions where a match can start: the pattern's syntax
// gives the bytes a match can start with, the classes of its fixed-width prefix and, when it
// has one, a byte it must contain at a bounded distance from its start (the @ of an e-mail
// address). A pattern that is only a fixed-width sequence of ASCII classes is matched without
// the regexp engine at all. The matches are the same as an unanchored leftmost-first search:
// the leftmost start with a match, and at that start the same match.
type pyRegex struct {
	source   string
	re       *regexp.Regexp // unanchored
	anchored *regexp.Regexp // \A(?:pattern)
	context  *regexp.Regexp // \A(?s:.)(?:pattern): one character of left context, then the match
	dollar   bool           // the pattern has a non-multiline `$`: captures mark a consumed final newline
	// prog runs the pattern anchored at a position. Its match end is Python's unless dollar
	// (the captures then mark a consumed final newline, which only regexp reports), but whether
	// a match starts there is the same either way: search uses prog for every pattern.
	prog *program

	first    [256]bool   // bytes a match can start with
	prefix   [][256]bool // classes of the first bytes of every match
	literal  bool        // the pattern is exactly prefix (fixed width, no assertions)
	anchor   int         // a prefix position with a much smaller class than first (0: none)
	required int         // a byte every match contains (-1: none) ...
	reqMin   int         // ... at an offset in [reqMin, reqMax] from the match start
	reqMax   int
	alphabet [256]bool // bytes a match can consume
	bounded  bool      // alphabet is not every byte: a match stays within a run of it

	need      uint64    // the classes (bits of textBytes) of which every match holds a byte
	boundary  [256]bool // a match starting with this (word) byte has \b before it
	maxWidth  int       // most bytes a match can span (-1: unbounded)
	minWidth  int       // fewest bytes a match spans
	minDigits int       // fewest ASCII digits a match contains
	trivial   bool      // one ASCII class, no assertion: a match iff a byte of first is present
}

func toByteSet(class *[256]bool) byteSet {
	var set byteSet
	for c, in := range class {
		if in {
			set.add(byte(c))
		}
	}
	return set
}

// byteSet is a set of bytes (a class of a pattern).
type byteSet [4]uint64

func (b *byteSet) add(c byte)      { b[c>>6] |= 1 << (c & 63) }
func (b *byteSet) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }

// textBytes tells which classes have a byte in a text: bit k for the k-th class the patterns
// registered (classBit), bit 63 for the bytes >= 0x80. One table lookup per byte of the text
// answers every pattern's mayMatch with one AND.
type textBytes uint64

const nonASCIIBit = uint64(1) << 63

var (
	classesMu sync.Mutex
	classes   = map[byteSet]uint{} // registered classes, by bit
	// classMask[c]: the bits of the classes holding c. Patterns compiled later only add bits of
	// new classes, which no pattern compiled earlier reads, so lookups take no lock.
	classMask [256]atomic.Uint64
)

func init() {
	for c := utf8.RuneSelf; c < 256; c++ {
		classMask[c].Store(nonASCIIBit)
	}
}

// classBit is the bit of set in textBytes, registered on first use; 0 once 63 classes are
// (the condition is then dropped: mayMatch is only a necessary condition).
func classBit(set byteSet) uint64 {
	classesMu.Lock()
	defer classesMu.Unlock()
	bit, ok := classes[set]
	if !ok {
		if len(classes) >= 63 {
			return 0
		}
		bit = uint(len(classes))
		classes[set] = bit
		for c := range 256 {
			if set.has(byte(c)) {
				classMask[c].Or(uint64(1) << bit)
			}
		}
	}
	return uint64(1) << bit
}

func presentBytes(text string) textBytes {
	var present uint64
	for i := 0; i < len(text); i++ {
		present |= classMask[text[i]].Load()
	}
	return textBytes(present)
}

// nonASCII reports whether a byte >= 0x80 is present.
func (b *textBytes) nonASCII() bool { return uint64(*b)&nonASCIIBit != 0 }

// searchPresent is mayMatch(present) && search(text), with the bytes of text known.
func (p *pyRegex) searchPresent(text string, present *textBytes) bool {
	if !p.mayMatch(present) {
		return false
	}
	if p.trivial && text != "" {
		return true
	}
	return p.search(text)
}

// mayMatch is a necessary condition for a match in a text whose bytes are present: a byte of
// the first class, of every prefix class, and the required byte.
func (p *pyRegex) mayMatch(present *textBytes) bool {
	return uint64(*present)&p.need == p.need
}

func compilePy(pattern string) (*pyRegex, error) {
	translated, dollar, err := pyRegexTranslate(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(translated)
	if err != nil {
		return nil, fmt.Errorf("RE2 cannot compile it: %v", err)
	}
	p := &pyRegex{source: pattern, re: re, dollar: dollar, required: -1}
	p.anchored = regexp.MustCompile(`\A(?:` + translated + `)`)
	p.context = regexp.MustCompile(`\A(?s:.)(?:` + translated + `)`)
	tree, err := syntax.Parse(translated, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("RE2 cannot compile it: %v", err)
	}
	tree = tree.Simplify()
	if p.prog, err = newProgram(tree); err != nil {
		return nil, fmt.Errorf("RE2 cannot compile it: %v", err)
	}
	if !firstBytes(tree, &p.first) {
		for i := range p.first {
			p.first[i] = true
		}
	}
	p.prefix, p.literal = fixedPrefix(tree)
	p.bounded = !consumes(tree, &p.alphabet)
	p.minWidth, p.maxWidth = width(tree)
	var seen, open [256]bool
	for _, st := range starts(tree, false) {
		for c := range st.class {
			if !st.class[c] {
				continue
			}
			seen[c] = true
			if !st.boundary {
				open[c] = true
			}
		}
	}
	for c := range seen {
		p.boundary[c] = seen[c] && !open[c] && isWordByte(byte(c))
	}
	p.need = classBit(toByteSet(&p.first))
	for k := range p.prefix {
		p.need |= classBit(toByteSet(&p.prefix[k]))
	}
	p.anchor = anchorPosition(p.first, p.prefix)
	p.minDigits = minDigits(tree)
	if b, lo, hi, ok := requiredByte(tree); ok && hi >= 1 {
		p.required, p.reqMin, p.reqMax = b, lo, hi
		var required byteSet
		required.add(byte(b))
		p.need |= classBit(required)
	}
	if p.literal && len(p.prefix) == 1 && p.required < 0 && !p.dollar && p.prefix[0] == p.first {
		p.trivial = true
		for _, b := range p.boundary {
			if b {
				p.trivial = false
			}
		}
	}
	return p, nil
}

func mustCompilePy(pattern string) *pyRegex {
	re, err := compilePy(pattern)
	if err != nil {
		panic(fmt.Sprintf("pattern %q: %v", pattern, err))
	}
	return re
}

// anchorPosition picks the prefix position whose class is the rarest in ordinary text, when it
// is under half as common as first's: the candidate scan then looks for that class (the digits
// of an IBAN, not its letters). Rarity is a rough weight per byte: a space is very common,
// lower-case letters common, capitals and digits less so, punctuation rare.
func anchorPosition(first [256]bool, prefix [][256]bool) int {
	weight := func(class *[256]bool) int {
		n := 0
		for c, in := range class {
			switch {
			case !in:
			case c == ' ':
				n += 16
			case c >= 'a' && c <= 'z':
				n += 4
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= utf8.RuneSelf:
				n += 2
			default:
				n++
			}
		}
		return n
	}
	best, bestWeight := 0, weight(&first)/2
	for k := 1; k < len(prefix); k++ {
		if n := weight(&prefix[k]); n < bestWeight {
			best, bestWeight = k, n
		}
	}
	return best
}

// candidate returns the first position >= pos where a match may start, or -1.
func (p *pyRegex) candidate(text string, pos int, nextRequired *int) int {
	first := &p.first
	for ; pos < len(text); pos++ {
		if p.anchor > 0 {
			// Only a start whose anchor byte is in its class can match: skip to the next one.
			anchor := &p.prefix[p.anchor]
			i := pos + p.anchor
			for i < len(text) && !anchor[text[i]] {
				i++
			}
			if i >= len(text) {
				return -1
			}
			pos = i - p.anchor
			if !first[text[pos]] {
				continue
			}
		} else {
			for pos < len(text) && !first[text[pos]] {
				pos++ // the tight loop: most bytes cannot start a match
			}
			if pos >= len(text) {
				return -1
			}
		}
		if p.boundary[text[pos]] && pos > 0 && isWordByte(text[pos-1]) {
			continue // \b before a word character: not inside a word
		}
		if len(p.prefix) > 0 {
			if pos+len(p.prefix) > len(text) {
				return -1
			}
			ok := true
			for k := range p.prefix {
				if !p.prefix[k][text[pos+k]] {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		if p.required >= 0 {
			// The next occurrence of the required byte at or after pos + reqMin.
			if *nextRequired < pos+p.reqMin {
				if pos+p.reqMin >= len(text) {
					return -1
				}
				i := strings.IndexByte(text[pos+p.reqMin:], byte(p.required))
				if i < 0 {
					return -1
				}
				*nextRequired = pos + p.reqMin + i
			}
			if *nextRequired > pos+p.reqMax {
				// No match can start before nextRequired - reqMax.
				pos = max(pos, *nextRequired-p.reqMax-1)
				continue
			}
		}
		return pos
	}
	return -1
}

// fits reports whether a match of minWidth bytes fits in the run of alphabet bytes at pos.
func (p *pyRegex) fits(text string, pos int, run *int) bool {
	if !p.bounded {
		return len(text)-pos >= p.minWidth
	}
	p.window(text, pos, run)
	if *run-pos < p.minWidth {
		return false
	}
	if p.required >= 0 && strings.IndexByte(text[pos:*run], byte(p.required)) < 0 {
		return false // the byte every match consumes is not in the run
	}
	if p.minDigits > 1 {
		digits := 0
		for i := pos; i < *run && digits < p.minDigits; i++ {
			if isASCIIDigit(text[i]) {
				digits++
			}
		}
		return digits >= p.minDigits
	}
	return true
}

// window returns the end of the text a match starting at pos can see: the run of alphabet
// bytes from pos, and the character after it (which assertions such as \b look at). run caches
// the end of the current run between calls with increasing pos.
func (p *pyRegex) window(text string, pos int, run *int) int {
	end := len(text)
	if p.bounded {
		if *run <= pos {
			end := pos
			for end < len(text) && p.alphabet[text[end]] {
				end++
			}
			*run = end
		}
		end = *run
	}
	if p.maxWidth >= 0 && pos+p.maxWidth < end {
		end = pos + p.maxWidth
	}
	if end < len(text) {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	return end
}

// matchAt returns the end of the match starting at pos (with Python's `$`), or -1.
func (p *pyRegex) matchAt(text string, pos, limit int) int {
	if p.literal {
		return pos + len(p.prefix)
	}
	if !p.dollar {
		return p.prog.match(text, pos, limit)
	}
	re, base := p.anchored, pos
	if pos > 0 {
		_, size := utf8.DecodeLastRuneInString(text[:pos])
		re, base = p.context, pos-size
	}
	m := re.FindStringSubmatchIndex(text[base:limit])
	if m == nil {
		return -1
	}
	end := base + m[1]
	for g := 2; g+1 < len(m); g += 2 {
		if m[g] >= 0 && base+m[g+1] == end && end == len(text) {
			return end - 1
		}
	}
	return end
}

// search reports whether the pattern matches anywhere in text (re.search(...) is not None).
func (p *pyRegex) search(text string) bool {
	if text == "" {
		return p.re.MatchString("")
	}
	next, run := -1, -1
	for pos := 0; pos < len(text); pos++ {
		pos = p.candidate(text, pos, &next)
		if pos < 0 {
			return false
		}
		if !p.fits(text, pos, &run) {
			if p.bounded && run > pos {
				pos = run - 1 // no later start in this run fits either
			}
			continue
		}
		if p.matchesAt(text, pos, p.window(text, pos, &run)) {
			return true
		}
	}
	return false
}

// matchesAt reports whether a match starts at pos (matchAt(text, pos, limit) >= 0).
func (p *pyRegex) matchesAt(text string, pos, limit int) bool {
	if p.literal {
		return true
	}
	return p.prog.match(text, pos, limit) >= 0
}

// findAll returns the [start, end) byte spans of re.finditer(text).
func (p *pyRegex) findAll(text string) [][2]int { return p.appendAll(nil, text) }

// appendAll appends the spans of re.finditer(text) to out.
func (p *pyRegex) appendAll(out [][2]int, text string) [][2]int {
	next, run := -1, -1
	for pos := 0; pos < len(text); {
		start := p.candidate(text, pos, &next)
		if start < 0 {
			break
		}
		if !p.fits(text, start, &run) {
			pos = start + 1
			if p.bounded && run > start {
				pos = run // no later start in this run fits either
			}
			continue
		}
		end := p.matchAt(text, start, p.window(text, start, &run))
		if end < 0 {
			pos = start + 1
			continue
		}
		out = append(out, [2]int{start, end})
		if end > start {
			pos = end
		} else {
			_, size := utf8.DecodeRuneInString(text[start:])
			pos = start + size
		}
	}
	return out
}

// -- the syntax analysis of the fast path ---------------------------------------------------------

func isWordByte(c byte) bool { return isASCIIAlnum(c) || c == '_' }

type start struct {
	class    [256]bool
	boundary bool // a \b stands before it on this path
}

// starts lists the first consumed characters of re's paths, and whether a \b precedes them.
func starts(re *syntax.Regexp, boundary bool) []start {
	switch re.Op {
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		var st start
		firstBytes(re, &st.class)
		st.boundary = boundary
		return []start{st}
	case syntax.OpCapture, syntax.OpPlus, syntax.OpStar, syntax.OpQuest, syntax.OpRepeat:
		return starts(re.Sub[0], boundary)
	case syntax.OpAlternate:
		var out []start
		for _, sub := range re.Sub {
			out = append(out, starts(sub, boundary)...)
		}
		return out
	case syntax.OpConcat:
		var out []start
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpWordBoundary {
				boundary = true
				continue
			}
			out = append(out, starts(sub, boundary)...)
			if !nullable(sub) {
				break
			}
		}
		return out
	}
	return nil
}

func nullable(re *syntax.Regexp) bool {
	lo, _ := width(re)
	return lo == 0
}

// consumes marks every byte a match of re can consume; true when that is every byte.
func consumes(re *syntax.Regexp, set *[256]bool) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			markRune(set, r, re.Flags&syntax.FoldCase != 0)
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			markRange(set, re.Rune[i], re.Rune[i+1])
		}
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		for i := range set {
			set[i] = true
		}
	default:
		for _, sub := range re.Sub {
			consumes(sub, set)
		}
	}
	if set[0x80] || set[0xC2] {
		// A non-ASCII character: every byte of it (continuation bytes included).
		for b := 0x80; b < 0x100; b++ {
			set[b] = true
		}
	}
	for _, b := range set {
		if !b {
			return false
		}
	}
	return true
}

// firstBytes marks the bytes a match of re can start with; false when re can match empty.
func firstBytes(re *syntax.Regexp, set *[256]bool) bool {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return false
		}
		markRune(set, re.Rune[0], re.Flags&syntax.FoldCase != 0)
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			markRange(set, re.Rune[i], re.Rune[i+1])
		}
		return true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		for i := range set {
			set[i] = true
		}
		return true
	case syntax.OpCapture:
		return firstBytes(re.Sub[0], set)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if firstBytes(sub, set) {
				return true
			}
		}
		return false
	case syntax.OpAlternate:
		all := true
		for _, sub := range re.Sub {
			if !firstBytes(sub, set) {
				all = false
			}
		}
		return all
	case syntax.OpPlus:
		return firstBytes(re.Sub[0], set)
	case syntax.OpStar, syntax.OpQuest:
		firstBytes(re.Sub[0], set)
		return false
	case syntax.OpRepeat:
		ok := firstBytes(re.Sub[0], set)
		return ok && re.Min > 0
	}
	// Empty-width assertions and empty matches: what follows decides.
	return false
}

func markRune(set *[256]bool, r rune, fold bool) {
	markRange(set, r, r)
	if fold && r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			set[r^0x20] = true
		}
	}
	if fold && r >= utf8.RuneSelf || fold && (r == 'k' || r == 'K' || r == 's' || r == 'S') {
		markNonASCII(set)
	}
}

func markRange(set *[256]bool, lo, hi rune) {
	for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
		set[r] = true
	}
	if hi >= utf8.RuneSelf {
		markNonASCII(set)
	}
}

// markNonASCII marks every byte >= 0x80: the lead byte of a non-ASCII character, or an invalid
// byte, which RE2 reads as U+FFFD.
func markNonASCII(set *[256]bool) {
	for b := utf8.RuneSelf; b < 256; b++ {
		set[b] = true
	}
}

// asciiClass is the byte set of a single ASCII-only character matcher (ok false otherwise).
func asciiClass(re *syntax.Regexp) (class [256]bool, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 || re.Rune[0] >= utf8.RuneSelf || re.Flags&syntax.FoldCase != 0 {
			return class, false
		}
		class[re.Rune[0]] = true
		return class, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1] >= utf8.RuneSelf {
				return class, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				class[r] = true
			}
		}
		return class, true
	}
	return class, false
}

// fixedPrefix returns the classes of the first bytes of every match (ASCII, fixed width), and
// whether the whole pattern is that prefix.
func fixedPrefix(re *syntax.Regexp) ([][256]bool, bool) {
	var out [][256]bool
	items := flatten(re)
	whole := true
	for _, item := range items {
		if len(out) >= 8 {
			return out, false
		}
		switch item.Op {
		case syntax.OpLiteral:
			if item.Flags&syntax.FoldCase != 0 {
				return out, false
			}
			for _, r := range item.Rune {
				if r >= utf8.RuneSelf {
					return out, false
				}
				var class [256]bool
				class[r] = true
				out = append(out, class)
			}
			continue
		case syntax.OpCharClass:
			if class, ok := asciiClass(item); ok {
				out = append(out, class)
				continue
			}
		case syntax.OpRepeat, syntax.OpPlus:
			if class, ok := asciiClass(item.Sub[0]); ok {
				n := item.Min
				if item.Op == syntax.OpPlus {
					n = 1
				}
				for k := 0; k < n && len(out) < 8; k++ {
					out = append(out, class)
				}
				if item.Op == syntax.OpRepeat && item.Max == item.Min && n <= 8 {
					continue
				}
			}
			return out, false
		case syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginText, syntax.OpBeginLine, syntax.OpEndText, syntax.OpEndLine:
			whole = false
			continue
		}
		return out, false
	}
	return out, whole && len(out) > 0
}

// minDigits is the fewest ASCII digits any match of re contains.
func minDigits(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if r >= '0' && r <= '9' {
				n++
			}
		}
		return n
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] < '0' || re.Rune[i+1] > '9' {
				return 0
			}
		}
		if len(re.Rune) == 0 {
			return 0
		}
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minDigits(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minDigits(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += minDigits(sub)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, sub := range re.Sub {
			if d := minDigits(sub); n < 0 || d < n {
				n = d
			}
		}
		return max(n, 0)
	}
	return 0
}

// flatten returns the items of re as one concatenation (nested concatenations and captures opened).
func flatten(re *syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpConcat:
		var out []*syntax.Regexp
		for _, sub := range re.Sub {
			out = append(out, flatten(sub)...)
		}
		return out
	case syntax.OpCapture:
		return flatten(re.Sub[0])
	}
	return []*syntax.Regexp{re}
}

// width returns the minimum and maximum width in bytes of a match of re (max -1: unbounded).
func width(re *syntax.Regexp) (int, int) {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		if re.Flags&syntax.FoldCase != 0 {
			return len(re.Rune), 4 * len(re.Rune)
		}
		return n, n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 1, 1
		}
		return utf8.RuneLen(re.Rune[0]), utf8.RuneLen(min(re.Rune[len(re.Rune)-1], utf8.MaxRune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1, 4
	case syntax.OpCapture:
		return width(re.Sub[0])
	case syntax.OpConcat:
		lo, hi := 0, 0
		for _, sub := range re.Sub {
			l, h := width(sub)
			lo += l
			if hi >= 0 {
				if h < 0 {
					hi = -1
				} else {
					hi += h
				}
			}
		}
		return lo, hi
	case syntax.OpAlternate:
		lo, hi := -1, 0
		for _, sub := range re.Sub {
			l, h := width(sub)
			if lo < 0 || l < lo {
				lo = l
			}
			if hi >= 0 && (h < 0 || h > hi) {
				hi = h
			}
		}
		return max(lo, 0), hi
	case syntax.OpStar:
		return 0, -1
	case syntax.OpPlus:
		l, _ := width(re.Sub[0])
		return l, -1
	case syntax.OpQuest:
		_, h := width(re.Sub[0])
		return 0, h
	case syntax.OpRepeat:
		l, h := width(re.Sub[0])
		if re.Max < 0 || h < 0 {
			return l * re.Min, -1
		}
		return l * re.Min, h * re.Max
	}
	return 0, 0
}

// requiredByte finds a single ASCII byte every match contains after a bounded-width start
// (the @ of an e-mail address, the : of an IPv6 address): its offset from the match start is in
// [lo, hi].
func requiredByte(re *syntax.Regexp) (b, lo, hi int, ok bool) {
	switch re.Op {
	case syntax.OpCapture:
		return requiredByte(re.Sub[0])
	case syntax.OpPlus:
		return requiredByte(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredByte(re.Sub[0])
		}
		return 0, 0, 0, false
	case syntax.OpAlternate:
		b, lo, hi = -1, 0, 0
		for _, sub := range re.Sub {
			sb, slo, shi, sok := requiredByte(sub)
			if !sok || (b >= 0 && sb != b) {
				return 0, 0, 0, false
			}
			if b < 0 {
				b, lo, hi = sb, slo, shi
			} else {
				lo, hi = min(lo, slo), max(hi, shi)
			}
		}
		return b, lo, hi, b >= 0
	case syntax.OpConcat:
		lo, hi = 0, 0
		for _, item := range re.Sub {
			if sb, slo, shi, sok := requiredByte(item); sok {
				return sb, lo + slo, hi + shi, hi+shi <= 4096
			}
			l, h := width(item)
			if h < 0 {
				return 0, 0, 0, false
			}
			lo, hi = lo+l, hi+h
		}
		return 0, 0, 0, false
	}
	if re.Op == syntax.OpLiteral && len(re.Rune) > 1 && re.Rune[0] < utf8.RuneSelf && re.Flags&syntax.FoldCase == 0 {
		return int(re.Rune[0]), 0, 0, true
	}
	if class, isClass := asciiClass(re); isClass {
		count, only := 0, -1
		for c := range class {
			if class[c] {
				count++
				only = c
			}
		}
		if count == 1 {
			return only, 0, 0, true
		}
	}
	return 0, 0, 0, false
}

// -- the translator -----------------------------------------------------------------------------

type pyParser struct {
	src    []rune
	pos    int
	global int
	names  map[string]bool
	dollar bool
}

type pyError struct {
	msg string
	pos int
}

func (e *pyError) Error() string { return fmt.Sprintf("%s at position %d", e.msg, e.pos) }

func (p *pyParser) fail(msg string) { panic(&pyError{msg, p.pos}) }

// pyRegexTranslate returns the RE2 form of the Python pattern, whether it has a non-multiline
// `$`, or the error Python's re.compile raises for it.
func pyRegexTranslate(pattern string) (out string, dollar bool, err error) {
	p := &pyParser{src: []rune(pattern), names: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			perr, ok := r.(*pyError)
			if !ok {
				panic(r)
			}
			out, dollar, err = "", false, perr
		}
	}()
	// Global flags must come first: parse them, then the whole pattern with them.
	body := p.parseSub(0, 0)
	if p.pos < len(p.src) {
		p.fail("unbalanced parenthesis")
	}
	_ = body
	// Second pass with the global flags known from the start.
	global := p.global
	p = &pyParser{src: []rune(pattern), names: map[string]bool{}, global: global}
	body = p.parseSub(global, 0)
	return body, p.dollar, nil
}

func (p *pyParser) peek() (rune, bool) {
	if p.pos < len(p.src) {
		return p.src[p.pos], true
	}
	return 0, false
}

func (p *pyParser) match(r rune) bool {
	if p.pos < len(p.src) && p.src[p.pos] == r {
		p.pos++
		return true
	}
	return false
}

// parseSub parses alternatives up to ")" or the end.
func (p *pyParser) parseSub(flags, nested int) string {
	var alternatives []string
	for {
		alternatives = append(alternatives, p.parseSeq(flags, nested, nested == 0 && len(alternatives) == 0))
		if !p.match('|') {
			break
		}
	}
	if len(alternatives) == 1 {
		return alternatives[0]
	}
	return strings.Join(alternatives, "|")
}

type itemKind int

const (
	itemAtom itemKind = iota
	itemAt
	itemRepeat
)

type item struct {
	kind itemKind
	text string
}

func (p *pyParser) parseSeq(flags, nested int, first bool) string {
	var items []item
	for {
		r, ok := p.peek()
		if !ok || r == '|' || r == ')' {
			break
		}
		p.pos++
		switch r {
		case '\\':
			items = append(items, p.escape(flags))
		case '[':
			items = append(items, item{itemAtom, p.class(flags)})
		case '*', '+', '?', '{':
			repeatStart := p.pos
			low, high := 0, -1
			switch r {
			case '?':
				high = 1
			case '+':
				low = 1
			case '{':
				if next, ok := p.peek(); ok && next == '}' {
					items = append(items, item{itemAtom, literal('{', flags)})
					continue
				}
				lo := p.digits()
				hi := lo
				if p.match(',') {
					hi = p.digits()
				}
				if !p.match('}') {
					p.pos = repeatStart
					items = append(items, item{itemAtom, literal('{', flags)})
					continue
				}
				if lo != "" {
					low = atoiRepeat(p, lo)
				}
				if hi != "" {
					high = atoiRepeat(p, hi)
					if high < low {
						p.fail("min repeat greater than max repeat")
					}
				}
			}
			if len(items) == 0 || items[len(items)-1].kind == itemAt {
				p.fail("nothing to repeat")
			}
			if items[len(items)-1].kind == itemRepeat {
				p.fail("multiple repeat")
			}
			suffix := ""
			if p.match('?') {
				suffix = "?"
			} else if next, ok := p.peek(); ok && next == '+' {
				p.fail("possessive repeat (not portable)")
			}
			count := fmt.Sprintf("{%d,}", low)
			if high >= 0 {
				count = fmt.Sprintf("{%d,%d}", low, high)
			}
			last := &items[len(items)-1]
			last.text = "(?:" + last.text + ")" + count + suffix
			last.kind = itemRepeat
		case '.':
			if flags&flagDotAll != 0 {
				items = append(items, item{itemAtom, `(?s:.)`})
			} else {
				items = append(items, item{itemAtom, `(?-s:.)`})
			}
		case '^':
			if flags&flagMultiline != 0 {
				items = append(items, item{itemAt, `(?m:^)`})
			} else {
				items = append(items, item{itemAt, `\A`})
			}
		case '$':
			if flags&flagMultiline != 0 {
				items = append(items, item{itemAt, `(?m:$)`})
			} else {
				p.dollar = true
				items = append(items, item{itemAt, `(?:(\n)?\z)`})
			}
		case '(':
			text, global := p.group(flags, nested)
			if global {
				if !first || len(items) > 0 {
					p.fail("global flags not at the start of the expression")
				}
				continue
			}
			items = append(items, item{itemAtom, text})
		default:
			items = append(items, item{itemAtom, literal(r, flags)})
		}
	}
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.text)
	}
	return b.String()
}

func atoiRepeat(p *pyParser, digits string) int {
	n, err := strconv.Atoi(digits)
	if err != nil || n >= 1<<32-1 {
		p.fail("the repetition number is too large")
	}
	return n
}

func (p *pyParser) digits() string {
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	return string(p.src[start:p.pos])
}

// group parses after "(": returns the RE2 text, or global=true for a leading (?flags).
func (p *pyParser) group(flags, nested int) (string, bool) {
	start := p.pos - 1
	if !p.match('?') {
		inner := p.parseSub(flags, nested+1)
		if !p.match(')') {
			p.pos = start
			p.fail("missing ), unterminated subpattern")
		}
		return "(?:" + inner + ")", false
	}
	c, ok := p.peek()
	if !ok {
		p.fail("unexpected end of pattern")
	}
	p.pos++
	switch {
	case c == 'P':
		if p.match('<') {
			name := p.until('>')
			if !isIdentifier(name) {
				p.fail(fmt.Sprintf("bad character in group name %q", name))
			}
			if p.names[name] {
				p.fail(fmt.Sprintf("redefinition of group name %q", name))
			}
			p.names[name] = true
		} else if p.match('=') {
			p.fail("named backreference (not portable)")
		} else {
			p.fail("unknown extension ?P")
		}
	case c == ':':
	case c == 'i' || c == 'm' || c == 's' || c == '-':
		add, del, global := p.flags(c)
		if global {
			return "", true
		}
		flags = (flags | add) &^ del
	default:
		p.fail("unknown extension ?" + string(c))
	}
	inner := p.parseSub(flags, nested+1)
	if !p.match(')') {
		p.pos = start
		p.fail("missing ), unterminated subpattern")
	}
	return "(?:" + inner + ")", false
}

func (p *pyParser) until(terminator rune) string {
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != terminator {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.fail("missing " + string(terminator) + ", unterminated name")
	}
	name := string(p.src[start:p.pos])
	p.pos++
	if name == "" {
		p.fail("missing group name")
	}
	return name
}

func flagBit(c rune) int {
	switch c {
	case 'i':
		return flagIgnoreCase
	case 'm':
		return flagMultiline
	case 's':
		return flagDotAll
	}
	return 0
}

// flags parses inline flags after "(?" whose first character is c (as _parse_flags).
func (p *pyParser) flags(c rune) (add, del int, global bool) {
	if c != '-' {
		for {
			add |= flagBit(c)
			next, ok := p.peek()
			if !ok {
				p.fail("missing -, : or )")
			}
			p.pos++
			c = next
			if c == ')' || c == '-' || c == ':' {
				break
			}
			if flagBit(c) == 0 {
				if unicode.IsLetter(c) {
					p.fail("unknown flag")
				}
				p.fail("missing -, : or )")
			}
		}
	}
	if c == ')' {
		p.global |= add
		return add, 0, true
	}
	if c == '-' {
		next, ok := p.peek()
		if !ok {
			p.fail("missing flag")
		}
		p.pos++
		c = next
		if flagBit(c) == 0 {
			if unicode.IsLetter(c) {
				p.fail("unknown flag")
			}
			p.fail("missing flag")
		}
		for {
			del |= flagBit(c)
			next, ok := p.peek()
			if !ok {
				p.fail("missing :")
			}
			p.pos++
			c = next
			if c == ':' {
				break
			}
			if flagBit(c) == 0 {
				if unicode.IsLetter(c) {
					p.fail("unknown flag")
				}
				p.fail("missing :")
			}
		}
	}
	if add&del != 0 {
		p.fail("bad inline flags: flag turned on and off")
	}
	return add, del, false
}

func isIdentifier(name string) bool {
	for i, r := range name {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && (unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r))) {
			continue
		}
		return false
	}
	return name != ""
}

var (
	classDigit = []rng{{'0', '9'}}
	classWord  = []rng{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}
	classSpace = []rng{{'\t', '\r'}, {' ', ' '}} // \t \n \v \f \r and space
)

type rng struct{ lo, hi rune }

// escape parses an escape outside a class (after the backslash).
func (p *pyParser) escape(flags int) item {
	c, ok := p.peek()
	if !ok {
		p.fail("bad escape (end of pattern)")
	}
	p.pos++
	switch c {
	case 'A':
		return item{itemAt, `\A`}
	case 'b':
		return item{itemAt, `\b`}
	case 'B':
		return item{itemAt, `\B`}
	case 'd', 'D', 'w', 'W', 's', 'S':
		set, negate := categoryClass(c)
		return item{itemAtom, emitClass(set, negate)}
	}
	if r, ok := p.simpleEscape(c); ok {
		return item{itemAtom, literal(r, flags)}
	}
	p.fail(`bad escape \` + string(c))
	return item{}
}

func categoryClass(c rune) ([]rng, bool) {
	switch c {
	case 'd':
		return classDigit, false
	case 'D':
		return classDigit, true
	case 'w':
		return classWord, false
	case 'W':
		return classWord, true
	case 's':
		return classSpace, false
	default: // 'S'
		return classSpace, true
	}
}

// simpleEscape: the escapes that stand for one character, in and out of classes.
func (p *pyParser) simpleEscape(c rune) (rune, bool) {
	switch c {
	case 'a':
		return 7, true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'v':
		return '\v', true
	case 'x':
		start := p.pos
		for p.pos < len(p.src) && p.pos-start < 2 && isHex(p.src[p.pos]) {
			p.pos++
		}
		if p.pos-start != 2 {
			p.fail(`incomplete escape \x` + string(p.src[start:p.pos]))
		}
		v, _ := strconv.ParseUint(string(p.src[start:p.pos]), 16, 32)
		return rune(v), true
	}
	if c < utf8.RuneSelf && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return 0, false
	}
	return c, true
}

func isHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

type classItem struct {
	set      []rng
	negate   bool // a negated category (\D, \W, \S)
	literal  bool
	char     rune
	category bool
}

// class parses a character class after "[".
func (p *pyParser) class(flags int) string {
	start := p.pos - 1
	negate := p.match('^')
	var items []classItem
	for {
		c, ok := p.peek()
		if !ok {
			p.pos = start
			p.fail("unterminated character set")
		}
		p.pos++
		if c == ']' && len(items) > 0 {
			break
		}
		var first classItem
		if c == '\\' {
			first = p.classEscape()
		} else {
			first = classItem{literal: true, char: c}
		}
		if p.match('-') {
			that, ok := p.peek()
			if !ok {
				p.pos = start
				p.fail("unterminated character set")
			}
			p.pos++
			if that == ']' {
				items = append(items, first, classItem{literal: true, char: '-'})
				break
			}
			var second classItem
			if that == '\\' {
				second = p.classEscape()
			} else {
				second = classItem{literal: true, char: that}
			}
			if !first.literal || !second.literal || second.char < first.char {
				p.fail("bad character range")
			}
			items = append(items, classItem{set: []rng{{first.char, second.char}}})
			continue
		}
		items = append(items, first)
	}
	var set []rng
	for _, it := range items {
		switch {
		case it.literal:
			set = append(set, rng{it.char, it.char})
		case it.negate:
			set = append(set, complement(it.set)...)
		default:
			set = append(set, it.set...)
		}
	}
	if flags&flagIgnoreCase != 0 {
		set = asciiCaseClosure(set)
	}
	return emitClass(set, negate)
}

func (p *pyParser) classEscape() classItem {
	c, ok := p.peek()
	if !ok {
		p.fail("bad escape (end of pattern)")
	}
	p.pos++
	switch c {
	case 'd', 'D', 'w', 'W', 's', 'S':
		set, negate := categoryClass(c)
		return classItem{set: set, negate: negate, category: true}
	case 'b':
		return classItem{literal: true, char: 8}
	}
	if r, ok := p.simpleEscape(c); ok {
		return classItem{literal: true, char: r}
	}
	p.fail(`bad escape \` + string(c))
	return classItem{}
}

func normalizeRanges(set []rng) []rng {
	if len(set) == 0 {
		return nil
	}
	sorted := append([]rng(nil), set...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].lo < sorted[j].lo })
	out := []rng{sorted[0]}
	for _, r := range sorted[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			if r.hi > last.hi {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func complement(set []rng) []rng {
	set = normalizeRanges(set)
	var out []rng
	next := rune(0)
	for _, r := range set {
		if r.lo > next {
			out = append(out, rng{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, rng{next, unicode.MaxRune})
	}
	return out
}

// asciiCaseClosure adds the other case of every ASCII letter in set (re.ASCII | re.IGNORECASE).
func asciiCaseClosure(set []rng) []rng {
	out := append([]rng(nil), set...)
	for _, r := range set {
		for _, letters := range [][2]rune{{'a', 'z'}, {'A', 'Z'}} {
			lo, hi := max(r.lo, letters[0]), min(r.hi, letters[1])
			if lo <= hi {
				out = append(out, rng{lo ^ 0x20, hi ^ 0x20})
			}
		}
	}
	return normalizeRanges(out)
}

func emitRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\x{%x}`, r)
}

func emitClass(set []rng, negate bool) string {
	set = normalizeRanges(set)
	if len(set) == 0 {
		if negate {
			return `(?s:.)`
		}
		return `[^\x{0}-\x{10ffff}]`
	}
	var b strings.Builder
	b.WriteByte('[')
	if negate {
		b.WriteByte('^')
	}
	for _, r := range set {
		emitRune(&b, r.lo)
		if r.hi != r.lo {
			b.WriteByte('-')
			emitRune(&b, r.hi)
		}
	}
	b.WriteByte(']')
	return b.String()
}

func literal(r rune, flags int) string {
	if flags&flagIgnoreCase != 0 && r < utf8.RuneSelf && (r|0x20 >= 'a' && r|0x20 <= 'z') {
		return emitClass([]rng{{r, r}, {r ^ 0x20, r ^ 0x20}}, false)
	}
	var b strings.Builder
	emitRune(&b, r)
	return b.String()
}
