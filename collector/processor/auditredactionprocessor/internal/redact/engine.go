package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// The port of otel_audit/redact/engine.py: the value walk over pdata values. Values are
// rewritten in place; where Python builds a new container (a key renamed or an entry dropped)
// the map is rebuilt in the same order.

const (
	// RedactionPrefix is engine.REDACTION_ATTRIBUTE_PREFIX.
	RedactionPrefix = "audit.redaction."
	// RedactionCount is engine.REDACTION_COUNT.
	RedactionCount = "audit.redaction.count"
	// RedactionError is engine.REDACTION_ERROR.
	RedactionError = "audit.redaction.error"
	// RedactionOverBudget is engine.REDACTION_OVER_BUDGET.
	RedactionOverBudget = "audit.redaction.over_budget"
	// OutputLabel is semconv.AUDIT_OUTPUT_LABEL.
	OutputLabel = "audit.output.label"
	// BytesEnvelopeKey is engine.BYTES_ENVELOPE_KEY.
	BytesEnvelopeKey = "$bytes"
	// DefaultMaxDepth is engine.DEFAULT_MAX_DEPTH.
	DefaultMaxDepth = 64

	reservedCountName = "reserved"
	maxPasses         = 4
	intScanMin        = 10_000_000
	keyCacheSize      = 4096
)

// BudgetError is engine.RedactionBudgetError.
type BudgetError struct{ Limit int }

func (e *BudgetError) Error() string {
	return fmt.Sprintf("the record needs more than %d characters of text inspected", e.Limit)
}

// DepthError is engine.RedactionDepthError.
type DepthError struct{ MaxDepth int }

func (e *DepthError) Error() string {
	return fmt.Sprintf("value nested deeper than %d levels", e.MaxDepth)
}

// PythonName is the Python exception class a failure stands for (in the withheld body).
func PythonName(err error) string {
	var budget *BudgetError
	var depth *DepthError
	switch {
	case errors.As(err, &budget):
		return "RedactionBudgetError"
	case errors.As(err, &depth):
		return "RedactionDepthError"
	}
	return "InternalError"
}

// Budget is engine.ScanBudget: characters (code points) one record may make the redactor inspect.
type Budget struct {
	limit, remaining int
}

// NewBudget is Redactor.budget().
func (r *Redactor) NewBudget() *Budget { return &Budget{limit: r.maxChars, remaining: r.maxChars} }

func (b *Budget) charge(characters int) {
	b.remaining -= characters
	if b.remaining < 0 {
		panic(&BudgetError{Limit: b.limit})
	}
}

// chargePresent is chargeText with the bytes present in text known (ASCII: one byte, one character).
func (b *Budget) chargePresent(text string, present *textBytes) {
	if !present.nonASCII() {
		b.charge(len(text))
		return
	}
	b.charge(utf8.RuneCountInString(text))
}

func (b *Budget) chargeText(text string) {
	if len(text) <= b.remaining && pyuni.IsASCII(text) {
		b.remaining -= len(text)
		return
	}
	b.charge(utf8.RuneCountInString(text))
}

// Counts are the replacements made, by rule name, in the order names were first counted.
type Counts struct {
	Names  []string
	Values []int
	keys   []string // the attribute of each name, audit.redaction.<name> (made once per rule, not per record)

	nameBuf  [8]string
	keyBuf   [8]string
	valueBuf [8]int
}

// add counts n replacements by rule name, whose count attribute is key.
func (c *Counts) add(name, key string, n int) {
	if c.Names == nil {
		c.Names, c.keys, c.Values = c.nameBuf[:0], c.keyBuf[:0], c.valueBuf[:0]
	}
	for i, existing := range c.Names {
		if existing == name {
			c.Values[i] += n
			return
		}
	}
	c.Names = append(c.Names, name)
	c.keys = append(c.keys, key)
	c.Values = append(c.Values, n)
}

// Total is the sum of all counts.
func (c *Counts) Total() int {
	total := 0
	for _, v := range c.Values {
		total += v
	}
	return total
}

