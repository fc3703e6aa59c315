package redact

import (
	"fmt"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// The port of otel_audit/redact/rules.py: the rule file is loaded and validated with the same
// checks, in the same order, so that a file Python refuses is refused here with the same key.

// DefaultMaxRecordChars is rules.DEFAULT_MAX_RECORD_CHARS.
const DefaultMaxRecordChars = 1 << 20

const (
	supportedVersion = 1
	reservedPrefix   = "audit.redaction."
	maxRepeat        = 1000
)

var (
	topKeys      = []string{"version", "defaults", "limits", "key_normalization", "allow_keys", "key_rules", "detectors", "custom_detectors"}
	defaultKeys  = []string{"action", "pseudonym_length"}
	limitKeys    = []string{"max_record_chars"}
	detectorKeys = []string{"name", "token", "pattern", "patterns", "action", "validate", "options", "decode", "requires", "normalize", "enabled", "description"}
	keyRuleKeys  = []string{"name", "token", "keys", "action", "enabled", "description"}
	reservedName = map[string]bool{"count": true, "error": true, "over_budget": true, "reserved": true}

	detectorActions = []string{"mask", "pseudonymize"}
	keyActions      = []string{"drop", "mask", "pseudonymize", "keep"}
	decoderNames    = []string{"percent", "html", "json", "nfkc"}
	keyStepNames    = []string{"nfkc", "zero_width", "casefold", "confusables", "strip"}
	normalizerNames = []string{"none", "lower", "digits", "alnum", "ip"}
	validatorNames  = []string{"luhn", "iban", "phone", "ssn", "ipv4", "ipv6"}

	// DefaultKeyNormalization is keys.DEFAULT_KEY_NORMALIZATION.
	DefaultKeyNormalization = []string{"nfkc", "zero_width", "casefold", "confusables", "strip"}

	nameRe         = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	tokenRe        = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,62}$`)
	leadingFlagsRe = regexp.MustCompile(`^\(\?([ims]+)\)`)
)

// RuleError is rules.RedactionRuleError: the rule file is unreadable or invalid.
type RuleError struct {
	Source string
	Line   int // 0 when unknown
	Key    string
	Msg    string
}

func (e *RuleError) Error() string {
	where := e.Source
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Source, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// Detector is rules.Detector.
type Detector struct {
	Name, Token, Pattern string
	Action               string
	Validate             string
	Decode               []string
	Requires             string
	HasRequires          bool
	Normalize            string
	Custom               bool
	Line                 int
	Regex                *pyRegex
	RequiresRegex        *pyRegex
	validator            validator
	PhoneRegions         []string
	PhoneIDDPrefixes     []string
}

// KeyRule is rules.KeyRule.
type KeyRule struct {
	Name, Token, Keys, Action string
	Line                      int
	Regex                     *pyRegex
	countKey                  string // audit.redaction.<Name>
}

// Rules is rules.RedactionRules: the validated content of one rule file.
type Rules struct {
	Source           string
	DefaultAction    string
	PseudonymLength  int
	AllowKeys        map[string]bool
	KeyRules         []*KeyRule
	Detectors        []*Detector
	MaxRecordChars   int
	KeyNormalization []string
}

// NeedsSecret reports whether any detector or key rule pseudonymizes.
func (r *Rules) NeedsSecret() bool {
	for _, d := range r.Detectors {
		if d.Action == "pseudonymize" {
			return true
		}
	}
	for _, k := range r.KeyRules {
		if k.Action == "pseudonymize" {
			return true
		}
	}
	return false
}

// LoadRules reads and validates the rule file at path.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &RuleError{Source: path, Msg: fmt.Sprintf("cannot read the rule file: %v", err)}
	}
	if !utf8.Valid(data) {
		return nil, &RuleError{Source: path, Msg: "cannot read the rule file: it is not UTF-8"}
	}
	return ParseRules(string(data), path)
}

// ParseRules validates the rule-file content text; source names it in errors.
func ParseRules(text, source string) (rules *Rules, err error) {
	doc, yerr := loadYAML(text)
	if yerr != nil {
		e := yerr.(*yamlError)
		return nil, &RuleError{Source: source, Line: e.line, Key: e.key, Msg: e.message}
	}
	p := &ruleParser{source: source, names: map[string]string{}}
	defer func() {
		if r := recover(); r != nil {
			rerr, ok := r.(*RuleError)
			if !ok {
				panic(r)
			}
			rules, err = nil, rerr
		}
	}()
	return p.rules(doc), nil
}

type ruleParser struct {
	source string
	names  map[string]string
}

func (p *ruleParser) fail(container *yvalue, key any, path, message string) {
	panic(&RuleError{Source: p.source, Line: lineOf(container, key), Key: path, Msg: message})
}

func isMap(v *yvalue) bool  { return v != nil && v.kind == yMap }
func isList(v *yvalue) bool { return v != nil && v.kind == yList }
func isStr(v *yvalue) bool  { return v != nil && v.kind == yStr }

func equalsOne(v *yvalue) bool {
	switch v.kind {
	case yInt:
		return v.i.Cmp(big.NewInt(1)) == 0
	case yFloat:
		return v.f == 1
	case yBool:
		return v.b
	}
	return false
}

func emptyMap(line int) *yvalue { return &yvalue{kind: yMap, line: line} }

func (p *ruleParser) rules(doc *yvalue) *Rules {
	if !isMap(doc) {
		p.fail(doc, nil, "", "the rule file must be a YAML mapping")
	}
	p.checkKeys(doc, "", topKeys)
	version := doc.get("version")
	if version == nil || !equalsOne(version) {
		p.fail(doc, "version", "version", fmt.Sprintf("must be %d (got %s)", supportedVersion, version.pyRepr()))
	}
	defaults := orEmpty(doc.get("defaults"))
	if !isMap(defaults) {
		p.fail(doc, "defaults", "defaults", "must be a mapping")
	}
	p.checkKeys(defaults, "defaults", defaultKeys)
	defaultAction := p.choice(defaults, "action", "defaults.action", detectorActions, "mask")
	length := 16
	if lv := defaults.get("pseudonym_length"); lv != nil || defaults.has("pseudonym_length") {
		if lv == nil || lv.kind != yInt || !lv.i.IsInt64() || lv.i.Int64() < 8 || lv.i.Int64() > 64 {
			p.fail(defaults, "pseudonym_length", "defaults.pseudonym_length", "must be an integer 8..64")
		}
		length = int(lv.i.Int64())
	}
	limits := orEmpty(doc.get("limits"))
	if !isMap(limits) {
		p.fail(doc, "limits", "limits", "must be a mapping")
	}
	p.checkKeys(limits, "limits", limitKeys)
	maxChars := DefaultMaxRecordChars
	if limits.has("max_record_chars") {
		mv := limits.get("max_record_chars")
		if mv == nil || mv.kind != yInt || mv.i.Cmp(big.NewInt(1024)) < 0 {
			p.fail(limits, "max_record_chars", "limits.max_record_chars", "must be an integer >= 1024")
		}
		if mv.i.IsInt64() && mv.i.Int64() < 1<<53 {
			maxChars = int(mv.i.Int64())
		} else {
			maxChars = 1 << 53 // effectively unlimited, as Python's arbitrary integers
		}
	}
	keySteps := p.steps(doc, "key_normalization", keyStepNames, DefaultKeyNormalization)
	allow := p.allowList(doc)
	rules := &Rules{
		Source: p.source, DefaultAction: defaultAction, PseudonymLength: length,
		AllowKeys: map[string]bool{}, MaxRecordChars: maxChars, KeyNormalization: keySteps,
	}
	for _, key := range allow {
		rules.AllowKeys[key] = true
	}
	if entries := p.section(doc, "key_rules"); entries != nil {
		for index, item := range entries.vals {
			if rule := p.keyRule(item, index, entries); rule != nil {
				rules.KeyRules = append(rules.KeyRules, rule)
			}
		}
	}
	for _, section := range []string{"detectors", "custom_detectors"} {
		entries := p.section(doc, section)
		if entries == nil {
			continue
		}
		for index, item := range entries.vals {
			if d := p.detector(item, index, entries, defaultAction, section == "custom_detectors"); d != nil {
				rules.Detectors = append(rules.Detectors, d)
			}
		}
	}
	return rules
}

// orEmpty is Python's `value or _LineDict()`.
func orEmpty(v *yvalue) *yvalue {
	if v == nil || !v.truthy() {
		line := 0
		if v != nil {
			line = v.line
		}
		return emptyMap(line)
	}
	return v
}

func (p *ruleParser) steps(container *yvalue, key string, known, fallback []string) []string {
	if !container.has(key) {
		return fallback
	}
	value := container.get(key)
	if !isList(value) {
		p.fail(container, key, key, "must be a list of: "+strings.Join(known, ", "))
	}
	var steps []string
	for _, step := range value.vals {
		if !isStr(step) {
			p.fail(container, key, key, "must be a list of: "+strings.Join(known, ", "))
		}
		steps = append(steps, step.s)
	}
	seen := map[string]bool{}
	var unknown []string
	duplicate := false
	for _, step := range steps {
		if !contains(known, step) {
			unknown = append(unknown, step)
		}
		if seen[step] {
			duplicate = true
		}
		seen[step] = true
	}
	if len(unknown) > 0 || duplicate {
		problem := "a step is listed twice"
		if len(unknown) > 0 {
			problem = "unknown step " + pyStrRepr(unknown[0])
		}
		p.fail(container, key, key, fmt.Sprintf("%s (known: %s)", problem, strings.Join(known, ", ")))
	}
	if steps == nil {
		steps = []string{}
	}
	return steps
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

func (p *ruleParser) section(doc *yvalue, section string) *yvalue {
	entries := doc.get(section)
	if entries == nil || entries.kind == yNull {
		return nil
	}
	if !isList(entries) {
		p.fail(doc, section, section, "must be a list")
	}
	return entries
}

func (p *ruleParser) checkKeys(mapping *yvalue, path string, allowed []string) {
	for _, key := range mapping.keys {
		if key.kind != yStr || !contains(allowed, key.s) {
			where := key.pyStr()
			if path != "" {
				where = path + "." + key.pyStr()
			}
			sorted := append([]string(nil), allowed...)
			sort.Strings(sorted)
			var lookup any = key.s
			if key.kind != yStr {
				lookup = nil
			}
			p.fail(mapping, lookup, where, "unknown key (expected one of: "+strings.Join(sorted, ", ")+")")
		}
	}
}

func (p *ruleParser) choice(mapping *yvalue, key, path string, choices []string, fallback string) string {
	value := mapping.get(key)
	if !mapping.has(key) {
		return fallback
	}
	if !isStr(value) || !contains(choices, value.s) {
		p.fail(mapping, key, path, fmt.Sprintf("must be one of %s (got %s)", strings.Join(choices, ", "), value.pyRepr()))
	}
	return value.s
}

func (p *ruleParser) text(mapping *yvalue, key, path string, required bool) (string, bool) {
	value := mapping.get(key)
	if value == nil || value.kind == yNull {
		if required {
			p.fail(mapping, key, path, "is required")
		}
		return "", false
	}
	if !isStr(value) || value.s == "" {
		p.fail(mapping, key, path, "must be a non-empty string (quote patterns with single quotes)")
	}
	return value.s, true
}

func (p *ruleParser) flag(mapping *yvalue, key, path string) bool {
	if !mapping.has(key) {
		return true
	}
	value := mapping.get(key)
	if value == nil || value.kind != yBool {
		p.fail(mapping, key, path, "must be true or false")
	}
	return value.b
}

func (p *ruleParser) allowList(doc *yvalue) []string {
	entries := doc.get("allow_keys")
	if entries == nil || !entries.truthy() {
		return nil
	}
	if !isList(entries) {
		p.fail(doc, "allow_keys", "allow_keys", "must be a list of attribute keys")
	}
	var exact []string
	for index, entry := range entries.vals {
		path := fmt.Sprintf("allow_keys[%d]", index)
		if !isStr(entry) || entry.s == "" {
			p.fail(entries, index, path, "must be an attribute name")
		}
		if strings.Contains(entry.s, "*") {
			p.fail(entries, index, path, "exact attribute names only: prefixes ('*') are not allowed")
		}
		if strings.HasPrefix(entry.s, reservedPrefix) {
			p.fail(entries, index, path, reservedPrefix+"* attributes are written by the redactor, never allowed")
		}
		exact = append(exact, entry.s)
	}
	return exact
}

func (p *ruleParser) name(item *yvalue, path string) string {
	name, _ := p.text(item, "name", path+".name", true)
	if !nameRe.MatchString(name) {
		p.fail(item, "name", path+".name", "must match [a-z][a-z0-9_]* (it names a count attribute)")
	}
	if reservedName[name] {
		p.fail(item, "name", path+".name", fmt.Sprintf("%s is reserved for audit.redaction.%s", pyStrRepr(name), name))
	}
	if previous, ok := p.names[name]; ok {
		p.fail(item, "name", path+".name", fmt.Sprintf("duplicate name (already used by %s)", previous))
	}
	p.names[name] = path
	return name
}

func (p *ruleParser) token(item *yvalue, name, path string) string {
	token, ok := p.text(item, "token", path+".token", false)
	if !ok {
		token = strings.ToUpper(name)
	}
	if !tokenRe.MatchString(token) {
		p.fail(item, "token", path+".token", "must match [A-Z][A-Z0-9_]*")
	}
	return token
}

func (p *ruleParser) regex(container *yvalue, key any, path, pattern string) *pyRegex {
	if problem := CheckRE2Syntax(pattern); problem != "" {
		p.fail(container, key, path, fmt.Sprintf("not portable to RE2: %s: %s", problem, pyStrRepr(pattern)))
	}
	re, err := compilePy(pattern)
	if err != nil {
		p.fail(container, key, path, fmt.Sprintf("invalid regex: %v: %s", err, pyStrRepr(pattern)))
	}
	return re
}

func (p *ruleParser) keyRule(item *yvalue, index int, entries *yvalue) *KeyRule {
	path := fmt.Sprintf("key_rules[%d]", index)
	if !isMap(item) {
		p.fail(entries, index, path, "must be a mapping")
	}
	p.checkKeys(item, path, keyRuleKeys)
	name := p.name(item, path)
	token := p.token(item, name, path)
	keys, _ := p.text(item, "keys", path+".keys", true)
	re := p.regex(item, "keys", path+".keys", keys)
	action := p.choice(item, "action", path+".action", keyActions, "mask")
	p.text(item, "description", path+".description", false)
	if !p.flag(item, "enabled", path+".enabled") {
		return nil
	}
	return &KeyRule{Name: name, Token: token, Keys: keys, Action: action, Line: lineOf(entries, index), Regex: re, countKey: RedactionPrefix + name}
}

func (p *ruleParser) detector(item *yvalue, index int, entries *yvalue, defaultAction string, custom bool) *Detector {
	section := "detectors"
	if custom {
		section = "custom_detectors"
	}
	path := fmt.Sprintf("%s[%d]", section, index)
	if !isMap(item) {
		p.fail(entries, index, path, "must be a mapping")
	}
	p.checkKeys(item, path, detectorKeys)
	name := p.name(item, path)
	token := p.token(item, name, path)
	pattern := p.detectorPattern(item, path)
	patternKey := "pattern"
	if item.has("patterns") {
		patternKey = "patterns"
	}
	re := p.regex(item, patternKey, path+".pattern", pattern)
	action := p.choice(item, "action", path+".action", detectorActions, defaultAction)
	validate, hasValidate := p.text(item, "validate", path+".validate", false)
	if hasValidate && !contains(validatorNames, validate) {
		known := append([]string(nil), validatorNames...)
		sort.Strings(known)
		p.fail(item, "validate", path+".validate", fmt.Sprintf("unknown validator %s (known: %s)", pyStrRepr(validate), strings.Join(known, ", ")))
	}
	d := &Detector{Name: name, Token: token, Pattern: pattern, Action: action, Validate: validate, Custom: custom, Regex: re}
	p.validator(item, path, d, hasValidate)
	d.Decode = p.steps(item, "decode", decoderNames, nil)
	if requires, ok := p.text(item, "requires", path+".requires", false); ok {
		d.Requires, d.HasRequires = requires, true
		d.RequiresRegex = p.regex(item, "requires", path+".requires", requires)
	}
	d.Normalize = p.choice(item, "normalize", path+".normalize", normalizerNames, "none")
	p.text(item, "description", path+".description", false)
	if re.minWidth == 0 {
		p.fail(item, "pattern", path+".pattern", "can match the empty string")
	}
	if !p.flag(item, "enabled", path+".enabled") {
		return nil
	}
	d.Line = lineOf(entries, index)
	return d
}

func (p *ruleParser) validator(item *yvalue, path string, d *Detector, hasValidate bool) {
	options := orEmpty(item.get("options"))
	if !isMap(options) {
		p.fail(item, "options", path+".options", "must be a mapping")
	}
	if !hasValidate {
		if len(options.keys) > 0 {
			p.fail(item, "options", path+".options", "options need a validator ('validate')")
		}
		return
	}
	allowed := map[string][]string{"phone": {"idd_prefixes", "regions"}}[d.Validate]
	for _, key := range options.keys {
		if key.kind != yStr || !contains(allowed, key.s) {
			known := "none"
			if len(allowed) > 0 {
				known = strings.Join(allowed, ", ")
			}
			var lookup any = key.s
			p.fail(options, lookup, path+".options."+key.pyStr(), fmt.Sprintf("unknown option of %s (known: %s)", d.Validate, known))
		}
	}
	var err error
	d.validator, err = buildValidator(d, options)
	if err != nil {
		p.fail(item, "options", path+".options", err.Error())
	}
}

func (p *ruleParser) detectorPattern(item *yvalue, path string) string {
	if item.has("pattern") == item.has("patterns") {
		p.fail(item, "pattern", path+".pattern", "give exactly one of 'pattern' or 'patterns'")
	}
	if item.has("pattern") {
		pattern, _ := p.text(item, "pattern", path+".pattern", true)
		return pattern
	}
	patterns := item.get("patterns")
	if !isList(patterns) || len(patterns.vals) == 0 {
		p.fail(item, "patterns", path+".patterns", "must be a non-empty list of patterns")
	}
	var alternatives []string
	for index, source := range patterns.vals {
		if !isStr(source) || source.s == "" {
			p.fail(patterns, index, fmt.Sprintf("%s.patterns[%d]", path, index), "must be a non-empty string")
		}
		p.regex(patterns, index, fmt.Sprintf("%s.patterns[%d]", path, index), source.s)
		scoped := source.s
		if m := leadingFlagsRe.FindStringSubmatchIndex(source.s); m != nil {
			scoped = "(?" + source.s[m[2]:m[3]] + ":" + source.s[m[1]:] + ")"
		}
		alternatives = append(alternatives, "(?:"+scoped+")")
	}
	return strings.Join(alternatives, "|")
}

// -- RE2 portability screen (rules.check_re2_syntax) -------------------------------------------

var groupProblems = [][2]string{
	{"(?=", "lookahead"},
	{"(?!", "negative lookahead"},
	{"(?<=", "lookbehind"},
	{"(?<!", "negative lookbehind"},
	{"(?P=", "named backreference"},
	{"(?>", "atomic group"},
	{"(?#", "comment group"},
	{"(?(", "conditional group"},
	{"(?<", "(?<name>…) named group (write (?P<name>…))"},
}

var escapeProblems = map[rune]string{
	'Z': `\Z (Python only; RE2 has \z)`,
	'z': `\z (RE2 only; Python has \Z)`,
	'u': `\u escape (Python only; write the character or \xHH)`,
	'U': `\U escape (Python only)`,
	'N': `\N{…} escape (Python only)`,
	'p': `\p{…} class (RE2 only)`,
	'P': `\P{…} class (RE2 only)`,
	'Q': `\Q…\E quoting (RE2 only)`,
	'E': `\E (RE2 only)`,
	'C': `\C (RE2 only)`,
	'G': `\G`,
	'K': `\K`,
	'k': `\k backreference`,
	'g': `\g backreference`,
}

var (
	groupFlagsRe = regexp.MustCompile(`^\(\?([a-zA-Z-]*)[:)]`)
	repeatRe     = regexp.MustCompile(`^\{(\d*)(,?)(\d*)\}`)
)

// CheckRE2Syntax is rules.check_re2_syntax: why pattern is not portable, or "" if it is.
// Offsets are in characters (code points), as Python reports them.
func CheckRE2Syntax(pattern string) string {
	runes := []rune(pattern)
	index := 0
	inClass := false
	classStart := -1
	for index < len(runes) {
		char := runes[index]
		var token string
		tokenIn := inClass
		next := index + 1
		switch {
		case char == '\\':
			end := min(index+2, len(runes))
			token = string(runes[index:end])
			next = index + 2
		case inClass:
			if char == ']' && index > classStart+1 && !(index == classStart+2 && runes[classStart+1] == '^') {
				inClass = false
			}
			token = string(char)
			tokenIn = true
		default:
			if char == '[' {
				inClass = true
				classStart = index
			}
			token = string(char)
			tokenIn = false
		}
		if problem := tokenProblem(runes, index, token, tokenIn); problem != "" {
			return fmt.Sprintf("%s at offset %d", problem, index)
		}
		index = next
	}
	return ""
}

func runesFrom(runes []rune, start, end int) string {
	if start >= len(runes) {
		return ""
	}
	return string(runes[start:min(end, len(runes))])
}

func tokenProblem(runes []rune, index int, token string, inClass bool) string {
	if strings.HasPrefix(token, `\`) {
		return escapeProblem(runes, index, strings.TrimPrefix(token, `\`), inClass)
	}
	if inClass {
		next := runesFrom(runes, index+1, index+2)
		if token == "[" && (next == ":" || next == "=" || next == ".") {
			return "POSIX class [[:…:]] (RE2 only)"
		}
		return ""
	}
	switch token {
	case "(":
		return groupProblem(string(runes[index:]))
	case "*", "+":
		if index > 0 {
			escapedPrevious := index > 1 && runes[index-2] == '\\'
			nested := strings.ContainsRune("*+?}", runes[index-1]) && !escapedPrevious
			if nested {
				return "possessive or nested quantifier"
			}
		}
	case "{":
		return repeatProblem(string(runes[index:]))
	}
	return ""
}

func escapeProblem(runes []rune, index int, escaped string, inClass bool) string {
	if escaped == "" {
		return "trailing backslash"
	}
	r, _ := utf8.DecodeRuneInString(escaped)
	switch {
	case isPyDigit(escaped):
		if escaped == "0" || inClass {
			return "octal escape"
		}
		return "backreference"
	case escaped == "x" && runesFrom(runes, index+2, index+3) == "{":
		return `\x{…} escape (RE2 only; write \xHH or the character)`
	case escaped == "b" && inClass:
		return `\b inside a character class`
	}
	return escapeProblems[r]
}

func isPyDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r >= '0' && r <= '9' || (r >= utf8.RuneSelf && isUnicodeDigit(r))
}

func groupProblem(rest string) string {
	if !strings.HasPrefix(rest, "(?") || strings.HasPrefix(rest, "(?P<") {
		return ""
	}
	for _, gp := range groupProblems {
		if strings.HasPrefix(rest, gp[0]) {
			return gp[1]
		}
	}
	if m := groupFlagsRe.FindStringSubmatch(rest); m != nil {
		for _, c := range m[1] {
			if !strings.ContainsRune("ims-", c) {
				return fmt.Sprintf("inline flags %s (only i, m and s are portable)", pyStrRepr(m[1]))
			}
		}
	}
	return ""
}

func repeatProblem(rest string) string {
	m := repeatRe.FindStringSubmatch(rest)
	if m == nil {
		return ""
	}
	low, comma, high := m[1], m[2], m[3]
	if low == "" && comma != "" {
		return "{,n} repetition (Python only; write {0,n})"
	}
	for _, part := range []string{low, high} {
		if part == "" {
			continue
		}
		n, ok := new(big.Int).SetString(part, 10)
		if ok && n.Cmp(big.NewInt(maxRepeat)) > 0 {
			return fmt.Sprintf("repetition count above %d (RE2's limit)", maxRepeat)
		}
	}
	return ""
}
