package redact

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// phones.py: the phone validator, decided with libphonenumber's metadata through the functions
// both ports have (github.com/nyaruka/phonenumbers here): GetCountryCodeForRegion,
// GetNddPrefixForRegion, GetRegionCodeForCountryCode, GetRegionCodesForCountryCode (the
// COUNTRY_CODE_TO_REGION_CODE table), GetSupportedRegions, IsPossibleNumberWithReason and
// IsValidNumber. The algorithm is the one written in phones.py's docstring.

// DefaultPhoneRegions is phones.DEFAULT_PHONE_REGIONS.
var DefaultPhoneRegions = []string{
	"US", "CA", "GB", "IE", "FR", "BE", "NL", "DE", "AT", "CH",
	"IT", "ES", "PT", "PL", "SE", "DK", "NO", "RU", "GR", "CZ",
}

// DefaultIDDPrefixes is phones.DEFAULT_IDD_PREFIXES.
var DefaultIDDPrefixes = []string{"00", "011"}

const (
	phoneMinDigits  = 8
	phoneMaxDigits  = 17
	phoneMaxGroups  = 7
	maxRunGroups    = 32
	maxRunChars     = maxRunGroups*(phoneMaxDigits+3) + 16
	cueWindow       = 40
	phoneCacheSize  = 4096
	bareTrunkMin    = 9
	bareTrunkMax    = 12
	lenientMin      = 6
	lenientMax      = 14
	bareIntlLength  = 11
	bareValidLength = 9
)

var (
	cueRe          = regexp.MustCompile(pyuni.CuePattern)
	bareValidCodes = map[int]bool{34: true, 351: true}
)

// cueTail is CueTailPattern's program run by the package's own automaton, or its backtracker
// where a non-ASCII character decides: the answers of regexp's MatchString anchored at the
// window's position, for a fraction of its cost (regexp took 6,000 instructions a call).
var cueTail = func() *program {
	tree, err := syntax.Parse(`(?:`+pyuni.CueTailPattern+`)`, syntax.Perl)
	if err != nil {
		panic(err)
	}
	prog, err := newProgram(tree.Simplify())
	if err != nil {
		panic(err)
	}
	return prog
}()

// cueTailAt reports whether the rest of the cue pattern matches s from its start.
func cueTailAt(s string) bool { return cueTail.match(s, 0, len(s)) >= 0 }

type noTrunk struct {
	code    int
	lengths map[int]bool
}

// PhoneValidator is phones.PhoneValidator.
type PhoneValidator struct {
	regions, iddPrefixes []string
	idd                  []string
	trunks               []trunkLengths
	leads                map[byte]bool
	nanp                 bool
	noTrunk, bareValid   []noTrunk

	mu         sync.RWMutex
	intlCache  map[int]intlInfo
	validCache map[string]bool
}

type trunkLengths struct {
	trunk   string
	lengths map[int]bool
}

type intlInfo struct {
	lengths map[int]bool
	trunk   string
}

func possibleLengths(countryCode int) map[int]bool {
	lengths := map[int]bool{}
	national := uint64(1)
	for length := 1; length <= phoneMaxDigits; length++ {
		number := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(countryCode)), NationalNumber: proto.Uint64(national)}
		if phonenumbers.IsPossibleNumberWithReason(number) == phonenumbers.IS_POSSIBLE {
			lengths[length] = true
		}
		national *= 10
	}
	return lengths
}

func knownCallingCode(code int) bool { return len(phonenumbers.GetRegionCodesForCountryCode(code)) > 0 }