type compiledDetector struct {
	index     int
	name      string
	countKey  string // audit.redaction.<name>
	label     string
	re        *pyRegex
	validate  validator
	mask      string // "[TOKEN]" when the action is mask, "" for pseudonymize
	normalize func(string) string
	requires  *pyRegex
}

type detectorGroup struct {
	precheck *pyRegex
	members  []*compiledDetector
}

type decodingGroup struct {
	steps   []string
	members []*compiledDetector
}

// Redactor is engine.Redactor: applies one rule set; safe for concurrent use.
type Redactor struct {
	Rules           *Rules
	maxDepth        int
	maxChars        int
	pseudonymLength int
	allowKeys       map[string]bool
	keyRules        []*KeyRule
	normalizeKey    func(string) string
	hmacKey         []byte
	byIndex         []*compiledDetector
	groups          []detectorGroup
	decoding        []decodingGroup
	decodeSteps     []string
	nfkc            bool
	gate, plainGate gate

	walkers sync.Pool // *pooledWalker
}

// New is engine.Redactor(rules, secret=...). secret may be nil when no rule pseudonymizes.
func New(rules *Rules, secret []byte) (*Redactor, error) {
	r := &Redactor{
		Rules: rules, maxDepth: DefaultMaxDepth, maxChars: rules.MaxRecordChars,
		pseudonymLength: rules.PseudonymLength, allowKeys: rules.AllowKeys, keyRules: rules.KeyRules,
		normalizeKey: keyNormalizer(rules.KeyNormalization),
	}
	if secret == nil {
		if rules.NeedsSecret() {
			return nil, fmt.Errorf("the redaction rules in %s pseudonymize values, which needs a secret: set secret (OTEL_AUDIT_REDACTION_SECRET)", rules.Source)
		}
	} else {
		if len(secret) == 0 {
			return nil, errors.New("the redaction secret must not be empty")
		}
		r.hmacKey = append([]byte(nil), secret...)
	}
	groupIndex := map[string]int{}
	hasUngated := false
	decodingIndex := map[string]int{}
	for index, d := range rules.Detectors {
		c := &compiledDetector{
			index: index, name: d.Name, countKey: RedactionPrefix + d.Name, label: d.Token, re: d.Regex, validate: d.validator,
			normalize: normalizers[d.Normalize], requires: d.RequiresRegex,
		}
		if d.Action == "mask" {
			c.mask = "[" + d.Token + "]"
		}
		r.byIndex = append(r.byIndex, c)
		key := "\x00none"
		if d.HasRequires {
			key = d.Requires
		} else {
			hasUngated = true
		}
		gi, ok := groupIndex[key]
		if !ok {
			gi = len(r.groups)
			groupIndex[key] = gi
			r.groups = append(r.groups, detectorGroup{precheck: d.RequiresRegex})
		}
		r.groups[gi].members = append(r.groups[gi].members, c)
		if len(d.Decode) > 0 {
			stepsKey := strings.Join(d.Decode, "\x00")
			di, ok := decodingIndex[stepsKey]
			if !ok {
				di = len(r.decoding)
				decodingIndex[stepsKey] = di
				r.decoding = append(r.decoding, decodingGroup{steps: d.Decode})
			}
			r.decoding[di].members = append(r.decoding[di].members, c)
		}
	}
	seen := map[string]bool{}
	for _, group := range r.decoding {
		for _, step := range group.steps {
			if !seen[step] {
				seen[step] = true
				r.decodeSteps = append(r.decodeSteps, step)
			}
		}
	}
	r.nfkc = seen["nfkc"]
	if len(rules.Detectors) > 0 && !hasUngated {
		// The gates search their terms one at a time (each has the fast path of pyRegex), so a
		// requires pattern with leading global flags, which cannot be joined, is a gate term too.
		// The same searches, one term at a time (each has the fast path of pyRegex).
		for _, group := range r.groups {
			r.plainGate = append(r.plainGate, group.precheck)
		}
		r.gate = append(r.gate, r.plainGate...)
		if len(r.decoding) > 0 {
			r.gate = append(r.gate, triggerPercent, triggerHTML, triggerJSON)
		}
	}
	return r, nil
}

