package secretpath

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "", want: "/"},
		{in: "   ", want: "/"},
		{in: "/", want: "/"},
		{in: "//", want: "/"},
		{in: "/a", want: "/a"},
		{in: "a", want: "/a"},
		{in: "/a/", want: "/a"},
		{in: "/a/b/", want: "/a/b"},
		{in: "common/backend", want: "/common/backend"},
		{in: "  /a/b  ", want: "/a/b"},
		{in: "\t/a\n", want: "/a"},
		{in: "//a///b//", want: "/a/b"},
		{in: "/Service_1/env-vars", want: "/Service_1/env-vars"},
		{in: "/" + strings.Repeat("x", 64), want: "/" + strings.Repeat("x", 64)},
		{in: "/" + strings.Repeat("x", 65), wantErr: true},
		{in: "/.", wantErr: true},
		{in: "/..", wantErr: true},
		{in: "/a/../b", wantErr: true},
		{in: "./a", wantErr: true},
		{in: "/a.b", wantErr: true},
		{in: "/a b", wantErr: true},
		{in: "/a/ /b", wantErr: true},
		{in: `/a\b`, wantErr: true},
		{in: "/ä", wantErr: true},
		{in: "/a*", wantErr: true},
		{in: "/a\x00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.wantErr {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("Normalize(%q) = %q, %v; want *Error", tt.in, got, err)
				}
				if pe.Path != tt.in || !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
					t.Errorf("error %q does not carry path %q", err, tt.in)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidFolderName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"a", true},
		{"A-z_0-9", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{".", false},
		{"a.b", false},
		{"a/b", false},
		{"a b", false},
		{"é", false},
		{"a$", false},
	}
	for _, tt := range tests {
		if got := ValidFolderName(tt.name); got != tt.want {
			t.Errorf("ValidFolderName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		p    string
		want []string
	}{
		{"/", nil},
		{"", nil},
		{"/a", []string{"a"}},
		{"/a/b/c", []string{"a", "b", "c"}},
		{"a//b/", []string{"a", "b"}},
	}
	for _, tt := range tests {
		if got := Segments(tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("Segments(%q) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestJoinAndParent(t *testing.T) {
	tests := []struct {
		parent, name, joined string
	}{
		{"/", "a", "/a"},
		{"/a", "b", "/a/b"},
		{"/a/b", "c-d_e", "/a/b/c-d_e"},
	}
	for _, tt := range tests {
		if got := Join(tt.parent, tt.name); got != tt.joined {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.parent, tt.name, got, tt.joined)
		}
		p, n := Parent(tt.joined)
		if p != tt.parent || n != tt.name {
			t.Errorf("Parent(%q) = %q, %q; want %q, %q", tt.joined, p, n, tt.parent, tt.name)
		}
	}

	edge := []struct {
		fn   string
		got  [2]string
		want [2]string
	}{
		{"Join(/, \"\")", [2]string{Join("/", "")}, [2]string{"/"}},
		{"Join(/a, \"\")", [2]string{Join("/a", "")}, [2]string{"/a"}},
		{"Join(/a/, b)", [2]string{Join("/a/", "b")}, [2]string{"/a/b"}},
		{"Parent(/)", pair(Parent("/")), [2]string{"/", ""}},
		{"Parent(\"\")", pair(Parent("")), [2]string{"/", ""}},
		{"Parent(a)", pair(Parent("a")), [2]string{"/", "a"}},
		{"Parent(/a/b/)", pair(Parent("/a/b/")), [2]string{"/a", "b"}},
	}
	for _, tt := range edge {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.fn, tt.got, tt.want)
		}
	}
}

func pair(a, b string) [2]string { return [2]string{a, b} }

func TestIsWithin(t *testing.T) {
	tests := []struct {
		p, ancestor string
		want        bool
	}{
		{"/", "/", true},
		{"/a", "/", true},
		{"/a/b", "/", true},
		{"/a", "/a", true},
		{"/a/b", "/a", true},
		{"/a/b/c", "/a/b", true},
		{"/ab", "/a", false},
		{"/a", "/a/b", false},
		{"/", "/a", false},
		{"/b/a", "/a", false},
	}
	for _, tt := range tests {
		if got := IsWithin(tt.p, tt.ancestor); got != tt.want {
			t.Errorf("IsWithin(%q, %q) = %v, want %v", tt.p, tt.ancestor, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "/", "a", "/a/b/", "//a//b", " /x ", "/.", "/..", "a/./b", "\uFEFF/a", "/a b", "/" + strings.Repeat("z", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Normalize(in)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Normalize(%q): untyped error %v", in, err)
			}
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("Normalize(%q) = %q: no leading slash", in, got)
		}
		if got != "/" && strings.HasSuffix(got, "/") {
			t.Fatalf("Normalize(%q) = %q: trailing slash", in, got)
		}
		if strings.Contains(got, "//") {
			t.Fatalf("Normalize(%q) = %q: repeated slash", in, got)
		}
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		for _, seg := range Segments(got) {
			if !ValidFolderName(seg) {
				t.Fatalf("Normalize(%q) = %q: invalid segment %q", in, got, seg)
			}
		}
		// Segments and Join must rebuild the canonical path.
		rebuilt := Root
		for _, seg := range Segments(got) {
			rebuilt = Join(rebuilt, seg)
		}
		if rebuilt != got {
			t.Fatalf("Join(Segments(%q)) = %q", got, rebuilt)
		}
		if got != Root {
			parent, name := Parent(got)
			if Join(parent, name) != got || !IsWithin(got, parent) {
				t.Fatalf("Parent(%q) = %q, %q inconsistent", got, parent, name)
			}
		}
	})
}
