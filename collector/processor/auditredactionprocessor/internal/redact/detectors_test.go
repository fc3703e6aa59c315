package redact

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

const shippedRules = "../../../../../collector-config/redaction.yaml"

func shipped(t testing.TB) *Redactor {
	t.Helper()
	rules, err := LoadRules(shippedRules)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(rules, []byte("test-secret-of-at-least-16-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func redactText(t testing.TB, r *Redactor, text string) (string, *Counts) {
	t.Helper()
	counts := &Counts{}
	out, _, err := r.ApplyText(text, counts, r.NewBudget())
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return out, counts
}

func count(c *Counts, name string) int {
	for i, n := range c.Names {
		if n == name {
			return c.Values[i]
		}
	}
	return 0
}

// testdata/python_golden.jsonl: texts and what the Python redactor (shipped rules) makes of
// them: [text, redacted, [[name, count], ...]] (phones, SSNs, IPs, e-mails through every
// decoder, IBANs, cards, keys and tokens, and near misses of each).
func TestPythonGolden(t *testing.T) {
	r := shipped(t)
	file, err := os.Open("testdata/python_golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		var row [3]json.RawMessage
		if err := json.Unmarshal(scanner.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		var text, want string
		var counts [][2]any
		_ = json.Unmarshal(row[0], &text)
		_ = json.Unmarshal(row[1], &want)
		_ = json.Unmarshal(row[2], &counts)
		got, c := redactText(t, r, text)
		if got != want {
			t.Errorf("%q: got %q, Python %q", text, got, want)
		}
		if len(c.Names) != len(counts) {
			t.Errorf("%q: counts %v, Python %v", text, c, counts)
		}
	}
}

func luhnComplete(prefix string, length int) string {
	digits := prefix
	for len(digits) < length-1 {
		digits += strconv.Itoa(len(digits) % 10)
	}
	for check := 0; check < 10; check++ {
		if candidate := digits + strconv.Itoa(check); LuhnValid(candidate) {
			return candidate
		}
	}
	panic("unreachable")
}

func group(digits string, sizes []int, separator string) string {
	var parts []string
	for _, size := range sizes {
		if digits == "" {
			break
		}
		if size > len(digits) {
			size = len(digits)
		}
		parts = append(parts, digits[:size])
		digits = digits[size:]
	}
	if digits != "" {
		parts = append(parts, digits)
	}
	return strings.Join(parts, separator)
}

// Cards of every length 12-19 whose first digits allow it, plain and grouped with every separator.
func TestCards(t *testing.T) {
	r := shipped(t)
	for length := 12; length <= 19; length++ {
		for _, prefix := range []string{"4", "51", "22", "34", "36", "60", "62", "50", "56", "69", "81", "97", "1"} {
			if !CardNumberPlausible(luhnComplete(prefix, length)) {
				continue
			}
			number := luhnComplete(prefix, length)
			for _, separator := range []string{"", " ", "-", "."} {
				written := group(number, []int{4, 4, 4, 4, 4}, separator)
				text := "pay with " + written + " today"
				got, c := redactText(t, r, text)
				if count(c, "card") != 1 || strings.ContainsAny(got, "0123456789") {
					t.Errorf("%d digits %q: %q %v", length, written, got, c)
				}
			}
		}
	}
	// Luhn failures, invoice numbers and decimals are not cards.
	for _, text := range []string{"4111 1111 1111 1112", "Rechnung 3534.4942.3465.3", "0.4111111111111111", "order 7111111111111111"} {
		if _, c := redactText(t, r, text); count(c, "card") != 0 {
			t.Errorf("%q taken as a card", text)
		}
	}
}

func ibanFor(country string, length int) string {
	bban := strings.Repeat("0123456789", 4)[:length-4]
	rearranged := bban + country + "00"
	remainder := 0
	for _, c := range rearranged {
		if c >= 'A' && c <= 'Z' {
			remainder = (remainder*100 + int(c-'A') + 10) % 97
		} else {
			remainder = (remainder*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("%s%02d%s", country, 98-remainder, bban)
}

// A valid IBAN of every country of the registry, compact, grouped, lower case; a wrong check digit is not one.
func TestIBANs(t *testing.T) {
	r := shipped(t)
	for country, length := range IBANLengths {
		iban := ibanFor(country, length)
		if !IBANValid(iban) {
			t.Fatalf("%s: built %s is not valid", country, iban)
		}
		for _, written := range []string{iban, group(iban, []int{4, 4, 4, 4, 4, 4, 4, 4}, " "), strings.ToLower(iban)} {
			got, c := redactText(t, r, "IBAN: "+written+".")
			if got != "IBAN: [IBAN]." || count(c, "iban") != 1 {
				t.Errorf("%s %q: %q %v", country, written, got, c)
			}
		}
		wrong := iban[:len(iban)-1] + string('0'+(iban[len(iban)-1]-'0'+1)%10)
		if IBANValid(wrong) {
			t.Errorf("%s: %s passes mod-97", country, wrong)
		}
	}
}

func TestEmailDecoders(t *testing.T) {
	r := shipped(t)
	for _, written := range []string{
		"ana@example.org", "ana%40example.org", "ana%2540example.org", "ana&#64;example.org", "ana&#x40;example.org",
		"ana&commat;example.org", "ana&amp;#64;example.org", `ana\u0040example.org`, "ana＠example.org", "ａｎａ＠ｅｘａｍｐｌｅ．ｏｒｇ",
	} {
		got, c := redactText(t, r, "mail "+written+" now")
		if got != "mail [EMAIL] now" || count(c, "email") != 1 {
			t.Errorf("%q: %q %v", written, got, c)
		}
	}
}

func TestDecodedViewMapsBack(t *testing.T) {
	view := decodedViewOf("mail ana%40example.org", []string{"percent", "html", "json", "nfkc"})
	if view.text != "mail ana@example.org" {
		t.Fatalf("view %q", view.text)
	}
	if start, end := view.origin(5, 20); start != 5 || end != 22 {
		t.Errorf("origin (%d, %d), want (5, 22) as Python", start, end)
	}
	nested := decodedViewOf("a%2540b &amp;#64; ＠", []string{"percent", "html", "json", "nfkc"})
	if nested.text != "a@b @ @" {
		t.Errorf("nested %q", nested.text)
	}
}

func TestSSNAndIPs(t *testing.T) {
	r := shipped(t)
	cases := map[string]string{
		"ssn 123-45-6789":     "ssn [SSN]",
		"ssn 666-45-6789":     "ssn 666-45-6789",
		"ip 203.0.113.17":     "ip [IPV4]",
		"ip 127.0.0.1":        "ip 127.0.0.1",
		"oid 1.3.6.1.4":       "oid 1.3.6.1.4",
		"ip 2001:db8::1 here": "ip [IPV6] here",
		"std::add(1)":         "std::add(1)",
	}
	for text, want := range cases {
		if got, _ := redactText(t, r, text); got != want {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
}

func TestNormalizers(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"digits", " +44 (20) 7946-0958", "+442079460958"},
		{"alnum", "de89 3704-0044", "DE8937040044"},
		{"ip", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"ip", "::ffff:192.0.2.1", "::ffff:c000:201"},
		{"ip", "010.1.1.1", "010.1.1.1"},
		{"lower", "ΑΣ@X.ORG", "ας@x.org"},
	}
	for _, tc := range cases {
		if got := normalizers[tc.name](tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// The phone-word search of ASCII windows is the cue pattern's search, exactly.
func TestASCIICuedIsTheCuePattern(t *testing.T) {
	pieces := []string{"Tel", "tel.", "PHONE", "call me at", "Ring", "fax", ": ", "(", "#", " ", "x", "9", "mob", "ile", "WhatsApp", "contact", "reach", "sms:", "cell", "_", "-", "hotel", "telly", "+"}
	checkCueSearch(t, "asciiCued", asciiCued, pieces, 7)
}

// The search of non-ASCII windows is the cue pattern's search, exactly: Cyrillic, accented,
// CJK and case-folded phone words (ſ for s, K for k), word characters of every script around them.
func TestUnicodeCuedIsTheCuePattern(t *testing.T) {
	pieces := []string{"Tél", "tél.", "ТЕЛЕФОН", "телефон:", "тел", "звоните", "電話", "电话", "携帯", "ſms", "Kontakt", "call", "ring",
		" ", ": ", "(", "+", "9", "é", "ü", "й", "中", "_", "x", "-", "#", "мобил", "Móvil", "téléphone", "hôtel", "\u00a0"}
	checkCueSearch(t, "unicodeCued", unicodeCued, pieces, 11)
}

// checkCueSearch compares search with the cue pattern on 100,000 windows of 1 to 7 random
// pieces; between 1 % and 99 % of them must match, so both answers are exercised.
func checkCueSearch(t *testing.T, name string, search func(string) bool, pieces []string, seed uint64) {
	t.Helper()
	state := seed
	matched := 0
	for i := 0; i < 100_000; i++ {
		var b strings.Builder
		for n := 0; n < 1+int(state%7); n++ {
			state = state*6364136223846793005 + 1442695040888963407
			b.WriteString(pieces[int(state>>33)%len(pieces)])
		}
		window := b.String()
		want := cueRe.MatchString(window)
		if search(window) != want {
			t.Fatalf("%s(%q) = %v, the cue pattern says %v", name, window, !want, want)
		}
		if want {
			matched++
		}
	}
	if matched < 1000 || matched > 99_000 {
		t.Fatalf("%d of 100000 windows matched the cue pattern", matched)
	}
}
