// Package metadata holds the component type, stability levels and internal telemetry of the
// auditredaction processor (hand-written equivalent of what mdatagen generates from metadata.yaml).
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type of the processor: "auditredaction".
	Type = component.MustNewType("auditredaction")
	// ScopeName is the instrumentation scope of the processor's own telemetry.
	ScopeName = "github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor"
)

const (
	// LogsStability is the stability of the logs pipeline support.
	LogsStability = component.StabilityLevelAlpha
	// TracesStability is the stability of the traces pipeline support.
	TracesStability = component.StabilityLevelAlpha
)
