package auditredactionprocessor

import (
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otel-audit/otel-audit/collector/processor/auditredactionprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   component.ID
		want Config
	}{
		{component.NewID(metadata.Type), Config{RulesFile: "../../../collector-config/redaction.yaml"}},
		{component.NewIDWithName(metadata.Type, "pseudonyms"), Config{RulesFile: "testdata/pseudonymize.yaml", Secret: "test-secret-of-at-least-16-bytes"}},
	} {
		cfg := NewFactory().CreateDefaultConfig()
		sub, err := cm.Sub(tc.id.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.Unmarshal(cfg); err != nil {
			t.Fatal(err)
		}
		if err := confmap.Validate(cfg); err != nil {
			t.Fatalf("%s: %v", tc.id, err)
		}
		if *cfg.(*Config) != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.id, cfg, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"shipped rules", Config{RulesFile: shippedRules}, ""},
		{"missing rules_file", Config{}, "rules_file is required"},
		{"unreadable", Config{RulesFile: "testdata/nope.yaml"}, "testdata/nope.yaml: cannot read the rule file"},
		{"lookahead", Config{RulesFile: "testdata/lookahead.yaml"}, "testdata/lookahead.yaml:4: detectors[0].pattern: not portable to RE2: lookahead at offset 1"},
		{"pseudonyms without secret", Config{RulesFile: "testdata/pseudonymize.yaml"}, "needs a secret"},
		{"pseudonyms with secret", Config{RulesFile: "testdata/pseudonymize.yaml", Secret: "test-secret-of-at-least-16-bytes"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
