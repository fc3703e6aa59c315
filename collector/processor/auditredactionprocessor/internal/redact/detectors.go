package redact

import (
	"errors"
	"strconv"
	"strings"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// detectors.py: validators that decide a detector's candidate runs, and normalizers for
// pseudonyms. A validator gets the text and the byte span [start, end) of one candidate run and
// returns the byte spans to redact. Python indexes characters; every check below that looks at
// "the character before/after" looks at ASCII properties, which a byte answers the same way
// (a byte of a multi-byte character is never ASCII).

type validator func(text string, start, end int) [][2]int

// IBANLengths is detectors.IBAN_LENGTHS.
var IBANLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
	"DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
	"MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }
func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isASCIIAlnum(c byte) bool { return isASCIIDigit(c) || isASCIILetter(c) }

// LuhnValid is detectors.luhn_valid.
func LuhnValid(digits string) bool { return luhnValid(digits) }

func luhnValidBytes(digits []byte) bool { return luhnValid(digits) }

func luhnValid[T string | []byte](digits T) bool {
	if len(digits) < 2 {
		return false
	}
	total := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !isASCIIDigit(c) {
			return false
		}
		d := int(c - '0')
		if (len(digits)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		total += d
	}
	return total%10 == 0
}

var cardLengthsByFirst = map[byte][]int{
	'1': {15},
	'2': {14, 15, 16, 17, 18, 19},
	'3': {14, 15, 16, 17, 18, 19},
	'4': {13, 14, 15, 16, 17, 18, 19},
	'5': {14, 15, 16, 17, 18, 19},
	'6': {14, 15, 16, 17, 18, 19},
	'8': {16, 17, 18, 19},
	'9': {16, 17, 18, 19},
}

func shortCardPrefix(head string) bool {
	if len(head) != 2 {
		return false
	}
	n, err := strconv.Atoi(head)
	return err == nil && (head == "50" || (n >= 56 && n <= 69))
}

// cardLengthOK is detectors._card_length_ok (head: the first two digits).
func cardLengthOK(head string, length int) bool {
	if length <= 13 && shortCardPrefix(head) {
		return true
	}
	if head == "" {
		return false
	}
	for _, l := range cardLengthsByFirst[head[0]] {
		if l == length {
			return true
		}
	}
	return false
}

// CardNumberPlausible is detectors.card_number_plausible.
func CardNumberPlausible(digits string) bool {
	if len(digits) < 12 || len(digits) > 19 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if !isASCIIDigit(digits[i]) {
			return false
		}
	}
	return cardLengthOK(digits[:2], len(digits))
}

// IBANValid is detectors.iban_valid.
func IBANValid(iban string) bool {
	candidate := strings.ToUpper(iban)
	for i := 0; i < len(candidate); i++ {
		if !isASCIIAlnum(candidate[i]) {
			return false
		}
	}
	if len(candidate) < 4 {
		return false
	}
	if length, ok := IBANLengths[candidate[:2]]; !ok || length != len(candidate) {
		return false
	}
	if !isASCIIDigit(candidate[2]) || !isASCIIDigit(candidate[3]) {
		return false
	}
	remainder := 0
	rearranged := candidate[4:] + candidate[:4]
	for i := 0; i < len(rearranged); i++ {
		c := rearranged[i]
		if isASCIIDigit(c) {
			remainder = (remainder*10 + int(c-'0')) % 97
		} else {
			remainder = (remainder*100 + int(c-'A') + 10) % 97
		}
	}
	return remainder == 1
}

func glued(text string, index int) bool {
	if index < 0 || index >= len(text) {
		return false
	}
	c := text[index]
	return isASCIIAlnum(c) || c == '_' || c == ':'
}

func wordChar(text string, index int) bool {
	return index >= 0 && index < len(text) && (text[index] == '_' || isASCIIAlnum(text[index]))
}