// gate is a disjunction of searches (nil: no gate).
type gate []*pyRegex

func (g gate) match(text string) bool {
	present := presentBytes(text)
	return g.matchPresent(text, &present)
}

// mayMatch reports whether a term may match a text whose bytes are present.
func (g gate) mayMatch(present *textBytes) bool {
	for _, term := range g {
		if term.mayMatch(present) {
			return true
		}
	}
	return false
}

// matchPresent is match with the bytes present in text already known.
func (g gate) matchPresent(text string, present *textBytes) bool {
	for _, term := range g {
		if term.mayMatch(present) && term.search(text) {
			return true
		}
	}
	return false
}

// Pseudonym is Redactor.pseudonym: [LABEL:hex] of value (already normalized).
func (r *Redactor) Pseudonym(label, value string) string {
	if r.hmacKey == nil {
		panic(errors.New("pseudonyms need a secret"))
	}
	mac := hmac.New(sha256.New, r.hmacKey)
	mac.Write([]byte(label))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	sum := hex.EncodeToString(mac.Sum(nil))
	return "[" + label + ":" + sum[:r.pseudonymLength] + "]"
}

// NormalizeKey is Redactor.normalize_key.
func (r *Redactor) NormalizeKey(key string) string { return r.normalizeKey(key) }

// -- the walk -------------------------------------------------------------------------------------

type walker struct {
	r      *Redactor
	counts *Counts
	budget *Budget
	// keys remembers what is known of the map keys seen: whether an attribute key is allowed, and
	// the rule of a clean key. It is the walker's own (walkers are pooled, one per goroutine at a
	// time), so a lookup takes no lock.
	keys    map[string]keyFacts
	join    []byte        // scratch buffer of joined list strings
	spans   [][2]int      // scratch buffer of candidate runs
	found   []found       // scratch buffer of find's result
	plans   []entryPlan   // stack of the entries that change, of the maps being walked
	changed []string      // the final keys of the changed entries of the last attributes walked
	repl    []replacement // scratch buffer of merged's result
	preBuf  [16]int8
	pre     []int8 // per group, for the text being scanned: its precheck matched (1), did not (2), unknown (0)
	digits  int    // ASCII digits in the text being scanned (-1: not counted yet)
}

// digitsIn counts the ASCII digits of text, the text being scanned, once.
func (w *walker) digitsIn(text string) int {
	if w.digits < 0 {
		w.digits = 0
		for i := 0; i < len(text); i++ {
			if isASCIIDigit(text[i]) {
				w.digits++
			}
		}
	}
	return w.digits
}

// resetPre forgets the prechecks (and the digit count) of the previous text.
func (w *walker) resetPre() {
	w.digits = -1
	if w.pre == nil {
		if len(w.r.groups) <= len(w.preBuf) {
			w.pre = w.preBuf[:len(w.r.groups)]
		} else {
			w.pre = make([]int8, len(w.r.groups))
		}
		return
	}
	clear(w.pre)
}

// precheck is the search of group i's precheck (not nil) in text, done once per text.
func (w *walker) precheck(i int, text string, present *textBytes) bool {
	if w.pre[i] == 0 {
		w.pre[i] = 2
		if w.r.groups[i].precheck.searchPresent(text, present) {
			w.pre[i] = 1
		}
	}
	return w.pre[i] == 1
}

// plainMatch is r.plainGate.match(text) (plainGate not nil), its searches remembered.
func (w *walker) plainMatch(text string, present *textBytes) bool {
	for i := range w.r.groups {
		if w.precheck(i, text, present) {
			return true
		}
	}
	return false
}

// gateMatch is r.gate.match(text) (gate not nil), its searches remembered.
func (w *walker) gateMatch(text string, present *textBytes) bool {
	if !w.r.gate.mayMatch(present) {
		return false // most texts end here: mask tests, no precheck or search call
	}
	if w.plainMatch(text, present) {
		return true
	}
	for _, term := range w.r.gate[len(w.r.plainGate):] {
		if term.searchPresent(text, present) {
			return true
		}
	}
	return false
}