// NewPhoneValidator is PhoneValidator(regions, idd_prefixes).
func NewPhoneValidator(regions, iddPrefixes []string) (*PhoneValidator, error) {
	supported := phonenumbers.GetSupportedRegions()
	var unknown []string
	for _, region := range regions {
		if !supported[region] {
			unknown = append(unknown, region)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown phone region(s): %s", strings.Join(unknown, ", "))
	}
	for _, prefix := range iddPrefixes {
		if prefix == "" || strings.Trim(prefix, "0123456789") != "" {
			return nil, fmt.Errorf("idd_prefixes must be strings of digits")
		}
	}
	v := &PhoneValidator{
		regions: regions, iddPrefixes: iddPrefixes,
		leads: map[byte]bool{}, intlCache: map[int]intlInfo{}, validCache: map[string]bool{},
	}
	v.idd = append([]string(nil), iddPrefixes...)
	sort.SliceStable(v.idd, func(i, j int) bool { return len(v.idd[i]) > len(v.idd[j]) })
	trunkIndex := map[string]int{}
	for _, region := range regions {
		code := phonenumbers.GetCountryCodeForRegion(region)
		trunk := phonenumbers.GetNddPrefixForRegion(region, true)
		lengths := possibleLengths(code)
		switch {
		case code == 1:
			v.nanp = true
		case trunk != "":
			index, ok := trunkIndex[trunk]
			if !ok {
				index = len(v.trunks)
				trunkIndex[trunk] = index
				v.trunks = append(v.trunks, trunkLengths{trunk: trunk, lengths: map[int]bool{}})
			}
			for l := range lengths {
				v.trunks[index].lengths[l] = true
			}
		default:
			v.noTrunk = append(v.noTrunk, noTrunk{code: code, lengths: lengths})
		}
	}
	for _, t := range v.trunks {
		v.leads[t.trunk[0]] = true
	}
	for _, prefix := range v.idd {
		v.leads[prefix[0]] = true
	}
	for _, entry := range v.noTrunk {
		if bareValidCodes[entry.code] {
			v.bareValid = append(v.bareValid, entry)
		}
	}
	return v, nil
}

func (v *PhoneValidator) intl(code int) intlInfo {
	v.mu.RLock()
	info, ok := v.intlCache[code]
	v.mu.RUnlock()
	if ok {
		return info
	}
	region := phonenumbers.GetRegionCodeForCountryCode(code)
	trunk := ""
	if region != "001" {
		trunk = phonenumbers.GetNddPrefixForRegion(region, true)
	}
	info = intlInfo{lengths: possibleLengths(code), trunk: trunk}
	v.mu.Lock()
	v.intlCache[code] = info
	v.mu.Unlock()
	return info
}

// international: count digits after "+", starting with head (5+ digits), possible.
func (v *PhoneValidator) international(head string, count int) bool {
	if head[0] == '0' {
		return false
	}
	for size := 1; size <= 3 && size <= len(head); size++ {
		code, _ := strconv.Atoi(head[:size])
		if !knownCallingCode(code) {
			continue
		}
		info := v.intl(code)
		national := count - size
		if info.lengths[national] || (national >= lenientMin && national <= lenientMax) {
			return true
		}
		return info.trunk != "" && strings.HasPrefix(head[size:], info.trunk) && info.lengths[national-len(info.trunk)]
	}
	return false
}

func (v *PhoneValidator) national(head string, count int, bare bool) bool {
	if !bare || (count >= bareTrunkMin && count <= bareTrunkMax) {
		for _, t := range v.trunks {
			if strings.HasPrefix(head, t.trunk) && len(head) > len(t.trunk) && head[len(t.trunk)] != '0' && t.lengths[count-len(t.trunk)] {
				return true
			}
		}
	}
	if v.nanp {
		if count == 10 && head[0] >= '2' && head[0] <= '9' {
			return true
		}
		if count == 11 && head[0] == '1' && head[1] >= '2' && head[1] <= '9' {
			return true
		}
	}
	for _, prefix := range v.idd {
		if strings.HasPrefix(head, prefix) && len(head) > len(prefix) && v.international(head[len(prefix):], count-len(prefix)) {
			return true
		}
	}
	return false
}

func (v *PhoneValidator) decide(head string, count int, intl, bare bool) bool {
	if intl {
		return v.international(head, count)
	}
	return v.national(head, count, bare)
}

// cued: a phone word ends within the 40 characters before start.
func cued(text string, start int) bool {
	windowStart := start
	for n := 0; n < cueWindow && windowStart > 0; n++ {
		_, size := utf8.DecodeLastRuneInString(text[:windowStart])
		windowStart -= size
	}
	window := text[windowStart:start]
	if pyuni.IsASCII(window) {
		return asciiCued(window)
	}
	return unicodeCued(window)
}

// cueFirst holds the characters a phone word can begin with (CueTailPattern's first class).
var cueFirst = func() *unicode.RangeTable {
	tree, err := syntax.Parse(pyuni.CueTailPattern, syntax.Perl)
	if err != nil {
		panic(err)
	}
	runes := firstRunes(tree.Simplify())
	sort.Slice(runes, func(i, j int) bool { return runes[i][0] < runes[j][0] })
	table := &unicode.RangeTable{} // sorted, merged ranges: what unicode.Is searches
	for _, r := range runes {
		if n := len(table.R32); n > 0 && rune(table.R32[n-1].Hi) >= r[0]-1 {
			table.R32[n-1].Hi = max(table.R32[n-1].Hi, uint32(r[1]))
			continue
		}
		table.R32 = append(table.R32, unicode.Range32{Lo: uint32(r[0]), Hi: uint32(r[1]), Stride: 1})
	}
	return table
}()

// firstRunes lists, as [lo, hi] pairs, the characters a match of re can begin with; re is a
// concatenation or alternation of classes and literals (as CueTailPattern is).
func firstRunes(re *syntax.Regexp) [][2]rune {
	switch re.Op {
	case syntax.OpCharClass:
		var out [][2]rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			out = append(out, [2]rune{re.Rune[i], re.Rune[i+1]})
		}
		return out
	case syntax.OpLiteral:
		out := [][2]rune{{re.Rune[0], re.Rune[0]}}
		if re.Flags&syntax.FoldCase != 0 { // the parser's form of a class that is one case orbit
			for r := unicode.SimpleFold(re.Rune[0]); r != re.Rune[0]; r = unicode.SimpleFold(r) {
				out = append(out, [2]rune{r, r})
			}
		}
		return out
	case syntax.OpConcat, syntax.OpCapture:
		return firstRunes(re.Sub[0])
	case syntax.OpAlternate:
		var out [][2]rune
		for _, sub := range re.Sub {
			out = append(out, firstRunes(sub)...)
		}
		return out
	}
	panic(fmt.Sprintf("CueTailPattern begins with %v", re.Op))
}

