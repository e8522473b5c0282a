package infisical

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/infisical-go/engine/infisical/store"
)

func TestReadRowsCoalescesBursts(t *testing.T) {
	e := &Engine{cfg: Config{Now: time.Now}}
	e.cfg.Audit.RetentionDays = 1
	alice := Actor{Type: ActorIdentity, ID: "id-a", TokenID: "tok-a", OrgID: "org", IP: "10.0.0.1", UserAgent: "cli"}
	bob := Actor{Type: ActorIdentity, ID: "id-b", TokenID: "tok-b", OrgID: "org", IP: "10.0.0.2", UserAgent: "cli"}
	ev := func(key string) AuditEvent {
		return AuditEvent{Type: "get-secret", Metadata: map[string]any{"environment": "dev", "secretPath": "/", "secretKey": key}}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		batch  []queuedEvent
		counts map[string]int // "actor/key" -> count (0 = no count field)
	}{
		{
			name:   "small batch keeps every read",
			batch:  []queuedEvent{{actor: alice, ev: ev("A"), at: t0}, {actor: alice, ev: ev("A"), at: t0}},
			counts: map[string]int{"id-a/A#0": 0, "id-a/A#1": 0},
		},
		{
			name: "burst merges identical reads only",
			batch: func() []queuedEvent {
				var b []queuedEvent
				for i := 0; i < 70; i++ {
					b = append(b, queuedEvent{actor: alice, ev: ev("A"), at: t0.Add(time.Duration(i) * time.Millisecond)})
				}
				b = append(b, queuedEvent{actor: bob, ev: ev("A"), at: t0}, queuedEvent{actor: alice, ev: ev("B"), at: t0})
				return b
			}(),
			counts: map[string]int{"id-a/A#0": 70, "id-b/A#0": 0, "id-a/B#0": 0},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := e.readRows(context.Background(), store.Q{}, c.batch)
			seen := map[string]int{}
			got := map[string]int{}
			for _, r := range rows {
				var md map[string]any
				if err := json.Unmarshal([]byte(r.EventMetadata), &md); err != nil {
					t.Fatal(err)
				}
				base := *r.ActorID + "/" + md["secretKey"].(string)
				k := base + "#" + string(rune('0'+seen[base]))
				seen[base]++
				n, _ := md["count"].(float64)
				got[k] = int(n)
			}
			if len(got) != len(c.counts) {
				t.Fatalf("rows %v, want %v", got, c.counts)
			}
			for k, want := range c.counts {
				if g, ok := got[k]; !ok || g != want {
					t.Fatalf("%s: count %d (present %v), want %d; all %v", k, g, ok, want, got)
				}
			}
		})
	}
}