// validateCard is detectors.validate_card.
func validateCard(text string, start, end int) [][2]int {
	if afterCode(text, start) {
		return nil
	}
	// Digit groups of the run.
	var spanBuf [24][2]int
	spans := spanBuf[:0]
	hasFour := false
	for i := start; i < end; {
		if !isASCIIDigit(text[i]) {
			i++
			continue
		}
		j := i
		for j < end && isASCIIDigit(text[j]) {
			j++
		}
		spans = append(spans, [2]int{i, j})
		if j-i >= 4 {
			hasFour = true
		}
		i = j
	}
	if !hasFour {
		return nil
	}
	count := len(spans)
	var intBuf [4 * 25]int
	ints := intBuf[:]
	if 4*(count+1) > len(ints) {
		ints = make([]int, 4*(count+1))
	}
	lengths, totals := ints[:count:count], ints[count+1:2*count+2:2*count+2]
	for k, s := range spans {
		lengths[k] = s[1] - s[0]
		totals[k+1] = totals[k] + lengths[k]
	}
	gluedAfter := wordChar(text, end)
	var sepBuf [24]byte
	separators := sepBuf[:0]
	if count-1 > len(sepBuf) {
		separators = make([]byte, 0, count-1)
	}
	separators = separators[:max(count-1, 0)]
	for k := 0; k < count-1; k++ {
		separators[k] = text[spans[k][1]]
	}
	same, fours := ints[2*count+2:3*count+2:3*count+2], ints[3*count+2:4*count+3]
	for k := count - 1; k >= 0; k-- {
		same[k] = 1
		if k < count-2 && separators[k] == separators[k+1] {
			same[k] = same[k+1] + 1
		}
		if lengths[k] == 4 {
			fours[k] = fours[k+1] + 1
		}
	}
	var found [][2]int
	first := 0
	for first < count {
		accepted := 0
		if lengths[first] >= 4 {
			for last := min(count, first+5); last > first; last-- {
				total := totals[last] - totals[first]
				if total < 12 {
					break
				}
				if total > 19 || (last == count && gluedAfter) {
					continue
				}
				inner := last - first - 1
				if inner == 0 {
					if (first > 0 && separators[first-1] == '.') || (last < count && separators[first] == '.') {
						continue
					}
				} else if same[first] < inner || !((fours[first] >= inner && lengths[last-1] <= 4) ||
					(inner == 2 && lengths[first] == 4 && lengths[first+1] == 6 && (lengths[first+2] == 4 || lengths[first+2] == 5))) {
					continue
				}
				head := text[spans[first][0]:min(spans[first][0]+2, spans[first][1])]
				if !cardLengthOK(head, total) {
					continue
				}
				var digitBuf [19]byte // total <= 19
				digits := digitBuf[:0]
				for k := first; k < last; k++ {
					digits = append(digits, text[spans[k][0]:spans[k][1]]...)
				}
				if luhnValidBytes(digits) {
					accepted = last
					break
				}
			}
		}
		if accepted > 0 {
			found = append(found, [2]int{spans[first][0], spans[accepted-1][1]})
			first = accepted
		} else {
			first++
		}
	}
	return found
}

// validateIBAN is detectors.validate_iban.
func validateIBAN(text string, start, end int) [][2]int {
	var found [][2]int
	position := start
	for {
		begin := -1
		for i := position; i+4 <= end; i++ {
			if isASCIILetter(text[i]) && isASCIILetter(text[i+1]) && isASCIIDigit(text[i+2]) && isASCIIDigit(text[i+3]) {
				begin = i
				break
			}
		}
		if begin < 0 {
			return found
		}
		position = begin + 1
		if begin > 0 && isASCIIAlnum(text[begin-1]) {
			continue
		}
		length, ok := IBANLengths[strings.ToUpper(text[begin:begin+2])]
		if !ok {
			continue
		}
		chars := make([]byte, 0, length)
		cursor := begin
		size := len(text)
		var separator byte
		for cursor < size && len(chars) < length {
			c := text[cursor]
			if isASCIIAlnum(c) {
				chars = append(chars, c)
			} else if (c == ' ' || c == '-') && (separator == 0 || c == separator) && cursor+1 < size && isASCIIAlnum(text[cursor+1]) {
				separator = c
			} else {
				break
			}
			cursor++
		}
		if len(chars) == length && !(cursor < size && isASCIIAlnum(text[cursor])) && IBANValid(string(chars)) {
			found = append(found, [2]int{begin, cursor})
			position = cursor
		}
	}
}

// validateSSN is detectors.validate_ssn.
func validateSSN(text string, start, end int) [][2]int {
	digits := make([]byte, 0, 9)
	for i := start; i < end; i++ {
		if isASCIIDigit(text[i]) {
			digits = append(digits, text[i])
		}
	}
	if len(digits) != 9 {
		return nil
	}
	area, group, serial := string(digits[:3]), string(digits[3:5]), string(digits[5:])
	if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
		return nil
	}
	return [][2]int{{start, end}}
}

