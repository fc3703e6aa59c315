package redact

import (
	"regexp"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/pyuni"
)

// labels.py: what may stand as an output label (audit.output.label), never free text.

const labelCountName = "label"

// categoryRe is labels.CATEGORY_PATTERN (Python's Unicode \w and \d) anchored as fullmatch.
var categoryRe = regexp.MustCompile(`^(?:` + pyuni.CategoryPattern + `)\z`)

// isCategory is labels.is_category of the Python value v stands for.
func isCategory(v pcommon.Value) bool {
	switch v.Type() {
	case pcommon.ValueTypeBool:
		return true
	case pcommon.ValueTypeInt:
		n := v.Int()
		return n > -1000000 && n < 1000000
	case pcommon.ValueTypeStr:
		return categoryRe.MatchString(v.Str())
	}
	return false
}