func (r *Redactor) newWalker(counts *Counts, budget *Budget) *walker {
	return &walker{r: r, counts: counts, budget: budget}
}

// catch turns the walk's panics into errors (budget, depth, or anything else: fail closed).
func catch(err *error) {
	if rec := recover(); rec != nil {
		switch e := rec.(type) {
		case *BudgetError:
			*err = e
		case *DepthError:
			*err = e
		case error:
			*err = fmt.Errorf("internal error: %w", e)
		default:
			*err = fmt.Errorf("internal error: %v", e)
		}
	}
}

// ApplyValue is Redactor.apply(value, counts, budget): v is redacted in place.
func (r *Redactor) ApplyValue(v pcommon.Value, counts *Counts, budget *Budget) (err error) {
	defer catch(&err)
	r.newWalker(counts, budget).value(v, 0)
	return nil
}

// ApplyAttributes is Redactor.apply_attributes(attributes, counts, budget): m is redacted in
// place, in Python's order; changed lists the keys whose value or name changed.
func (r *Redactor) ApplyAttributes(m pcommon.Map, counts *Counts, budget *Budget) (changed map[string]bool, err error) {
	defer catch(&err)
	w := r.newWalker(counts, budget)
	if !w.mapping(m, 0, true) {
		return nil, nil
	}
	changed = make(map[string]bool, len(w.changed))
	for _, key := range w.changed {
		changed[key] = true
	}
	return changed, nil
}

// ApplyText is Redactor.redact_text on one string (counts added, budget charged).
func (r *Redactor) ApplyText(text string, counts *Counts, budget *Budget) (out string, changed bool, err error) {
	defer catch(&err)
	out, changed = r.newWalker(counts, budget).scan(text)
	return out, changed, nil
}

// value redacts v in place; it reports whether Python would return a new object.
func (w *walker) value(v pcommon.Value, depth int) bool {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		s, changed := w.scan(v.Str())
		if changed {
			v.SetStr(s)
		}
		return changed
	case pcommon.ValueTypeInt:
		return w.integer(v)
	case pcommon.ValueTypeMap:
		return w.mapping(v.Map(), depth+1, false)
	case pcommon.ValueTypeSlice:
		return w.sequence(v.Slice(), depth+1)
	case pcommon.ValueTypeBytes:
		raw := v.Bytes().AsRaw()
		if !utf8.Valid(raw) {
			return false
		}
		s, changed := w.scan(string(raw))
		if changed {
			v.SetStr(s)
		}
		return changed
	}
	return false
}

func (w *walker) integer(v pcommon.Value) bool {
	n := v.Int()
	if -intScanMin < n && n < intScanMin {
		return false
	}
	s, changed := w.scan(strconv.FormatInt(n, 10))
	if changed {
		v.SetStr(s)
	}
	return changed
}

type entryPlan struct {
	key     string
	value   pcommon.Value
	newKey  string
	drop    bool
	changed bool // the value (or the key) changed
	keyed   bool // the key changed
	setStr  bool // replace the value by str
	str     string
	pos     int
}

