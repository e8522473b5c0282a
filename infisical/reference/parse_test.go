package reference

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []Ref
	}{
		{name: "empty", value: "", want: nil},
		{name: "no refs", value: "plain $ { } text", want: nil},
		{name: "local", value: "${KEY}", want: []Ref{{Start: 0, End: 6, Key: "KEY"}}},
		{name: "env root", value: "${dev.KEY2}", want: []Ref{{Start: 0, End: 11, Env: "dev", Path: "/", Key: "KEY2"}}},
		{name: "env folder", value: "${prod.frontend.KEY2}", want: []Ref{{Start: 0, End: 21, Env: "prod", Path: "/frontend", Key: "KEY2"}}},
		{name: "nested folders", value: "${env.a.b.KEY}", want: []Ref{{Start: 0, End: 14, Env: "env", Path: "/a/b", Key: "KEY"}}},
		{name: "allowed chars", value: "${my-env.f_1.my-KEY_2}", want: []Ref{{Start: 0, End: 22, Env: "my-env", Path: "/f_1", Key: "my-KEY_2"}}},
		{
			name:  "literal text around refs",
			value: "postgres://${DB_USER}:${dev.DB_PASS}@host",
			want: []Ref{
				{Start: 11, End: 21, Key: "DB_USER"},
				{Start: 22, End: 36, Env: "dev", Path: "/", Key: "DB_PASS"},
			},
		},
		{name: "adjacent", value: "${A}${B}", want: []Ref{{Start: 0, End: 4, Key: "A"}, {Start: 4, End: 8, Key: "B"}}},
		{name: "nested dollar", value: "${${A}}", want: []Ref{{Start: 2, End: 6, Key: "A"}}},
		{name: "double dollar", value: "$${A}", want: []Ref{{Start: 1, End: 5, Key: "A"}}},
		{name: "empty body", value: "${}", want: nil},
		{name: "unterminated", value: "${A", want: nil},
		{name: "unterminated then ref", value: "${A ${B}", want: []Ref{{Start: 4, End: 8, Key: "B"}}},
		{name: "space inside", value: "${A B}", want: nil},
		{name: "slash inside", value: "${a/b}", want: nil},
		{name: "unicode inside", value: "${ключ}", want: nil},
		{name: "empty middle segment", value: "${a..b}", want: nil},
		{name: "leading dot", value: "${.X}", want: nil},
		{name: "trailing dot", value: "${X.}", want: nil},
		{name: "only dot", value: "${.}", want: nil},
		{name: "invalid then valid", value: "${a..b}${C}", want: []Ref{{Start: 7, End: 11, Key: "C"}}},
		{name: "braces without dollar", value: "{A} $A", want: nil},
		{name: "closing brace later", value: "${A}}", want: []Ref{{Start: 0, End: 4, Key: "A"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.value)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.value, got, tt.want)
			}
			for _, r := range got {
				if r.Local() != (r.Env == "") || r.Local() != (r.Path == "") {
					t.Errorf("Ref %+v: Local/Env/Path inconsistent", r)
				}
			}
		})
	}
}

func TestParseLinear(t *testing.T) {
	// A hostile value of many unterminated openers must not be quadratic.
	v := strings.Repeat("${aaaaaaaa", 200_000)
	if refs := Parse(v); refs != nil {
		t.Fatalf("got %d refs, want none", len(refs))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "${A}", "x${dev.a.b.K}y", "${${A}}", "${a..b}", "${.}", "$${A}}", "${A ${B}", "${é}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		refs := Parse(value)
		prevEnd := 0
		for _, r := range refs {
			if r.Start < prevEnd || r.Start >= r.End || r.End > len(value) {
				t.Fatalf("Parse(%q): bad offsets %+v (previous end %d)", value, r, prevEnd)
			}
			prevEnd = r.End
			lit := value[r.Start:r.End]
			if !strings.HasPrefix(lit, "${") || !strings.HasSuffix(lit, "}") {
				t.Fatalf("Parse(%q): %q is not a ${...}", value, lit)
			}
			body := lit[2 : len(lit)-1]
			var rebuilt string
			switch {
			case r.Local():
				rebuilt = r.Key
			case r.Path == "/":
				rebuilt = r.Env + "." + r.Key
			default:
				rebuilt = r.Env + strings.ReplaceAll(r.Path, "/", ".") + "." + r.Key
			}
			if rebuilt != body || r.Key == "" || strings.Contains(r.Key, ".") {
				t.Fatalf("Parse(%q): %+v does not describe %q", value, r, body)
			}
		}
		// Re-parsing the literal of each ref must yield exactly that ref.
		for _, r := range refs {
			again := Parse(value[r.Start:r.End])
			if len(again) != 1 || again[0].End-again[0].Start != r.End-r.Start {
				t.Fatalf("Parse(%q) of its own literal = %+v", value[r.Start:r.End], again)
			}
		}
	})
}
