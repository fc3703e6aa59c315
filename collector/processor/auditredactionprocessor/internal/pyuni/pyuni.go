// Package pyuni reproduces the Unicode behaviour of the CPython that otel_audit.redact runs on:
// unicodedata's NFKC and is_normalized, str.casefold/lower/upper/strip/isalnum/isdigit, and the
// character sets of re's Unicode classes. Every table comes from that Python (gen_tables.py),
// so the Go port agrees with it code point for code point whatever Unicode version Go's own
// tables or golang.org/x/text have.
package pyuni

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

type rng struct{ lo, hi rune }

var (
	alnumTable       = buildTable(alnumRanges)
	digitTable       = buildTable(digitRanges)
	spaceTable       = buildTable(spaceRanges)
	sigmaCasedTable  = buildTable(sigmaCasedRanges)
	sigmaIgnoreTable = buildTable(sigmaIgnorableRanges)
	// maybeTable: NFKC_QC No or Maybe, conservatively (NFKC changes the character alone, or it
	// composes with what precedes it); a string without any of them whose combining marks stand
	// in canonical order is NFKC-normalized (the quick check of UAX #15).
	maybeTable *unicode.RangeTable
	// markTable: a non-zero canonical combining class.
	markTable = buildTable(rangesOf(keys(cccMap)))
	// decomposedTable: a compatibility decomposition (nfkdMap); secondTable: the second
	// character of a composition. Range checks before the map lookups keep NFKC cheap for text
	// (CJK, Cyrillic, ...) whose characters have neither.
	decomposedTable = buildTable(rangesOf(keys(nfkdMap)))
	secondTable     *unicode.RangeTable
	// quietBMP: one bit per BMP character, set when it is in maybeTable or markTable; a clear bit
	// lets IsNFKC pass the character with one load (CJK, Cyrillic... text).
	quietBMP   [0x10000 / 64]uint64
	composeMap map[[2]rune]rune
)

func init() {
	composeMap = make(map[[2]rune]rune, len(compositionMap))
	maybe := make([]rune, 0, len(nfkcCharMap)+len(compositionMap))
	seconds := make([]rune, 0, len(compositionMap)+hangulVCount+hangulTCount)
	for composite, pair := range compositionMap {
		runes := []rune(pair)
		composeMap[[2]rune{runes[0], runes[1]}] = composite
		maybe = append(maybe, runes[1])
		seconds = append(seconds, runes[1])
	}
	for r := range nfkcCharMap {
		maybe = append(maybe, r)
	}
	// Hangul vowels and trailing consonants compose with what precedes them.
	for r := rune(hangulVBase); r < hangulVBase+hangulVCount; r++ {
		maybe = append(maybe, r)
	}
	for r := rune(hangulTBase + 1); r < hangulTBase+hangulTCount; r++ {
		maybe = append(maybe, r)
	}
	maybeTable = buildTable(rangesOf(maybe))
	for r := rune(hangulVBase); r < hangulVBase+hangulVCount; r++ {
		seconds = append(seconds, r)
	}
	for r := rune(hangulTBase + 1); r < hangulTBase+hangulTCount; r++ {
		seconds = append(seconds, r)
	}
	secondTable = buildTable(rangesOf(seconds))
	for _, table := range []*unicode.RangeTable{maybeTable, markTable} {
		for _, r := range table.R16 {
			for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
				quietBMP[c>>6] |= 1 << (c & 63)
			}
		}
	}
}

// combiningClass is the canonical combining class of r.
func combiningClass(r rune) uint8 {
	if r < 0x300 || !unicode.Is(markTable, r) {
		return 0
	}
	return cccMap[r]
}