// unicodeCued is cueRe.MatchString(window): the anchored rest of the pattern runs at each
// character that can begin a phone word and stands at the start of the window or after a
// non-word character (the pattern's (?:^|[^\w]); \w is Python's: str.isalnum() or "_").
func unicodeCued(window string) bool {
	previousWord := false
	for i := 0; i < len(window); {
		r, size := utf8.DecodeRuneInString(window[i:])
		if !previousWord && unicode.Is(cueFirst, r) && cueTailAt(window[i:]) {
			return true
		}
		previousWord = r == '_' || pyuni.IsAlnum(r)
		i += size
	}
	return false
}

// asciiCued is cueRe.MatchString(window) for an ASCII window. Every match holds an ASCII phone
// word at the start of the window or after a non-word byte (the pattern's (?:^|[^\w])): the
// rest of the pattern, anchored, runs only there.
func asciiCued(window string) bool {
	for i := 0; i < len(window); i++ {
		if i > 0 && isWordByte(window[i-1]) {
			continue
		}
		for _, word := range cueWordsByFirst[window[i]|0x20] {
			if len(window)-i >= len(word) && strings.EqualFold(window[i:i+len(word)], word) {
				if cueTailAt(window[i:]) {
					return true
				}
				break // the anchored pattern tries every word at i
			}
		}
	}
	return false
}

// cueWordsByFirst indexes pyuni.CueWords by their first letter.
var cueWordsByFirst = func() (index [128][]string) {
	for _, word := range pyuni.CueWords {
		index[word[0]] = append(index[word[0]], word)
	}
	return index
}()

func (v *PhoneValidator) possibleIntl(digits string) bool {
	if digits[0] == '0' {
		return false
	}
	for size := 1; size <= 3; size++ {
		code, _ := strconv.Atoi(digits[:size])
		if knownCallingCode(code) {
			return v.intl(code).lengths[len(digits)-size]
		}
	}
	return false
}

func nationalNumber(code int, digits string) *phonenumbers.PhoneNumber {
	n, _ := strconv.ParseUint(digits, 10, 64)
	number := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(code)), NationalNumber: proto.Uint64(n)}
	if len(digits) > 1 && digits[0] == '0' {
		number.ItalianLeadingZero = proto.Bool(true)
		zeros := len(digits) - len(strings.TrimLeft(digits, "0"))
		if zeros > 1 {
			number.NumberOfLeadingZeros = proto.Int32(int32(min(zeros, len(digits)-1)))
		}
	}
	return number
}