// validateIPv4 is detectors.validate_ipv4.
func validateIPv4(text string, start, end int) [][2]int {
	candidate := text[start:end]
	if strings.Count(candidate, ".") != 3 {
		return nil
	}
	first, rest, _ := strings.Cut(candidate, ".")
	if (start >= 2 && text[start-1] == '.' && isASCIIDigit(text[start-2])) ||
		(end+1 < len(text) && text[end] == '.' && isASCIIDigit(text[end+1])) {
		return nil
	}
	if first == "0" || first == "127" || rest == "0.0.0" {
		return nil
	}
	return [][2]int{{start, end}}
}

// validateIPv6 is detectors.validate_ipv6.
func validateIPv6(text string, start, end int) [][2]int {
	if glued(text, start-1) || glued(text, end) {
		return nil
	}
	candidate := text[start:end]
	if !strings.ContainsAny(candidate, "0123456789") {
		return nil
	}
	address, ok := parseIPv6(candidate)
	if !ok {
		return nil
	}
	var zero [8]uint16
	loopback := [8]uint16{0, 0, 0, 0, 0, 0, 0, 1}
	if address == zero || address == loopback {
		return nil
	}
	return [][2]int{{start, end}}
}

// parseIPv4 is ipaddress.IPv4Address(text) (strict: no leading zeros).
func parseIPv4(text string) (uint32, bool) {
	octets := strings.Split(text, ".")
	if len(octets) != 4 {
		return 0, false
	}
	var value uint32
	for _, octet := range octets {
		if octet == "" || len(octet) > 3 {
			return 0, false
		}
		for i := 0; i < len(octet); i++ {
			if !isASCIIDigit(octet[i]) {
				return 0, false
			}
		}
		if octet != "0" && octet[0] == '0' {
			return 0, false
		}
		n, _ := strconv.Atoi(octet)
		if n > 255 {
			return 0, false
		}
		value = value<<8 | uint32(n)
	}
	return value, true
}

// parseIPv6 is ipaddress.IPv6Address(text) (Python's _ip_int_from_string).
func parseIPv6(text string) ([8]uint16, bool) {
	var out [8]uint16
	if text == "" || strings.ContainsAny(text, "%/") {
		return out, false
	}
	parts := strings.Split(text, ":")
	if len(parts) < 3 {
		return out, false
	}
	if strings.Contains(parts[len(parts)-1], ".") {
		v4, ok := parseIPv4(parts[len(parts)-1])
		if !ok {
			return out, false
		}
		parts = parts[:len(parts)-1]
		parts = append(parts, strconv.FormatUint(uint64(v4>>16), 16), strconv.FormatUint(uint64(v4&0xFFFF), 16))
	}
	if len(parts) > 9 {
		return out, false
	}
	skip := -1
	for i := 1; i < len(parts)-1; i++ {
		if parts[i] == "" {
			if skip >= 0 {
				return out, false
			}
			skip = i
		}
	}
	var hi, lo int
	if skip >= 0 {
		hi = skip
		lo = len(parts) - skip - 1
		if parts[0] == "" {
			hi--
			if hi != 0 {
				return out, false
			}
		}
		if parts[len(parts)-1] == "" {
			lo--
			if lo != 0 {
				return out, false
			}
		}
		if 8-(hi+lo) < 1 {
			return out, false
		}
	} else {
		if len(parts) != 8 || parts[0] == "" || parts[len(parts)-1] == "" {
			return out, false
		}
		hi, lo = len(parts), 0
	}
	parse := func(h string) (uint16, bool) {
		if h == "" || len(h) > 4 {
			return 0, false
		}
		for i := 0; i < len(h); i++ {
			if !isHex(rune(h[i])) {
				return 0, false
			}
		}
		v, err := strconv.ParseUint(h, 16, 16)
		return uint16(v), err == nil
	}
	for i := 0; i < hi; i++ {
		v, ok := parse(parts[i])
		if !ok {
			return out, false
		}
		out[i] = v
	}
	for i := 0; i < lo; i++ {
		v, ok := parse(parts[len(parts)-lo+i])
		if !ok {
			return out, false
		}
		out[8-lo+i] = v
	}
	return out, true
}

