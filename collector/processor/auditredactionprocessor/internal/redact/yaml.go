package redact

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The rule file is read by PyYAML's SafeLoader (YAML 1.1) on the Python side: a bare NO is
// false, 010 is 8, 1_000 is 1000, 2024-05-17 is a date. go.yaml.in/yaml/v3 parses the document
// into nodes (with their lines); the plain scalars are then resolved with PyYAML's own implicit
// resolvers and constructors, so that both sides see the same values and refuse the same files.

type ykind int

const (
	yNull ykind = iota
	yBool
	yInt
	yFloat
	yStr
	yMap
	yList
	yOther // a timestamp or anything else that is not one of the above
)

type yvalue struct {
	kind  ykind
	b     bool
	i     *big.Int
	f     float64
	s     string
	keys  []*yvalue // yMap: keys in order
	vals  []*yvalue // yMap: values; yList: items
	lines []int     // yMap: line of each key; yList: line of each item
	line  int
	repr  string // the scalar as written (for messages)
}

func (v *yvalue) truthy() bool {
	switch v.kind {
	case yNull:
		return false
	case yBool:
		return v.b
	case yInt:
		return v.i.Sign() != 0
	case yFloat:
		return v.f != 0
	case yStr:
		return v.s != ""
	case yMap, yList:
		return len(v.vals) > 0
	}
	return true
}

