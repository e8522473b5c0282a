package permission

import (
	"errors"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern string
		value   string
		want    bool
	}{
		// "**" as a whole segment: any depth, including zero segments.
		{"/**", "/", true},
		{"/**", "", true},
		{"/**", "/a", true},
		{"/**", "/a/b/c", true},
		{"/a/**", "/a", true},
		{"/a/**", "/a/", true},
		{"/a/**", "/a/b", true},
		{"/a/**", "/a/b/c", true},
		{"/a/**", "/ab", false},
		{"/a/**", "/b/a", false},
		{"/a/**/z", "/a/z", true},
		{"/a/**/z", "/a/b/c/z", true},
		{"/a/**/z", "/a/b/c/y", false},
		{"/a/**/**/z", "/a/z", true},
		{"**", "/x/y", true},
		{"/**/secret", "/secret", true},
		{"/**/secret", "/deep/down/secret", true},
		{"/**/secret", "/deep/down/secrets", false},
		// "*" stays inside one segment and needs one.
		{"/a/*", "/a/b", true},
		{"/a/*", "/a/b/c", false},
		{"/a/*", "/a", false},
		{"/*", "/", false},
		{"/*", "/top", true},
		{"/a/*/c", "/a/b/c", true},
		{"/a/*/c", "/a/b/x/c", false},
		{"/app-*", "/app-web", true},
		{"/app-*", "/app-", true},
		{"/app-*", "/app", false},
		{"/*-svc/*", "/auth-svc/config", true},
		{"/a**b", "/axxb", true}, // "**" inside a segment is a plain star
		{"/a**b", "/ax/xb", false},
		{"*_KEY", "API_KEY", true},
		{"*_KEY", "API_KEYS", false},
		{"DB_*_URL", "DB_MAIN_URL", true},
		// "?" is one character, never a slash.
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/a/c", false},
		{"/?", "/é", true},
		{"/??", "/é", false},
		// Alternatives.
		{"/{dev,staging}/**", "/dev/x", true},
		{"/{dev,staging}/**", "/staging", true},
		{"/{dev,staging}/**", "/prod/x", false},
		{"/app/{a,b/c}", "/app/b/c", true},
		{"/app/{a,{b,c}}", "/app/c", true},
		{"/{a,}x", "/x", true},
		{"{/a,/b}/*", "/b/q", true},
		{"/{a}", "/{a}", true}, // no comma: literal braces
		{"/{a", "/{a", true},   // unbalanced: literal
		{"/x/{{a,b}}", "/x/{a}", true},
		// Character classes.
		{"/v[0-9]", "/v7", true},
		{"/v[0-9]", "/vx", false},
		{"/v[!0-9]", "/vx", true},
		{"/v[^0-9]", "/v1", false},
		{"/[]]", "/]", true},
		{"/[a-]", "/-", true},
		{"/[abc", "/[abc", true}, // no closing bracket: literal
		// Escapes.
		{`/a\*`, "/a*", true},
		{`/a\*`, "/ab", false},
		{`/a\?`, "/a?", true},
		{`/\{a,b\}`, "/{a,b}", true},
		{`/a\/b`, "/a/b", true},
		{`/tail\`, `/tail\`, true},
		// Non-strict slashes: trailing slash on either side ignored.
		{"/a/b/", "/a/b", true},
		{"/a/b", "/a/b/", true},
		{"/a/b//", "/a/b", true},
		{"/", "/", true},
		{"/", "", true},
		{"/", "/a", false},
		{"/a", "/A", false}, // case-sensitive
		// Literal patterns.
		{"/exact/path", "/exact/path", true},
		{"/exact/path", "/exact/path/more", false},
		{"a//b", "a//b", true},
		{"a//b", "a/b", false},
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.pattern)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", tt.pattern, err)
		}
		if got := g.Match(tt.value); got != tt.want {
			t.Errorf("glob %q match %q = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
}

func TestGlobErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
	}{
		{"too long", "/" + strings.Repeat("a", maxGlobLen)},
		{"too many alternatives", strings.Repeat("{a,b}", 9)}, // 512 > 256
		{"reversed range", "/[z-a]"},
		{"expansion too large", strings.Repeat("{,}", 8) + "/" + strings.Repeat("a", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileGlob(tt.pattern)
			var ge *GlobError
			if !errors.As(err, &ge) {
				t.Fatalf("CompileGlob(%q) error = %v, want *GlobError", tt.pattern, err)
			}
		})
	}
}

func TestEscapeGlobMatchesLiterally(t *testing.T) {
	values := []string{"plain", "*", "a,b", "{x,y}", `back\slash`, "[0-9]", "q?"}
	for _, v := range values {
		g, err := CompileGlob("/team/" + escapeGlob(v))
		if err != nil {
			t.Fatalf("CompileGlob for %q: %v", v, err)
		}
		if !g.Match("/team/" + v) {
			t.Errorf("escaped %q does not match itself", v)
		}
		if v != "plain" && g.Match("/team/plain") {
			t.Errorf("escaped %q still acts as a wildcard", v)
		}
	}
}

func TestGlobMatchDoesNotAllocate(t *testing.T) {
	g, err := CompileGlob("/{apps,services}/**/config/*-[0-9]?")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if !g.Match("/apps/a/b/config/db-1x/") {
			t.Fatal("no match")
		}
	})
	if allocs != 0 {
		t.Errorf("Match allocates %v times", allocs)
	}
}