// mapping redacts m in place and reports whether anything changed. For attributes, w.changed
// then lists the final keys whose entry changed (value or name), for the log processor's
// attribute order.
func (w *walker) mapping(m pcommon.Map, depth int, attributes bool) bool {
	r := w.r
	if depth > r.maxDepth {
		panic(&DepthError{MaxDepth: r.maxDepth})
	}
	if !attributes && m.Len() == 1 {
		if encoded, ok := m.Get(BytesEnvelopeKey); ok && encoded.Type() == pcommon.ValueTypeStr {
			if changed, isEnvelope := w.bytesEnvelope(encoded); isEnvelope {
				return changed
			}
		}
	}
	base := len(w.plans) // the entries that change, in order, are pushed on w.plans
	defer func() { w.plans = w.plans[:base] }()
	structural := false
	index := 0
	m.Range(func(key string, value pcommon.Value) bool {
		plan := entryPlan{key: key, value: value, newKey: key, pos: index}
		index++
		facts, known := w.keys[key]
		if !known {
			facts = keyFacts{allowed: r.allowKeys[key]}
		}
		switch {
		case attributes && facts.allowed:
			if !known {
				w.remember(key, facts)
			}
			return true
		case attributes && strings.HasPrefix(key, RedactionPrefix):
			w.counts.add(reservedCountName, RedactionPrefix+reservedCountName, 1)
			plan.drop = true
		case attributes && key == OutputLabel && !isCategory(value):
			w.counts.add(labelCountName, RedactionPrefix+labelCountName, 1)
			plan.drop = true
		default:
			var rule *KeyRule
			if facts.ruled {
				rule = facts.rule
				w.budget.chargeText(key) // as uncached: the budget never depends on the cache
			} else {
				rule, plan.newKey, plan.keyed = w.key(key)
				if !plan.keyed {
					// Only clean keys are remembered: the cache must never hold personal data.
					facts.rule, facts.ruled = rule, true
					w.remember(key, facts)
				}
			}
			switch {
			case rule != nil:
				if rule.Action != "keep" {
					plan.changed = true
					w.counts.add(rule.Name, rule.countKey, 1)
					switch rule.Action {
					case "drop":
						plan.drop = true
					case "mask":
						plan.setStr, plan.str = true, "["+rule.Token+"]"
					default:
						canonical := ""
						if value.Type() == pcommon.ValueTypeStr {
							canonical = value.Str()
						} else {
							var b strings.Builder
							pyJSONDumps(&b, value)
							canonical = b.String()
						}
						plan.setStr, plan.str = true, r.Pseudonym(rule.Token, canonical)
					}
				}
			case value.Type() == pcommon.ValueTypeStr:
				if s, changed := w.scan(value.Str()); changed {
					plan.changed, plan.setStr, plan.str = true, true, s
				}
			default:
				plan.changed = w.value(value, depth)
			}
		}
		if plan.drop || plan.keyed {
			structural = true
		}
		if plan.drop || plan.keyed || plan.changed {
			w.plans = append(w.plans, plan)
		}
		return true
	})
	plans := w.plans[base:]
	if len(plans) == 0 {
		return false
	}
	// Only the attributes' caller reads the keys; a nested map only tells that it changed.
	if attributes {
		w.changed = w.changed[:0]
	}
	if !structural {
		for i := range plans {
			p := &plans[i]
			if p.setStr {
				p.value.SetStr(p.str)
			}
			if attributes {
				w.changed = append(w.changed, p.key)
			}
		}
		return true
	}
	// A key renamed or an entry dropped: rebuild the map in order, as Python builds `out`.
	rebuilt := pcommon.NewMap()
	rebuilt.EnsureCapacity(m.Len())
	next := 0
	index = 0
	m.Range(func(key string, value pcommon.Value) bool {
		var p *entryPlan
		if next < len(plans) && plans[next].pos == index {
			p = &plans[next]
			next++
		}
		index++
		if p != nil && p.drop {
			return true
		}
		newKey := key
		if p != nil {
			newKey = p.newKey
		}
		finalKey := newKey
		if _, taken := rebuilt.Get(finalKey); taken {
			finalKey = uniqueKey(finalKey, rebuilt)
		}
		dest := rebuilt.PutEmpty(finalKey)
		if p != nil && p.setStr {
			dest.SetStr(p.str)
		} else {
			value.MoveTo(dest)
		}
		if attributes && (p != nil || finalKey != key) {
			w.changed = append(w.changed, finalKey)
		}
		return true
	})
	rebuilt.MoveTo(m)
	return true
}

func uniqueKey(key string, taken pcommon.Map) string {
	for suffix := 2; ; suffix++ {
		candidate := key + "#" + strconv.Itoa(suffix)
		if _, ok := taken.Get(candidate); !ok {
			return candidate
		}
	}
}

