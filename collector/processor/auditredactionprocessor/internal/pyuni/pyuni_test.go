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