func (v *PhoneValidator) valid(digits string, bare bool) bool {
	entries := v.noTrunk
	if bare {
		entries = v.bareValid
	}
	count := len(digits)
	for _, entry := range entries {
		if !entry.lengths[count] {
			continue
		}
		key := strconv.Itoa(entry.code) + ":" + digits
		v.mu.RLock()
		valid, ok := v.validCache[key]
		v.mu.RUnlock()
		if !ok {
			valid = phonenumbers.IsValidNumber(nationalNumber(entry.code, digits))
			v.mu.Lock()
			if len(v.validCache) >= phoneCacheSize {
				v.validCache = map[string]bool{}
			}
			v.validCache[key] = valid
			v.mu.Unlock()
		}
		if valid {
			return true
		}
	}
	return false
}

// dateAt is phones._date_at.
func dateAt(groups, separators []string, index int) bool {
	if index+2 >= len(groups) {
		return false
	}
	separator := separators[index+1]
	if (separator != "-" && separator != "/" && separator != ".") || separators[index+2] != separator {
		return false
	}
	first, second, third := groups[index], groups[index+1], groups[index+2]
	var year string
	var small []string
	switch {
	case len(first) == 4:
		year, small = first, []string{second, third}
	case len(third) == 4:
		year, small = third, []string{first, second}
	default:
		return false
	}
	if year < "1000" || year > "2999" {
		return false
	}
	for _, part := range small {
		n, _ := strconv.Atoi(part)
		if len(part) < 1 || len(part) > 2 || n < 1 || n > 31 {
			return false
		}
	}
	return true
}