// keyFacts is what the walker remembers of one map key.
type keyFacts struct {
	rule    *KeyRule // the key rule of the key (nil: none), when ruled
	allowed bool     // an attribute of this name is on the allow-list
	ruled   bool     // the key was matched against the key rules and found clean by the detectors
}

// remember stores facts of key (a clean key or an allowed name: never personal data), starting
// afresh when keyCacheSize keys are known.
func (w *walker) remember(key string, facts keyFacts) {
	if w.keys == nil || len(w.keys) >= keyCacheSize {
		w.keys = make(map[string]keyFacts, 64)
	}
	w.keys[key] = facts
}

// key is Redactor._key: the rule of a key the walker does not know (mapping looks there first and
// charges a known key) and the key scanned by the detectors.
func (w *walker) key(key string) (*KeyRule, string, bool) {
	r := w.r
	normalized := r.normalizeKey(key)
	var rule *KeyRule
	for _, candidate := range r.keyRules {
		if candidate.Regex.search(normalized) {
			rule = candidate
			break
		}
	}
	redacted, changed := w.scan(key)
	return rule, redacted, changed
}

// b64decodeValidate is base64.b64decode(s, validate=True) of Python 3.11: binascii.a2b_base64 in
// strict mode (no leading or discontinuous padding, no data after a complete pad; '=' after a
// complete quad is ignored).
func b64decodeValidate(s string) ([]byte, bool) {
	if s != "" && s[0] == '=' {
		return nil, false
	}
	data := make([]byte, 0, len(s))
	quad, pads := 0, 0
	padding := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			padding = true
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					if i+1 < len(s) {
						return nil, false // excess data after padding
					}
					break
				}
			}
			continue
		}
		if !(isASCIIAlnum(c) || c == '+' || c == '/') || padding {
			return nil, false
		}
		pads = 0
		data = append(data, c)
		quad = (quad + 1) % 4
	}
	if quad != 0 && !(padding && quad >= 2 && quad+pads >= 4) {
		return nil, false
	}
	out, err := base64.RawStdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, false
	}
	return out, true
}

// bytesEnvelope is Redactor._bytes_envelope: {"$bytes": base64} scanned as its UTF-8 text.
func (w *walker) bytesEnvelope(encoded pcommon.Value) (changed, isEnvelope bool) {
	raw, ok := b64decodeValidate(encoded.Str())
	if !ok || !utf8.Valid(raw) {
		return false, false
	}
	text := string(raw)
	redacted, changed := w.scan(text)
	if changed {
		encoded.SetStr(base64.StdEncoding.EncodeToString([]byte(redacted)))
	}
	return changed, true
}

// sequence is Redactor._sequence.
func (w *walker) sequence(s pcommon.Slice, depth int) bool {
	r := w.r
	if depth > r.maxDepth {
		panic(&DepthError{MaxDepth: r.maxDepth})
	}
	changed := false
	strs := 0
	for i := 0; i < s.Len(); i++ {
		item := s.At(i)
		if w.value(item, depth) {
			changed = true
		}
		if item.Type() == pcommon.ValueTypeStr {
			strs++
		}
	}
	if strs > 1 {
		w.join = w.join[:0]
		for i := 0; i < s.Len(); i++ {
			if item := s.At(i); item.Type() == pcommon.ValueTypeStr {
				w.join = append(w.join, item.Str()...)
			}
		}
		joined := unsafe.String(unsafe.SliceData(w.join), len(w.join))
		scanJoined := r.gate == nil || r.gate.match(joined) ||
			(r.nfkc && !pyuni.IsASCII(joined) && !pyuni.IsNFKC(joined))
		w.join = w.join[:0]
		if scanJoined && w.acrossItems(s) {
			changed = true
		}
	}
	return changed
}