// ipv6String is str(IPv6Address) (RFC 5952 compression as Python's _compress_hextets).
func ipv6String(address [8]uint16) string {
	hextets := make([]string, 8)
	for i, h := range address {
		hextets[i] = strconv.FormatUint(uint64(h), 16)
	}
	bestStart, bestLen, start, length := -1, 0, -1, 0
	for i, h := range hextets {
		if h == "0" {
			length++
			if start == -1 {
				start = i
			}
			if length > bestLen {
				bestLen, bestStart = length, start
			}
		} else {
			length, start = 0, -1
		}
	}
	if bestLen > 1 {
		end := bestStart + bestLen
		if end == len(hextets) {
			hextets = append(hextets, "")
		}
		compressed := append(append(append([]string{}, hextets[:bestStart]...), ""), hextets[end:]...)
		hextets = compressed
		if bestStart == 0 {
			hextets = append([]string{""}, hextets...)
		}
	}
	return strings.Join(hextets, ":")
}

// buildValidator is VALIDATORS[name].build(options).
func buildValidator(d *Detector, options *yvalue) (validator, error) {
	switch d.Validate {
	case "luhn":
		return validateCard, nil
	case "iban":
		return validateIBAN, nil
	case "ssn":
		return validateSSN, nil
	case "ipv4":
		return validateIPv4, nil
	case "ipv6":
		return validateIPv6, nil
	case "phone":
		regions := DefaultPhoneRegions
		prefixes := DefaultIDDPrefixes
		for _, option := range []string{"regions", "idd_prefixes"} {
			if !options.has(option) {
				continue
			}
			value := options.get(option)
			if !isList(value) {
				return nil, errors.New(option + " must be a list of strings (quote them: YAML reads a bare NO as false)")
			}
			var items []string
			for _, item := range value.vals {
				if !isStr(item) {
					return nil, errors.New(option + " must be a list of strings (quote them: YAML reads a bare NO as false)")
				}
				items = append(items, item.s)
			}
			if items == nil {
				items = []string{}
			}
			if option == "regions" {
				regions = items
			} else {
				prefixes = items
			}
		}
		pv, err := NewPhoneValidator(regions, prefixes)
		if err != nil {
			return nil, err
		}
		d.PhoneRegions, d.PhoneIDDPrefixes = regions, prefixes
		return pv.Validate, nil
	}
	return nil, errors.New("unknown validator " + d.Validate)
}

// -- normalizers --------------------------------------------------------------------------------

func normalizeDigits(value string) string {
	var b strings.Builder
	if strings.HasPrefix(pyuni.LStrip(value), "+") {
		b.WriteByte('+')
	}
	for i := 0; i < len(value); i++ {
		if isASCIIDigit(value[i]) {
			b.WriteByte(value[i])
		}
	}
	return b.String()
}

func normalizeAlnum(value string) string {
	var b strings.Builder
	for _, r := range value {
		if pyuni.IsAlnum(r) {
			b.WriteRune(r)
		}
	}
	return pyuni.Upper(b.String())
}

func normalizeIP(value string) string {
	if v4, ok := parseIPv4(value); ok {
		return strconv.Itoa(int(v4>>24)) + "." + strconv.Itoa(int(v4>>16&0xFF)) + "." + strconv.Itoa(int(v4>>8&0xFF)) + "." + strconv.Itoa(int(v4&0xFF))
	}
	if v6, ok := parseIPv6(value); ok {
		return ipv6String(v6)
	}
	return pyuni.Lower(value)
}

var normalizers = map[string]func(string) string{
	"none":   func(s string) string { return s },
	"lower":  pyuni.Lower,
	"digits": normalizeDigits,
	"alnum":  normalizeAlnum,
	"ip":     normalizeIP,
}

// afterCode is phones.after_code: the run at start follows a code word and one space (a code
// word: ASCII letters, a digit, then letters and digits, at most 40 characters, not glued to a
// letter or digit before it).
func afterCode(text string, start int) bool {
	if start < 1 || text[start-1] != ' ' {
		return false
	}
	wordEnd := start - 1
	i := wordEnd
	for i > 0 && isASCIIAlnum(text[i-1]) {
		i--
	}
	if i == wordEnd || wordEnd-i > 40 || !isASCIILetter(text[i]) {
		return false
	}
	return strings.ContainsAny(text[i:wordEnd], "0123456789")
}
