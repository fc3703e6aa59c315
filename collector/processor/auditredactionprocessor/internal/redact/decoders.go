package redact

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// decoders.py: decoded views of a string, mapped back to the original text. Offsets here are
// byte offsets; a one-to-one segment is always a byte-identical copy of the original, so the
// character-based mapping of Python and the byte-based one here name the same characters.

const maxRounds = 3

var htmlEntities = map[string]string{
	"commat": "@", "period": ".", "lowbar": "_", "hyphen": "-", "dash": "-", "plus": "+",
	"percnt": "%", "amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'", "nbsp": "\u00a0",
}

var (
	percentRe = regexp.MustCompile(`(?:%[0-9A-Fa-f]{2})+`)
	htmlRe    = regexp.MustCompile(`&(?:#([0-9]{1,7});?|#[xX]([0-9A-Fa-f]{1,6});?|([A-Za-z]{2,8});)`)
	jsonRe    = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})(?:\\u([0-9A-Fa-f]{4}))?`)

	triggerPercent = mustCompilePy(`%[0-9A-Fa-f]{2}`)
	triggerHTML    = mustCompilePy(`&[#A-Za-z]`)
	triggerJSON    = mustCompilePy(`\\u[0-9A-Fa-f]{4}`)
)

type segment struct {
	view, start, end int
	oneToOne         bool
}

type decodedView struct {
	text   string
	segs   []segment
	starts []int
	ends   []int
}

func newView(text string, segs []segment) *decodedView {
	v := &decodedView{text: text, segs: segs, starts: make([]int, len(segs)), ends: make([]int, len(segs))}
	for i, s := range segs {
		v.starts[i] = s.view
		if i+1 < len(segs) {
			v.ends[i] = segs[i+1].view
		} else {
			v.ends[i] = len(text)
		}
	}
	return v
}

func bisectRight(a []int, x int) int {
	return sort.Search(len(a), func(i int) bool { return a[i] > x })
}

func bisectLeft(a []int, x int) int {
	return sort.Search(len(a), func(i int) bool { return a[i] >= x })
}

// locate returns the original span of the view character starting at byte index.
func (v *decodedView) locate(index int) (int, int) {
	pos := bisectRight(v.starts, index) - 1
	s := v.segs[pos]
	if s.oneToOne {
		offset := s.start + index - s.view
		_, size := utf8.DecodeRuneInString(v.text[index:])
		return offset, offset + size
	}
	return s.start, s.end
}

// origin returns the span of the original text that produced the view's [start, end).
func (v *decodedView) origin(start, end int) (int, int) {
	first, _ := v.locate(start)
	_, size := utf8.DecodeLastRuneInString(v.text[:end])
	_, last := v.locate(end - size)
	return first, last
}

// compose returns a view of inner's text mapped back through v (inner decodes v.text).
func (v *decodedView) compose(inner *decodedView) *decodedView {
	var segs []segment
	for _, s := range inner.segs {
		if !s.oneToOne {
			first, last := v.origin(s.start, s.end)
			segs = append(segs, segment{s.view, first, last, false})
			continue
		}
		position := s.start
		for position < s.end {
			outer := bisectRight(v.starts, position) - 1
			stop := min(v.ends[outer], s.end)
			o := v.segs[outer]
			here := s.view + position - s.start
			if o.oneToOne {
				original := o.start + position - o.view
				segs = append(segs, segment{here, original, original + stop - position, true})
			} else {
				segs = append(segs, segment{here, o.start, o.end, false})
			}
			position = stop
		}
	}
	return newView(inner.text, mergeSegments(segs))
}

func mergeSegments(segs []segment) []segment {
	var merged []segment
	for _, s := range segs {
		if n := len(merged); n > 0 && s.oneToOne && merged[n-1].oneToOne {
			last := merged[n-1]
			if s.start-last.start == s.view-last.view && s.start == last.end {
				merged[n-1].end = s.end
				continue
			}
		}
		if n := len(merged); n > 0 && merged[n-1].view == s.view {
			merged[n-1] = s
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

type replacer func(text string, m []int) (string, bool)

func substitute(text string, re *regexp.Regexp, replace replacer) *decodedView {
	var b strings.Builder
	var segs []segment
	last, length := 0, 0
	changed := false
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		decoded, ok := replace(text, m)
		if !ok {
			continue
		}
		start, end := m[0], m[1]
		if start > last {
			segs = append(segs, segment{length, last, start, true})
			b.WriteString(text[last:start])
			length += start - last
		}
		segs = append(segs, segment{length, start, end, false})
		b.WriteString(decoded)
		length += len(decoded)
		last = end
		changed = true
	}
	if !changed {
		return nil
	}
	if last < len(text) {
		segs = append(segs, segment{length, last, len(text), true})
		b.WriteString(text[last:])
	}
	return newView(b.String(), mergeSegments(segs))
}

func codePoint(value int64) string {
	if value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) {
		return "\ufffd"
	}
	return string(rune(value))
}

func decodePercent(text string, m []int) (string, bool) {
	match := text[m[0]:m[1]]
	raw := make([]byte, 0, len(match)/3)
	for i := 0; i+2 < len(match); i += 3 {
		v, _ := strconv.ParseUint(match[i+1:i+3], 16, 8)
		raw = append(raw, byte(v))
	}
	if utf8.Valid(raw) {
		return string(raw), true
	}
	runes := make([]rune, len(raw))
	for i, c := range raw {
		runes[i] = rune(c)
	}
	return string(runes), true
}

func decodeHTML(text string, m []int) (string, bool) {
	if m[2] >= 0 {
		v, _ := strconv.ParseInt(text[m[2]:m[3]], 10, 64)
		return codePoint(v), true
	}
	if m[4] >= 0 {
		v, _ := strconv.ParseInt(text[m[4]:m[5]], 16, 64)
		return codePoint(v), true
	}
	value, ok := htmlEntities[text[m[6]:m[7]]]
	return value, ok
}

func decodeJSON(text string, m []int) (string, bool) {
	first, _ := strconv.ParseInt(text[m[2]:m[3]], 16, 32)
	isSurrogate := func(v int64) bool { return v >= 0xD800 && v <= 0xDFFF }
	single := func(v int64) string {
		if isSurrogate(v) {
			return "\ufffd"
		}
		return string(rune(v))
	}
	if m[4] >= 0 {
		low, _ := strconv.ParseInt(text[m[4]:m[5]], 16, 32)
		if first >= 0xD800 && first <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF {
			return string(rune(0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))), true
		}
		return single(first) + single(low), true
	}
	return single(first), true
}