// acrossItems is Redactor._across_items: runs of 2+ consecutive strings scanned joined.
func (w *walker) acrossItems(s pcommon.Slice) bool {
	changed := false
	count := s.Len()
	first := 0
	for first < count {
		if s.At(first).Type() != pcommon.ValueTypeStr {
			first++
			continue
		}
		last := first
		for last < count && s.At(last).Type() == pcommon.ValueTypeStr {
			last++
		}
		if last-first > 1 {
			parts := make([]string, last-first)
			for k := range parts {
				parts[k] = s.At(first + k).Str()
			}
			if out := w.joinRun(parts); out != nil {
				changed = true
				for k, part := range out {
					if part.changed {
						s.At(first + k).SetStr(part.text)
					}
				}
			}
		}
		first = last
	}
	return changed
}

// isFragment is engine._FRAGMENT.fullmatch: ASCII letters, digits, + ( ) only.
func isFragment(part string) bool {
	if part == "" {
		return false
	}
	for i := 0; i < len(part); i++ {
		c := part[i]
		if !(isASCIIAlnum(c) || c == '+' || c == '(' || c == ')') {
			return false
		}
	}
	return true
}

type joinedPart struct {
	text    string
	changed bool
}

// joinRun is Redactor._join_run.
func (w *walker) joinRun(parts []string) []joinedPart {
	r := w.r
	text := strings.Join(parts, "")
	present := presentBytes(text)
	w.budget.chargePresent(text, &present)
	w.resetPre()
	if r.plainGate != nil && !w.plainMatch(text, &present) && !(len(r.decoding) > 0 && needsDecodingPresent(text, r.decodeSteps, &present)) {
		return nil
	}
	ends := make([]int, len(parts))
	starts := make([]int, len(parts))
	total := 0
	for k, part := range parts {
		starts[k] = total
		total += len(part)
		ends[k] = total
	}
	var crossing []found
	for _, f := range w.findPresent(text, &present) {
		first := bisectRight(ends, f.start)
		last := bisectRight(ends, f.end-1)
		if first == last {
			continue
		}
		glued := false
		for k := first; k < last; k++ {
			before, _ := utf8.DecodeLastRuneInString(text[:ends[k]])
			after, _ := utf8.DecodeRuneInString(text[ends[k]:])
			if pyuni.IsDigit(before) && pyuni.IsDigit(after) {
				glued = true
				break
			}
		}
		if glued {
			fragments := true
			for k := first; k <= last; k++ {
				if !isFragment(parts[k]) {
					fragments = false
					break
				}
			}
			if !fragments {
				continue
			}
		}
		crossing = append(crossing, f)
	}
	if len(crossing) == 0 {
		return nil
	}
	pieces := make([][]string, len(parts))
	cursor := make([]int, len(parts))
	for _, m := range w.merged(text, crossing) {
		for k := bisectRight(ends, m.start); k <= bisectRight(ends, m.end-1); k++ {
			localStart := max(m.start, starts[k]) - starts[k]
			localEnd := min(m.end, ends[k]) - starts[k]
			pieces[k] = append(pieces[k], parts[k][cursor[k]:localStart], m.replacement)
			cursor[k] = localEnd
		}
	}
	out := make([]joinedPart, len(parts))
	for k := range parts {
		if pieces[k] == nil {
			out[k] = joinedPart{text: parts[k]}
			continue
		}
		out[k] = joinedPart{text: strings.Join(pieces[k], "") + parts[k][cursor[k]:], changed: true}
	}
	return out
}

// -- text -----------------------------------------------------------------------------------------

type found struct {
	start, index, end int
	value             string
	decoded           bool
}

// scan is Redactor._scan: the text with every accepted span replaced, and whether any was.
func (w *walker) scan(text string) (string, bool) {
	r := w.r
	present := presentBytes(text)
	w.budget.chargePresent(text, &present)
	w.resetPre()
	if r.gate != nil && !w.gateMatch(text, &present) && (!r.nfkc || !present.nonASCII() || pyuni.IsNFKC(text)) {
		return text, false
	}
	spans := w.findPresent(text, &present)
	if len(spans) == 0 {
		return text, false
	}
	redacted := w.replace(text, spans)
	for pass := 0; pass < maxPasses-1; pass++ {
		spans = w.find(redacted)
		if len(spans) == 0 {
			break
		}
		redacted = w.replace(redacted, spans)
	}
	return redacted, true
}

