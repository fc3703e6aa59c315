package redact

import (
	"strings"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// Key normalisation (otel_audit/redact/keys.py): the form of a map key that key rules are
// matched against. The tables below are keys.ZERO_WIDTH and keys.CONFUSABLES.

var zeroWidth = map[rune]bool{0xad: true, 0x34f: true, 0x61c: true, 0x115f: true, 0x1160: true, 0x17b4: true, 0x17b5: true, 0x180b: true, 0x180c: true, 0x180d: true, 0x180e: true, 0x200b: true, 0x200c: true, 0x200d: true, 0x200e: true, 0x200f: true, 0x202a: true, 0x202b: true, 0x202c: true, 0x202d: true, 0x202e: true, 0x2060: true, 0x2061: true, 0x2062: true, 0x2063: true, 0x2064: true, 0x2066: true, 0x2067: true, 0x2068: true, 0x2069: true, 0x3164: true, 0xfeff: true, 0xffa0: true}

var confusables = map[rune]rune{0x430: 'a', 0x432: 'b', 0x44c: 'b', 0x441: 'c', 0x501: 'd', 0x435: 'e', 0x451: 'e', 0x4bb: 'h', 0x43d: 'h', 0x456: 'i', 0x457: 'i', 0x4cf: 'l', 0x458: 'j', 0x43a: 'k', 0x43c: 'm', 0x43f: 'n', 0x43e: 'o', 0x440: 'p', 0x51b: 'q', 0x433: 'r', 0x455: 's', 0x442: 't', 0x443: 'y', 0x51d: 'w', 0x445: 'x', 0x4af: 'y', 0x437: '3', 0x3b1: 'a', 0x3b2: 'b', 0x3f2: 'c', 0x3b5: 'e', 0x3b7: 'n', 0x3b9: 'i', 0x3af: 'i', 0x3ba: 'k', 0x3bd: 'v', 0x3bf: 'o', 0x3cc: 'o', 0x3c1: 'p', 0x3c4: 't', 0x3c5: 'u', 0x3c7: 'x', 0x3b3: 'y', 0x3f3: 'j', 0x475: 'v', 0x131: 'i', 0x269: 'i', 0x237: 'j', 0x261: 'g', 0x251: 'a', 0x25b: 'e', 0x26a: 'i', 0x29f: 'l', 0x1d0f: 'o', 0x1d18: 'p', 0x280: 'r', 0xa731: 's', 0x1d1b: 't', 0x1d1c: 'u', 0x1d20: 'v', 0x1d21: 'w', 0x1d22: 'z', 0x28f: 'y', 0x1d04: 'c', 0x1d05: 'd', 0x1d07: 'e', 0xa730: 'f', 0x262: 'g', 0x29c: 'h', 0x1d0a: 'j', 0x1d0b: 'k', 0x1d0d: 'm', 0x274: 'n', 0x1d00: 'a', 0x299: 'b', 0x585: 'o', 0x57d: 'u', 0x581: 'g', 0x570: 'h', 0x578: 'n', 0x561: 'w'}

func mapKeyRunes(key string, drop map[rune]bool, replace map[rune]rune) string {
	var b strings.Builder
	b.Grow(len(key))
	for _, r := range key {
		if drop != nil && drop[r] {
			continue
		}
		if replace != nil {
			if to, ok := replace[r]; ok {
				b.WriteRune(to)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

var keyNormalizers = map[string]func(string) string{
	"nfkc": func(key string) string {
		if pyuni.IsASCII(key) {
			return key
		}
		return pyuni.NFKC(key)
	},
	"zero_width": func(key string) string {
		if pyuni.IsASCII(key) {
			return key
		}
		return mapKeyRunes(key, zeroWidth, nil)
	},
	"casefold": pyuni.Casefold,
	"confusables": func(key string) string {
		if pyuni.IsASCII(key) {
			return key
		}
		return mapKeyRunes(key, nil, confusables)
	},
	"strip": pyuni.Strip,
}

// keyNormalizer returns one function applying the named steps in order.
func keyNormalizer(steps []string) func(string) string {
	functions := make([]func(string) string, len(steps))
	for i, step := range steps {
		functions[i] = keyNormalizers[step]
	}
	return func(key string) string {
		for _, f := range functions {
			key = f(key)
		}
		return key
	}
}

// NormalizeKey applies the default key normalisation (for tests and tools).
func NormalizeKey(key string) string { return keyNormalizer(DefaultKeyNormalization)(key) }