func decodeNFKC(text string) *decodedView {
	if pyuni.IsNFKC(text) {
		return nil
	}
	var b strings.Builder
	var segs []segment
	last, length := 0, 0
	for index, r := range text {
		if r < utf8.RuneSelf {
			continue
		}
		normalized, ok := pyuni.NFKCChar(r)
		if !ok {
			continue
		}
		if index > last {
			segs = append(segs, segment{length, last, index, true})
			b.WriteString(text[last:index])
			length += index - last
		}
		size := utf8.RuneLen(r)
		// Python marks a one-character result one-to-one; a one-character segment maps the same
		// either way, and here one-to-one segments are byte-identical copies only.
		segs = append(segs, segment{length, index, index + size, false})
		b.WriteString(normalized)
		length += len(normalized)
		last = index + size
	}
	if segs == nil {
		return nil
	}
	if last < len(text) {
		segs = append(segs, segment{length, last, len(text), true})
		b.WriteString(text[last:])
	}
	return newView(b.String(), mergeSegments(segs))
}

func runDecoder(name, text string) *decodedView {
	switch name {
	case "percent":
		return substitute(text, percentRe, decodePercent)
	case "html":
		return substitute(text, htmlRe, decodeHTML)
	case "json":
		return substitute(text, jsonRe, decodeJSON)
	default:
		return decodeNFKC(text)
	}
}

func triggered(text, step string) bool {
	switch step {
	case "percent":
		return triggerPercent.search(text)
	case "html":
		return triggerHTML.search(text)
	case "json":
		return triggerJSON.search(text)
	default:
		return !pyuni.IsASCII(text) && !pyuni.IsNFKC(text)
	}
}

// triggeredPresent is triggered with the bytes present in text known.
func triggeredPresent(text, step string, present *textBytes) bool {
	switch step {
	case "percent":
		return triggerPercent.searchPresent(text, present)
	case "html":
		return triggerHTML.searchPresent(text, present)
	case "json":
		return triggerJSON.searchPresent(text, present)
	default:
		return present.nonASCII() && !pyuni.IsNFKC(text)
	}
}

// needsDecodingPresent is needsDecoding with the bytes present in text known.
func needsDecodingPresent(text string, steps []string, present *textBytes) bool {
	if len(steps) == 4 {
		return triggerPercent.searchPresent(text, present) || triggerHTML.searchPresent(text, present) ||
			triggerJSON.searchPresent(text, present) || (present.nonASCII() && !pyuni.IsNFKC(text))
	}
	for _, step := range steps {
		if triggeredPresent(text, step, present) {
			return true
		}
	}
	return false
}

// needsDecoding is decoders.needs_decoding.
func needsDecoding(text string, steps []string) bool {
	if len(steps) == 4 {
		return triggerPercent.search(text) || triggerHTML.search(text) || triggerJSON.search(text) ||
			(!pyuni.IsASCII(text) && !pyuni.IsNFKC(text))
	}
	for _, step := range steps {
		if triggered(text, step) {
			return true
		}
	}
	return false
}

// decodedViewOf is decoders.decoded_view: nil when nothing changed.
func decodedViewOf(text string, steps []string) *decodedView {
	var view *decodedView
	current := text
	for round := 0; round < maxRounds; round++ {
		changed := false
		for _, name := range steps {
			if !triggered(current, name) {
				continue
			}
			step := runDecoder(name, current)
			if step == nil {
				continue
			}
			if view == nil {
				view = step
			} else {
				view = view.compose(step)
			}
			current = step.text
			changed = true
		}
		if !changed {
			break
		}
	}
	return view
}