// find is Redactor._find, its text charged to the budget.
func (w *walker) find(text string) []found {
	present := presentBytes(text)
	w.budget.chargePresent(text, &present)
	w.resetPre()
	return w.findPresent(text, &present)
}

// findPresent is find with the bytes present in text known (and w.pre reset for text).
func (w *walker) findPresent(text string, present *textBytes) []found {
	r := w.r
	out := w.found[:0]
	defer func() { w.found = out[:0] }()
	plain := r.plainGate == nil || w.plainMatch(text, present)
	if plain {
		for gi, group := range r.groups {
			if group.precheck != nil && !w.precheck(gi, text, present) {
				continue
			}
			for _, d := range group.members {
				if len(text) < d.re.minWidth || !d.re.mayMatch(present) {
					continue
				}
				if d.re.minDigits > 1 && w.digitsIn(text) < d.re.minDigits {
					continue
				}
				w.spans = d.re.appendAll(w.spans[:0], text)
				for _, span := range w.spans {
					if d.validate == nil {
						out = append(out, found{start: span[0], index: d.index, end: span[1]})
						continue
					}
					for _, s := range d.validate(text, span[0], span[1]) {
						if s[1] > s[0] {
							out = append(out, found{start: s[0], index: d.index, end: s[1]})
						}
					}
				}
			}
		}
	}
	if len(r.decoding) == 0 || !needsDecodingPresent(text, r.decodeSteps, present) {
		return out
	}
	for _, group := range r.decoding {
		if len(r.decoding) > 1 && !needsDecodingPresent(text, group.steps, present) {
			continue
		}
		view := decodedViewOf(text, group.steps)
		if view == nil {
			continue
		}
		decoded := view.text
		w.budget.chargeText(decoded)
		for _, d := range group.members {
			if d.requires != nil && !d.requires.search(decoded) {
				continue
			}
			w.spans = d.re.appendAll(w.spans[:0], decoded)
			for _, span := range w.spans {
				spans := [][2]int{span}
				if d.validate != nil {
					spans = d.validate(decoded, span[0], span[1])
				}
				for _, s := range spans {
					if s[1] > s[0] {
						start, end := view.origin(s[0], s[1])
						out = append(out, found{start: start, index: d.index, end: end, value: decoded[s[0]:s[1]], decoded: true})
					}
				}
			}
		}
	}
	return out
}

type replacement struct {
	start, end  int
	replacement string
}

// merged is Redactor._merged: one replacement per run of overlapping spans, counted.
func (w *walker) merged(text string, spans []found) []replacement {
	slices.SortStableFunc(spans, func(a, b found) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.index != b.index {
			return a.index - b.index
		}
		return a.end - b.end
	})
	out := w.repl[:0]
	defer func() { w.repl = out[:0] }()
	for i := 0; i < len(spans); {
		f := spans[i]
		start, end := f.start, f.end
		i++
		extended := false
		for i < len(spans) && spans[i].start < end {
			if spans[i].end > end {
				end = spans[i].end
				extended = true
			}
			i++
		}
		d := w.r.byIndex[f.index]
		token := d.mask
		if token == "" {
			original := text[start:end]
			if f.decoded && !extended {
				original = f.value
			}
			token = w.r.Pseudonym(d.label, d.normalize(original))
		}
		w.counts.add(d.name, d.countKey, 1)
		out = append(out, replacement{start: start, end: end, replacement: token})
	}
	return out
}

func (w *walker) replace(text string, spans []found) string {
	var b strings.Builder
	b.Grow(len(text) + 16)
	last := 0
	for _, m := range w.merged(text, spans) {
		b.WriteString(text[last:m.start])
		b.WriteString(m.replacement)
		last = m.end
	}
	b.WriteString(text[last:])
	return b.String()
}