func keys[V any](m map[rune]V) []rune {
	out := make([]rune, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	return out
}

// rangesOf merges code points into sorted ranges.
func rangesOf(runes []rune) []rng {
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	var ranges []rng
	for _, r := range runes {
		if n := len(ranges); n > 0 && ranges[n-1].hi >= r-1 {
			if r > ranges[n-1].hi {
				ranges[n-1].hi = r
			}
			continue
		}
		ranges = append(ranges, rng{r, r})
	}
	return ranges
}

func buildTable(ranges []rng) *unicode.RangeTable {
	table := &unicode.RangeTable{}
	for _, r := range ranges {
		if r.hi <= 0xFFFF {
			table.R16 = append(table.R16, unicode.Range16{Lo: uint16(r.lo), Hi: uint16(r.hi), Stride: 1})
			if r.hi <= unicode.MaxLatin1 {
				table.LatinOffset++
			}
			continue
		}
		lo := r.lo
		if lo <= 0xFFFF {
			table.R16 = append(table.R16, unicode.Range16{Lo: uint16(lo), Hi: 0xFFFF, Stride: 1})
			lo = 0x10000
		}
		table.R32 = append(table.R32, unicode.Range32{Lo: uint32(lo), Hi: uint32(r.hi), Stride: 1})
	}
	return table
}

// IsAlnum is Python's str.isalnum of one character.
func IsAlnum(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.Is(alnumTable, r)
}

// IsDigit is Python's str.isdigit of one character (Numeric_Type Digit or Decimal).
func IsDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.Is(digitTable, r)
}

// IsSpace is Python's str.isspace of one character.
func IsSpace(r rune) bool { return unicode.Is(spaceTable, r) }

// Strip is Python's str.strip() (no argument).
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }

// LStrip is Python's str.lstrip() (no argument).
func LStrip(s string) string { return strings.TrimLeftFunc(s, IsSpace) }

// IsASCII is Python's str.isascii.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func mapRunes(s string, table map[rune]string) string {
	var b *strings.Builder
	for i, r := range s {
		repl, ok := table[r]
		if !ok {
			if b != nil {
				b.WriteRune(r)
			}
			continue
		}
		if b == nil {
			b = &strings.Builder{}
			b.Grow(len(s) + 8)
			b.WriteString(s[:i])
		}
		b.WriteString(repl)
	}
	if b == nil {
		return s
	}
	return b.String()
}

// Casefold is Python's str.casefold.
func Casefold(s string) string {
	if IsASCII(s) {
		return asciiLower(s)
	}
	return mapRunes(s, casefoldMap)
}