// get returns the value of the string key (nil when absent).
func (v *yvalue) get(key string) *yvalue {
	for i, k := range v.keys {
		if k.kind == yStr && k.s == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *yvalue) has(key string) bool {
	for _, k := range v.keys {
		if k.kind == yStr && k.s == key {
			return true
		}
	}
	return false
}

// lineOf is rules.py's _line_of.
func lineOf(container *yvalue, key any) int {
	if container == nil {
		return 0
	}
	switch container.kind {
	case yMap:
		if name, ok := key.(string); ok {
			for i, k := range container.keys {
				if k.kind == yStr && k.s == name {
					return container.lines[i]
				}
			}
		}
		return container.line
	case yList:
		if index, ok := key.(int); ok && index >= 0 && index < len(container.lines) {
			return container.lines[index]
		}
	}
	return container.line
}

// pyRepr is Python's repr() of a loaded YAML value, for messages.
func (v *yvalue) pyRepr() string {
	if v == nil {
		return "None"
	}
	switch v.kind {
	case yNull:
		return "None"
	case yBool:
		if v.b {
			return "True"
		}
		return "False"
	case yInt:
		return v.i.String()
	case yFloat:
		return pyFloatRepr(v.f)
	case yStr:
		return pyStrRepr(v.s)
	case yMap:
		parts := make([]string, len(v.keys))
		for i := range v.keys {
			parts[i] = v.keys[i].pyRepr() + ": " + v.vals[i].pyRepr()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case yList:
		parts := make([]string, len(v.vals))
		for i := range v.vals {
			parts[i] = v.vals[i].pyRepr()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return v.repr
}

// pyStr is Python's str() of a key (for "path.key" in messages).
func (v *yvalue) pyStr() string {
	if v.kind == yStr {
		return v.s
	}
	return v.pyRepr()
}

type yamlError struct {
	line    int
	key     string
	message string
}

func (e *yamlError) Error() string { return e.message }

var (
	yBoolRe  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yNullRe  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yFloatRe = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yIntRe   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yTimeRe  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
)

// resolvePlain is PyYAML's implicit resolution of a plain scalar (first character decides which
// resolvers are tried, in the order they were registered).
func resolvePlain(text string) string {
	first := byte(0)
	if text != "" {
		first = text[0]
	}
	switch {
	case text == "":
		return "null"
	case strings.IndexByte("yYnNtTfFoO", first) >= 0 && yBoolRe.MatchString(text):
		return "bool"
	case strings.IndexByte("-+0123456789.", first) >= 0 && yFloatRe.MatchString(text):
		return "float"
	case strings.IndexByte("-+0123456789", first) >= 0 && yIntRe.MatchString(text):
		return "int"
	case first == '<' && text == "<<":
		return "merge"
	case strings.IndexByte("~nN", first) >= 0 && yNullRe.MatchString(text):
		return "null"
	case first >= '0' && first <= '9' && yTimeRe.MatchString(text):
		return "timestamp"
	case first == '=' && text == "=":
		return "value"
	}
	return "str"
}

func constructInt(text string) (*big.Int, bool) {
	value := strings.ReplaceAll(text, "_", "")
	sign := int64(1)
	if strings.HasPrefix(value, "-") {
		sign = -1
	}
	if value != "" && (value[0] == '-' || value[0] == '+') {
		value = value[1:]
	}
	n := new(big.Int)
	var ok bool
	switch {
	case value == "0":
		return n, true
	case strings.HasPrefix(value, "0b"):
		_, ok = n.SetString(value[2:], 2)
	case strings.HasPrefix(value, "0x"):
		_, ok = n.SetString(value[2:], 16)
	case strings.HasPrefix(value, "0"):
		_, ok = n.SetString(value, 8)
	case strings.Contains(value, ":"):
		digits := strings.Split(value, ":")
		base := big.NewInt(1)
		for i := len(digits) - 1; i >= 0; i-- {
			d, err := strconv.ParseInt(digits[i], 10, 64)
			if err != nil {
				return nil, false
			}
			n.Add(n, new(big.Int).Mul(big.NewInt(d), base))
			base.Mul(base, big.NewInt(60))
		}
		ok = true
	default:
		_, ok = n.SetString(value, 10)
	}
	if !ok {
		return nil, false
	}
	return n.Mul(n, big.NewInt(sign)), true
}

func constructFloat(text string) (float64, bool) {
	value := strings.ToLower(strings.ReplaceAll(text, "_", ""))
	sign := 1.0
	if strings.HasPrefix(value, "-") {
		sign = -1
	}
	if value != "" && (value[0] == '-' || value[0] == '+') {
		value = value[1:]
	}
	switch {
	case value == ".inf":
		return sign * math.Inf(1), true
	case value == ".nan":
		return math.NaN(), true
	case strings.Contains(value, ":"):
		parts := strings.Split(value, ":")
		total, base := 0.0, 1.0
		for i := len(parts) - 1; i >= 0; i-- {
			f, err := strconv.ParseFloat(parts[i], 64)
			if err != nil {
				return 0, false
			}
			total += f * base
			base *= 60
		}
		return sign * total, true
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return 0, false
	}
	return sign * f, true
}

// loadYAML parses text as PyYAML's SafeLoader would (with rules.py's duplicate-key check).
func loadYAML(text string) (*yvalue, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, &yamlError{line: yamlErrorLine(err), message: "not valid YAML: " + yamlErrorText(err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &yvalue{kind: yNull}, nil
	}
	return convertNode(doc.Content[0], 0)
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlErrorLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlErrorText(err error) string {
	text := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLineRe.ReplaceAllString(strings.TrimPrefix(text, "unmarshal errors:\n  "), "")
}

func convertNode(node *yaml.Node, depth int) (*yvalue, error) {
	if depth > 200 {
		return nil, &yamlError{line: node.Line, message: "not valid YAML: nested too deeply"}
	}
	if node.Kind == yaml.AliasNode {
		return convertNode(node.Alias, depth+1)
	}
	tag := node.Tag
	explicit := node.Style&yaml.TaggedStyle != 0
	switch node.Kind {
	case yaml.MappingNode:
		if explicit && tag != "!!map" {
			return nil, constructorError(node)
		}
		out := &yvalue{kind: yMap, line: node.Line}
		pairs, err := flattenMapping(node, depth)
		if err != nil {
			return nil, err
		}
		for _, pair := range pairs {
			key, err := convertNode(pair[0], depth+1)
			if err != nil {
				return nil, err
			}
			if key.kind == yMap || key.kind == yList {
				return nil, &yamlError{line: pair[0].Line, message: "not valid YAML: found unhashable key"}
			}
			for _, existing := range out.keys {
				if sameKey(existing, key) {
					return nil, &yamlError{line: pair[0].Line, key: key.pyStr(), message: "duplicate key"}
				}
			}
			value, err := convertNode(pair[1], depth+1)
			if err != nil {
				return nil, err
			}
			out.keys = append(out.keys, key)
			out.vals = append(out.vals, value)
			out.lines = append(out.lines, pair[0].Line)
		}
		return out, nil
	case yaml.SequenceNode:
		if explicit && tag != "!!seq" {
			return nil, constructorError(node)
		}
		out := &yvalue{kind: yList, line: node.Line}
		for _, child := range node.Content {
			value, err := convertNode(child, depth+1)
			if err != nil {
				return nil, err
			}
			out.vals = append(out.vals, value)
			out.lines = append(out.lines, child.Line)
		}
		return out, nil
	case yaml.ScalarNode:
		kind := "str"
		switch {
		case explicit:
			kind = strings.TrimPrefix(tag, "!!")
		case node.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
			kind = "str"
		default:
			kind = resolvePlain(node.Value)
		}
		value := &yvalue{line: node.Line, repr: node.Value}
		switch kind {
		case "str":
			value.kind, value.s = yStr, node.Value
		case "null":
			value.kind = yNull
		case "bool":
			value.kind = yBool
			switch strings.ToLower(node.Value) {
			case "yes", "true", "on":
				value.b = true
			case "no", "false", "off":
			default:
				return nil, constructorError(node)
			}
		case "int":
			n, ok := constructInt(node.Value)
			if !ok {
				return nil, &yamlError{line: node.Line, message: fmt.Sprintf("not valid YAML: invalid int %q", node.Value)}
			}
			value.kind, value.i = yInt, n
		case "float":
			f, ok := constructFloat(node.Value)
			if !ok {
				return nil, &yamlError{line: node.Line, message: fmt.Sprintf("not valid YAML: invalid float %q", node.Value)}
			}
			value.kind, value.f = yFloat, f
		case "timestamp", "binary", "set", "omap", "pairs":
			value.kind = yOther
		default:
			return nil, constructorError(node)
		}
		return value, nil
	}
	return nil, &yamlError{line: node.Line, message: "not valid YAML: unexpected node"}
}

func constructorError(node *yaml.Node) error {
	return &yamlError{line: node.Line, message: fmt.Sprintf("not valid YAML: could not determine a constructor for the tag %q", node.Tag)}
}

func sameKey(a, b *yvalue) bool {
	// Python dict keys: 1 == 1.0 == True; strings by value.
	an, aok := numericKey(a)
	bn, bok := numericKey(b)
	if aok && bok {
		return an == bn
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case yStr:
		return a.s == b.s
	case yNull:
		return true
	}
	return a.repr == b.repr
}

func numericKey(v *yvalue) (float64, bool) {
	switch v.kind {
	case yBool:
		if v.b {
			return 1, true
		}
		return 0, true
	case yInt:
		f, _ := new(big.Float).SetInt(v.i).Float64()
		return f, true
	case yFloat:
		return v.f, true
	}
	return 0, false
}

// flattenMapping resolves merge keys (<<) as PyYAML's flatten_mapping does.
func flattenMapping(node *yaml.Node, depth int) ([][2]*yaml.Node, error) {
	var merged, own [][2]*yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		isMerge := key.Kind == yaml.ScalarNode && key.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 &&
			key.Value == "<<" && (key.Style&yaml.TaggedStyle == 0 || key.Tag == "!!merge")
		if !isMerge {
			own = append(own, [2]*yaml.Node{key, value})
			continue
		}
		target := value
		if target.Kind == yaml.AliasNode {
			target = target.Alias
		}
		switch target.Kind {
		case yaml.MappingNode:
			pairs, err := flattenMapping(target, depth+1)
			if err != nil {
				return nil, err
			}
			merged = append(merged, pairs...)
		case yaml.SequenceNode:
			var all [][2]*yaml.Node
			for i := len(target.Content) - 1; i >= 0; i-- {
				sub := target.Content[i]
				if sub.Kind == yaml.AliasNode {
					sub = sub.Alias
				}
				if sub.Kind != yaml.MappingNode {
					return nil, &yamlError{line: sub.Line, message: "not valid YAML: expected a mapping for merging"}
				}
				pairs, err := flattenMapping(sub, depth+1)
				if err != nil {
					return nil, err
				}
				all = append(all, pairs...)
			}
			merged = append(merged, all...)
		default:
			return nil, &yamlError{line: value.Line, message: "not valid YAML: expected a mapping or list of mappings for merging"}
		}
	}
	return append(merged, own...), nil
}