// dottedShape is phones._dotted_shape.
func dottedShape(groups []string, intl bool) bool {
	trunk := !intl && groups[0][0] == '0'
	var lengths []int
	from := groups
	if intl {
		from = groups[1:]
	}
	for _, g := range from {
		lengths = append(lengths, len(g))
	}
	equal := func(a []int, b ...int) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	if len(lengths) > 0 && lengths[0] == 1 && equal(lengths[1:], 3, 3, 4) {
		lengths = lengths[1:]
	}
	if equal(lengths, 3, 3, 4) {
		return true
	}
	if trunk && len(lengths) > 0 && lengths[0] >= 2 && lengths[0] <= 5 && len(lengths) >= 3 {
		ok := true
		for _, l := range lengths[1:] {
			if l < 3 || l > 4 {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	if len(lengths) < 4 || lengths[0] < 1 || lengths[0] > 4 {
		return false
	}
	for _, l := range lengths[1:] {
		if l != 2 {
			return false
		}
	}
	return true
}

func prefixSumsInto(out, values []int) []int {
	out[0] = 0
	for i, v := range values {
		out[i+1] = out[i] + v
	}
	return out
}

func boolSumsInto(out []int, values []bool) []int {
	out[0] = 0
	for i, v := range values {
		out[i+1] = out[i]
		if v {
			out[i+1]++
		}
	}
	return out
}

// Validate is PhoneValidator.__call__: the phone numbers in the candidate run text[start:end].
func (v *PhoneValidator) Validate(text string, start, end int) [][2]int {
	run := text[start:end]
	plus := strings.HasPrefix(run, "+") || strings.HasPrefix(run, "(+")
	if !plus && start > 1 && strings.IndexByte("-./_#", text[start-1]) >= 0 && isASCIIAlnum(text[start-2]) {
		return nil
	}
	if afterCode(text, start) {
		return nil
	}
	if end < len(text) {
		after := text[end]
		if isASCIIAlnum(after) || after == '_' || ((after == '.' || after == ',') && end+1 < len(text) && isASCIIDigit(text[end+1])) {
			return nil
		}
	}
	if utf8.RuneCountInString(run) > maxRunChars {
		return nil
	}
	twoDigits := false
	for i := 0; i+1 < len(run); i++ {
		if isASCIIDigit(run[i]) && isASCIIDigit(run[i+1]) {
			twoDigits = true
			break
		}
	}
	if !twoDigits {
		return nil
	}
	extension := -1
	for i := 0; i < len(run); i++ {
		if isASCIILetter(run[i]) {
			extension = i
			break
		}
	}
	body := run
	if extension >= 0 {
		body = run[:extension]
	}
	// Groups of digits and the separators before each of them (separators[i] before groups[i]).
	var groupsArr, separatorsArr [maxRunGroups]string
	count := 0
	last := 0
	for i := 0; i < len(body); {
		if !isASCIIDigit(body[i]) {
			i++
			continue
		}
		j := i
		for j < len(body) && isASCIIDigit(body[j]) {
			j++
		}
		if count == maxRunGroups {
			return nil // a table of numbers rather than phone numbers
		}
		separatorsArr[count] = body[last:i]
		groupsArr[count] = body[i:j]
		count++
		last = j
		i = j
	}
	groups, separators := groupsArr[:count], separatorsArr[:count]
	if count == 0 {
		return nil
	}
	if count == 1 {
		number := groups[0]
		if len(number) < phoneMinDigits || len(number) > phoneMaxDigits {
			return nil
		}
		if v.decide(number[:8], len(number), plus, true) {
			return [][2]int{{start, end}}
		}
		bareValid := !plus && len(number) == bareValidLength && v.valid(number, true)
		bareIntl := !plus && len(number) == bareIntlLength && v.possibleIntl(number)
		if bareValid || bareIntl || cued(text, start) {
			return [][2]int{{start, end}}
		}
		return nil
	}
	var lengthsArr [maxRunGroups]int
	lengths := lengthsArr[:count]
	maxLength, fourCount := 0, 0
	hasSingle := false
	for i, g := range groups {
		lengths[i] = len(g)
		maxLength = max(maxLength, len(g))
		if len(g) == 4 {
			fourCount++
		}
		if len(g) == 1 {
			hasSingle = true
		}
	}
	if maxLength == 1 {
		return nil
	}
	if count >= 3 && fourCount == count {
		oneKind := true
		for _, s := range separators[2:] {
			if s != separators[1] {
				oneKind = false
			}
		}
		if oneKind {
			return nil
		}
	}
	if count == 3 && lengths[0] == 3 && lengths[1] == 2 && lengths[2] == 4 && separators[1] == separators[2] && (separators[1] == "-" || separators[1] == " ") {
		return nil
	}
	var totalsArr [maxRunGroups + 1]int
	totals := prefixSumsInto(totalsArr[:count+1], lengths)
	var blockedArr [maxRunGroups]bool
	blocked := blockedArr[:count]
	dated := 0
	if count >= 3 && strings.ContainsAny(body, "-/.") {
		for index := 0; index < count-2; index++ {
			sep := separators[index+1]
			if (sep == "-" || sep == "/" || sep == ".") && (lengths[index] == 4 || lengths[index+2] == 4) && !blocked[index] && dateAt(groups, separators, index) {
				blocked[index], blocked[index+1], blocked[index+2] = true, true, true
				dated += lengths[index] + lengths[index+1] + lengths[index+2]
			}
		}
	}
	if dated == totals[count] {
		return nil
	}
	var blockedBefore []int
	var blockedBeforeArr, hasDotArr, onlyDotArr, singlesArr [maxRunGroups + 1]int
	if dated > 0 {
		blockedBefore = boolSumsInto(blockedBeforeArr[:count+1], blocked)
	}
	dots := strings.Contains(body, ".")
	var hasDot, onlyDot []int
	var isDotArr, containsArr, oneArr [maxRunGroups]bool
	isDot := isDotArr[:count]
	if dots {
		contains := containsArr[:count]
		for i, s := range separators {
			contains[i] = strings.Contains(s, ".")
			isDot[i] = s == "."
		}
		hasDot = boolSumsInto(hasDotArr[:count+1], contains)
		onlyDot = boolSumsInto(onlyDotArr[:count+1], isDot)
	}
	var singles []int
	if hasSingle {
		one := oneArr[:count]
		for i, l := range lengths {
			one[i] = l == 1
		}
		singles = boolSumsInto(singlesArr[:count+1], one)
	}
	var digitsArr [maxRunGroups * 24]byte
	digitBytes := digitsArr[:0]
	for _, g := range groups {
		digitBytes = append(digitBytes, g...)
	}
	digits := string(digitBytes)
	minLength := lengths[0]
	for _, l := range lengths {
		minLength = min(minLength, l)
	}
	wholePossible := len(v.noTrunk) > 0 && count <= phoneMaxGroups && totals[count] >= phoneMinDigits && totals[count] <= phoneMaxDigits
	if wholePossible {
		spaces, dashes := true, true
		for _, s := range separators[1:] {
			spaces = spaces && s == " "
			dashes = dashes && s == "-"
		}
		wholePossible = spaces || (dashes && minLength >= 2 && maxLength <= 3)
	}
	parenthesized := lengths[0] >= 2 && lengths[0] <= 5 &&
		((run[0] == '(' && strings.HasPrefix(separators[1], ")")) || separators[1] == "/" || separators[1] == "/ " || separators[1] == " / ")
	var coveredArr, piecesArr, pickArr [maxRunGroups + 1]int
	covered, pieces, pick := coveredArr[:count+1], piecesArr[:count+1], pickArr[:count+1]
	var lastsArr [maxRunGroups + 2]int
	lasts := lastsArr[:0]
	for first := count - 1; first >= 0; first-- {
		covered[first], pieces[first] = covered[first+1], pieces[first+1]
		base := totals[first]
		head := digits[base:min(base+8, len(digits))]
		if len(head) < phoneMinDigits || blocked[first] {
			continue
		}
		intl := plus && first == 0
		lasts = lasts[:0]
		if intl || v.leads[head[0]] || (first == 0 && parenthesized) {
			low := bisectLeftFrom(totals, base+phoneMinDigits, first+1)
			high := min(count, first+phoneMaxGroups, bisectRight(totals, base+phoneMaxDigits)-1)
			for last := high; last >= low; last-- {
				lasts = append(lasts, last)
			}
		} else {
			if first == 0 && wholePossible {
				lasts = append(lasts, count)
			}
			if v.nanp {
				for _, option := range []struct {
					size int
					ok   bool
				}{{11, head[0] == '1' && head[1] >= '2' && head[1] <= '9'}, {10, head[0] >= '2' && head[0] <= '9'}} {
					if option.ok {
						index := bisectLeftFrom(totals, base+option.size, first+1)
						if index <= count && totals[index] == base+option.size {
							lasts = append(lasts, index)
						}
					}
				}
			}
			if len(lasts) == 0 {
				continue
			}
		}
		dottedStart := dots && first > 0 && isDot[first]
		for _, last := range lasts {
			if last-first > phoneMaxGroups {
				continue
			}
			if blockedBefore != nil && blockedBefore[last] != blockedBefore[first] {
				continue
			}
			if dots {
				inner := last - first - 1
				if hasDot[last]-hasDot[first+1] != 0 {
					if onlyDot[last]-onlyDot[first+1] != inner || !dottedShape(groups[first:last], intl) {
						continue
					}
				} else if dottedStart || (last < count && isDot[last]) {
					continue
				}
			}
			if singles != nil && !intl && (singles[last]-singles[min(first+3, last)] != 0 || lengths[last-1] == 1) {
				continue
			}
			digitsCount := totals[last] - base
			score := digitsCount + covered[last]
			if score < covered[first] || (score == covered[first] && pieces[last]+1 >= pieces[first]) {
				continue
			}
			if v.decide(head, digitsCount, intl, false) ||
				(first == 0 && parenthesized && !intl && digitsCount <= phoneMaxDigits-2) ||
				(!intl && first == 0 && last == count && wholePossible && v.valid(digits, false)) {
				covered[first], pieces[first], pick[first] = score, pieces[last]+1, last
			}
		}
	}
	if covered[0] == 0 || covered[0] != totals[count]-dated {
		if dated == 0 && count <= phoneMaxGroups && totals[count] <= phoneMaxDigits && cued(text, start) {
			return [][2]int{{start, end}}
		}
		return nil
	}
	// Byte offsets of each separator end and group end in the run.
	var offsetsArr [2 * maxRunGroups]int
	offsets := offsetsArr[:0]
	position := 0
	for i := 0; i < count; i++ {
		position += len(separators[i])
		offsets = append(offsets, position)
		position += len(groups[i])
		offsets = append(offsets, position)
	}
	var found [][2]int
	for first := 0; first < count; {
		last := pick[first]
		if last == 0 {
			first++
			continue
		}
		pieceStart := 0
		if first > 0 {
			pieceStart = offsets[2*first]
			floor := offsets[2*first-1]
			for pieceStart > floor && (run[pieceStart-1] == '(' || run[pieceStart-1] == '+') {
				pieceStart--
			}
		}
		pieceEnd := offsets[2*last-1]
		if last == count && extension >= 0 {
			pieceEnd = len(run)
		}
		found = append(found, [2]int{start + pieceStart, start + pieceEnd})
		first = last
	}
	return found
}

// bisectLeftFrom is bisect.bisect_left(a, x, lo).
func bisectLeftFrom(a []int, x, lo int) int {
	return lo + bisectLeft(a[lo:], x)
}
