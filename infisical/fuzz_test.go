package infisical_test

import (
	"strings"
	"testing"

	"github.com/infisical-go/engine/infisical"
)

// FuzzParseAuditMetadataFilter checks the eventMetadata query parameter of
// the audit log ("k1=v1,k2=v2"). Properties: no panic; a refusal is a 422
// naming eventMetadata; at most 20 pairs, each key of letters, digits,
// '_', '-' or '.', keys and values trimmed and free of ','; pairs written
// in the documented form parse back to themselves.
func FuzzParseAuditMetadataFilter(f *testing.F) {
	for _, s := range []string{"a=1", "a=1, b = x=y", "a=1,b", "", " ", ",", "a=", "=v", "k.e-y_1=v", "a=1,,b=2",
		strings.Repeat("k=v,", 21) + "k=v", "\u00e9=1", "a=\x00"} {
		f.Add(s, "key", "value")
	}
	f.Fuzz(func(t *testing.T, raw, k, v string) {
		out, err := infisical.ParseAuditMetadataFilter(raw)
		if err != nil {
			if infisical.KindOf(err) != infisical.KindValidation || !strings.Contains(err.Error(), "eventMetadata") {
				t.Fatalf("refusal %v", err)
			}
		} else {
			if len(out) > 20 {
				t.Fatalf("%d pairs accepted", len(out))
			}
			for _, m := range out {
				if m.Key == "" || len(m.Key) > 64 || strings.Trim(m.Key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" ||
					m.Value != strings.TrimSpace(m.Value) || strings.Contains(m.Value, ",") {
					t.Fatalf("pair %+v accepted from %q", m, raw)
				}
			}
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" || len(k) > 64 || strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" || strings.Contains(v, ",") {
			return
		}
		got, err := infisical.ParseAuditMetadataFilter(k + "=" + v + "," + k + "2=" + v)
		if err != nil || len(got) != 2 || got[0].Key != k || got[0].Value != v || got[1].Key != k+"2" || got[1].Value != v {
			t.Fatalf("%s=%s parsed as %+v, %v", k, v, got, err)
		}
	})
}