// Upper is Python's str.upper.
func Upper(s string) string {
	if IsASCII(s) {
		return strings.ToUpper(s)
	}
	return mapRunes(s, upperMap)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// Lower is Python's str.lower, with its final-sigma rule for U+03A3.
func Lower(s string) string {
	if IsASCII(s) {
		return asciiLower(s)
	}
	runes := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range runes {
		if r == 0x3A3 {
			if finalSigma(runes, i) {
				b.WriteRune(0x3C2)
			} else {
				b.WriteRune(0x3C3)
			}
			continue
		}
		if repl, ok := lowerMap[r]; ok {
			b.WriteString(repl)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func finalSigma(runes []rune, i int) bool {
	j := i - 1
	for j >= 0 && unicode.Is(sigmaIgnoreTable, runes[j]) {
		j--
	}
	if j < 0 || !unicode.Is(sigmaCasedTable, runes[j]) {
		return false
	}
	j = i + 1
	for j < len(runes) && unicode.Is(sigmaIgnoreTable, runes[j]) {
		j++
	}
	return j == len(runes) || !unicode.Is(sigmaCasedTable, runes[j])
}

// NFKCChar returns unicodedata.normalize("NFKC", r) when it is not r itself.
func NFKCChar(r rune) (string, bool) {
	if r < 0x10000 && quietBMP[r>>6]&(1<<(r&63)) == 0 {
		return "", false // not in maybeTable, which holds every key of nfkcCharMap
	}
	s, ok := nfkcCharMap[r]
	return s, ok
}

const (
	hangulSBase  = 0xAC00
	hangulLBase  = 0x1100
	hangulVBase  = 0x1161
	hangulTBase  = 0x11A7
	hangulLCount = 19
	hangulVCount = 21
	hangulTCount = 28
	hangulNCount = hangulVCount * hangulTCount
	hangulSCount = hangulLCount * hangulNCount
)

// IsNFKC is unicodedata.is_normalized("NFKC", s). As CPython, a quick check decides most strings
// (no character NFKC changes alone, no other character of maybeTable, combining marks in
// canonical order) and only the others are normalized in full, which allocates.
func IsNFKC(s string) bool {
	var lastClass uint8
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			lastClass = 0
			i++
			continue
		}
		// Two- and three-byte characters (every script of the BMP) are decoded here: calling
		// utf8's decoder for each was a fifth of the check's instructions.
		var r rune
		c := s[i]
		switch {
		case c >= 0xC2 && c <= 0xDF && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
			r = rune(c&0x1F)<<6 | rune(s[i+1]&0x3F)
			i += 2
		case (c >= 0xE1 && c <= 0xEC || c >= 0xEE) && c <= 0xEF && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80:
			r = rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
			i += 3
		default:
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
		}
		if r < 0x10000 && quietBMP[r>>6]&(1<<(r&63)) == 0 {
			lastClass = 0 // quickCheck's first answer, without the call
			continue
		}
		var verdict quickVerdict
		switch lastClass, verdict = quickCheck(r, lastClass); verdict {
		case quickNo:
			return false
		case quickMaybe:
			return NFKC(s) == s
		}
	}
	return true
}

type quickVerdict uint8

const (
	quickYes   quickVerdict = iota // the character keeps the text normalized so far
	quickNo                        // the text is not normalized
	quickMaybe                     // only a normalization decides
)

// quickCheck is the quick check of one character r after a character of canonical combining
// class lastClass: r's class and the verdict.
func quickCheck(r rune, lastClass uint8) (uint8, quickVerdict) {
	if r < 0x10000 && quietBMP[r>>6]&(1<<(r&63)) == 0 {
		return 0, quickYes // NFKC_QC Yes, combining class 0
	}
	if _, changes := nfkcCharMap[r]; changes {
		// NFKC_QC No: a character NFKC changes on its own never stands in NFKC text (it
		// decomposes, and composition never yields it back), so no normalization is needed.
		return 0, quickNo
	}
	if unicode.Is(maybeTable, r) {
		return 0, quickMaybe
	}
	var class uint8
	if unicode.Is(markTable, r) {
		class = combiningClass(r)
		if lastClass > class {
			return class, quickMaybe // out of canonical order: normalization reorders
		}
	}
	return class, quickYes
}

// NFKC is unicodedata.normalize("NFKC", s).
func NFKC(s string) string {
	if IsASCII(s) {
		return s
	}
	// Decompose (compatibility), then put combining marks in canonical order, then compose.
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r >= hangulSBase && r < hangulSBase+hangulSCount:
			index := r - hangulSBase
			out = append(out, hangulLBase+index/hangulNCount, hangulVBase+(index%hangulNCount)/hangulTCount)
			if t := index % hangulTCount; t != 0 {
				out = append(out, hangulTBase+t)
			}
		default:
			if r < 0xA0 || !unicode.Is(decomposedTable, r) {
				out = append(out, r)
			} else if d, ok := nfkdMap[r]; ok {
				out = append(out, []rune(d)...)
			} else {
				out = append(out, r)
			}
		}
	}
	// Canonical ordering: a stable sort of each run of non-starters by combining class.
	for i := 0; i < len(out); {
		if combiningClass(out[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(out) && combiningClass(out[j]) != 0 {
			j++
		}
		run := out[i:j]
		sort.SliceStable(run, func(a, b int) bool { return cccMap[run[a]] < cccMap[run[b]] })
		i = j
	}
	return string(compose(out))
}

func compose(runes []rune) []rune {
	if len(runes) == 0 {
		return runes
	}
	// The reference algorithm of UAX #15: a character composes with the last starter unless a
	// character of the same or a higher combining class stands between them.
	starter := 0
	lastClass := int(combiningClass(runes[0]))
	if lastClass != 0 {
		lastClass = 256
	}
	result := runes[:1]
	for _, r := range runes[1:] {
		class := int(combiningClass(r))
		if (lastClass < class || lastClass == 0) && unicode.Is(secondTable, r) {
			if composite, ok := composePair(result[starter], r); ok {
				result[starter] = composite
				continue
			}
		}
		if class == 0 {
			starter = len(result)
		}
		lastClass = class
		result = append(result, r)
	}
	return result
}

func composePair(a, b rune) (rune, bool) {
	if a >= hangulLBase && a < hangulLBase+hangulLCount && b >= hangulVBase && b < hangulVBase+hangulVCount {
		return hangulSBase + ((a-hangulLBase)*hangulVCount+(b-hangulVBase))*hangulTCount, true
	}
	if a >= hangulSBase && a < hangulSBase+hangulSCount && (a-hangulSBase)%hangulTCount == 0 &&
		b > hangulTBase && b < hangulTBase+hangulTCount {
		return a + (b - hangulTBase), true
	}
	c, ok := composeMap[[2]rune{a, b}]
	return c, ok
}
