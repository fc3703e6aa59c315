package pyuni

import (
	"testing"
	"unicode/utf8"
)

// Every character alone: the algorithm agrees with Python's per-character NFKC table.
func TestNFKCOfEachCharacter(t *testing.T) {
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		want, ok := NFKCChar(r)
		if !ok {
			want = string(r)
		}
		if got := NFKC(string(r)); got != want {
			t.Fatalf("NFKC(U+%04X) = %q, Python %q", r, got, want)
		}
		if IsNFKC(string(r)) != (want == string(r)) {
			t.Fatalf("IsNFKC(U+%04X) wrong", r)
		}
	}
}

func TestNFKCSequences(t *testing.T) {
	cases := map[string]string{
		"e\u0301":            "\u00e9",
		"\u1100\u1161\u11a8": "\uac01",
		"a\u0323\u0302":      "\u1ead",
		"a\u0302\u0323":      "\u1ead",
		"\uff30\uff21\uff33": "PAS",
		"\u0958":             "\u0915\u093c",
		"\ufb01x":            "fix",
		"\u0301e":            "\u0301e",
	}
	for in, want := range cases {
		if got := NFKC(in); got != want {
			t.Errorf("NFKC(%+q) = %+q, want %+q", in, got, want)
		}
		if IsNFKC(in) != (in == want) {
			t.Errorf("IsNFKC(%+q) wrong", in)
		}
	}
}

func TestCaseAndClasses(t *testing.T) {
	if Casefold("Straße") != "strasse" || Upper("ß") != "SS" || Lower("İ") != "i\u0307" {
		t.Fatal("case mappings")
	}
	if Lower("ΑΣ") != "ας" || Lower("Σ") != "σ" || Lower("ΑΣΑ") != "ασα" {
		t.Fatalf("final sigma: %q %q %q", Lower("ΑΣ"), Lower("Σ"), Lower("ΑΣΑ"))
	}
	if !IsDigit('²') || IsDigit('a') || !IsAlnum('é') || !IsSpace('\u3000') || Strip("\u2003 x\n") != "x" {
		t.Fatal("classes")
	}
	if !utf8.ValidString(CuePattern) || !utf8.ValidString(CategoryPattern) {
		t.Fatal("patterns")
	}
}

// The quick check never disagrees with a full normalization, on strings mixing starters, marks
// in and out of canonical order, Hangul jamo, compatibility characters and plain text.
func TestIsNFKCQuickCheck(t *testing.T) {
	alphabet := []rune("ae कष्ट고객\u0301\u0323\u0302\u093c\u094d\u0951\u0952\u05b0\u05b1\u1100\u1161\u11a8\uac00\uff21\ufb01\u00e9\u0958\u3099\u304b\u0e38\u0e48")
	state := uint64(1)
	next := func(n int) int {
		state = state*6364136223846793005 + 1442695040888963407
		return int(state>>33) % n
	}
	for i := 0; i < 200_000; i++ {
		runes := make([]rune, 1+next(6))
		for k := range runes {
			runes[k] = alphabet[next(len(alphabet))]
		}
		s := string(runes)
		if got, want := IsNFKC(s), NFKC(s) == s; got != want {
			t.Fatalf("IsNFKC(%+q) = %v, NFKC(s) == s is %v", s, got, want)
		}
	}
}

// Every character NFKC changes alone makes a string not normalized, whatever stands around it:
// the quick check's early "no" for them agrees with a full normalization.
func TestIsNFKCCharactersNFKCChanges(t *testing.T) {
	contexts := []string{"", "a", "e\u0301", "고", "\u1100", "\u0301", "क\u094d", "谢"}
	for r := range nfkcCharMap {
		for _, before := range contexts {
			for _, after := range contexts {
				s := before + string(r) + after
				if got, want := IsNFKC(s), NFKC(s) == s; got != want {
					t.Fatalf("IsNFKC(%+q) = %v, NFKC(s) == s is %v", s, got, want)
				}
			}
		}
	}
}

// IsNFKC decodes two- and three-byte characters itself: on every such sequence, well-formed or
// not, alone and between other characters, it answers as the same check reading characters
// with utf8.DecodeRuneInString, and as a full normalization on well-formed text.
func TestIsNFKCDecodesAsUTF8(t *testing.T) {
	for lead := 0xC0; lead <= 0xEF; lead++ {
		for second := 0x70; second <= 0xC5; second++ {
			for _, third := range []byte{0x41, 0x80, 0x8C, 0xA5, 0xBF, 0xC2} {
				seq := []byte{byte(lead), byte(second), third}
				for _, s := range []string{string(seq), string(seq[:2]), "a" + string(seq) + "b", "x" + string(seq[:2]), string(seq) + "\u0301"} {
					got := IsNFKC(s)
					if want := isNFKCByUTF8(s); got != want {
						t.Fatalf("IsNFKC(%+q) = %v, read with utf8: %v", s, got, want)
					}
					if want := NFKC(s) == s; utf8.ValidString(s) && got != want {
						t.Fatalf("IsNFKC(%+q) = %v, NFKC(s) == s is %v", s, got, want)
					}
				}
			}
		}
	}
}

// isNFKCByUTF8 is IsNFKC reading every character with utf8.DecodeRuneInString.
func isNFKCByUTF8(s string) bool {
	var lastClass uint8
	for _, r := range s {
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
