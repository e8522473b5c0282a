package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestRenderLimits checks that templates which would hang the agent or
// exhaust its memory fail with errRenderLimit, quickly, while templates of
// ordinary size just below the same limits still render.
func TestRenderLimits(t *testing.T) {
	ap := fakeInfisical(t)
	tests := []struct {
		name    string
		text    string
		limited bool
		wantLen int // rendered length when not limited
	}{
		{"range over a billion", `{{ range 1000000000 }}{{ end }}`, true, 0},
		{"nested loops", `{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}`, true, 0},
		{"huge until", `{{ until 2000000000 }}`, true, 0},
		{"huge repeat", `{{ repeat 1000000000 "x" }}`, true, 0},
		{"printf width", `{{ printf "%999999999d" 1 }}`, true, 0},
		{"doubling string", `{{ $x := "ab" }}{{ range until 64 }}{{ $x = cat $x $x }}{{ end }}{{ len $x }}`, true, 0},
		{"exponential list", `{{ $l := list 1 }}{{ range until 64 }}{{ $l = list $l $l }}{{ end }}{{ toJson $l }}`, true, 0},
		{"output flood", `{{ range until 1000000 }}{{ repeat 1000 "x" }}{{ end }}`, true, 0},
		{"replace amplifies", `{{ $x := repeat 1000 "x" }}{{ range until 8 }}{{ $x = replace "" $x $x }}{{ end }}{{ len $x }}`, true, 0},
		{"1 MiB output", `{{ range until 1024 }}{{ repeat 1024 "x" }}{{ end }}`, false, 1 << 20},
		{"100k iterations", `{{ range until 100000 }}{{ end }}ok`, false, 2},
		{"secrets", `{{ range listSecrets "p1" "dev" "/" }}{{ .Key }}{{ end }}`, false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &renderer{tpl: &Template{TemplateContent: tc.text}, name: "limits", api: ap,
				slugs: &slugCache{ids: map[string]string{}}, funcs: baseFuncs()}
			res, err := r.render(context.Background(), "token")
			if tc.limited {
				if !errors.Is(err, errRenderLimit) {
					t.Fatalf("render: got %v, want a render-limit error", err)
				}
				if !strings.Contains(err.Error(), "template exceeds the render limits") {
					t.Fatalf("error %q does not say which limit", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if tc.wantLen >= 0 && len(res.output) != tc.wantLen {
				t.Fatalf("rendered %d bytes, want %d", len(res.output), tc.wantLen)
			}
			if tc.wantLen < 0 && len(res.output) == 0 {
				t.Fatal("rendered nothing")
			}
		})
	}
}
