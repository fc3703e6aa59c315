package auditredactionprocessor

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/redact"
)

// Config is the configuration of the auditredaction processor.
//
//	processors:
//	  auditredaction:
//	    rules_file: /etc/otel-audit/redaction.yaml
//	    secret: ${env:OTEL_AUDIT_REDACTION_SECRET}
type Config struct {
	// RulesFile is the otel-audit redaction rule file (collector-config/redaction.yaml). Required.
	RulesFile string `mapstructure:"rules_file"`
	// Secret is the HMAC-SHA256 key of pseudonyms. Required when a rule pseudonymizes.
	Secret configopaque.String `mapstructure:"secret"`
}

// Validate loads and validates the rule file exactly as otel_audit.redact.rules does, and checks
// that a secret is given when a rule pseudonymizes.
func (cfg *Config) Validate() error {
	if cfg.RulesFile == "" {
		return errors.New("rules_file is required: the otel-audit redaction rule file (redaction.yaml)")
	}
	rules, err := redact.LoadRules(cfg.RulesFile)
	if err != nil {
		return err
	}
	if rules.NeedsSecret() && cfg.Secret == "" {
		return fmt.Errorf("the redaction rules in %s pseudonymize values, which needs a secret: set secret (e.g. ${env:OTEL_AUDIT_REDACTION_SECRET})", cfg.RulesFile)
	}
	return nil
}
