package secretpath

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateSecretKey(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string // exact message; "" means valid
	}{
		{in: "DB_PASS", want: "DB_PASS"},
		{in: "  db-pass\n", want: "db-pass"},
		{in: "a.b", want: "a.b"},
		{in: "ключ", want: "ключ"},
		{in: strings.Repeat("K", 256), want: strings.Repeat("K", 256)},
		{in: strings.Repeat("é", 256), want: strings.Repeat("é", 256)},
		{in: strings.Repeat("K", 257), wantErr: msgKeyTooLong},
		{in: "", wantErr: msgKeyEmpty},
		{in: " \t\n", wantErr: msgKeyEmpty},
		{in: "\uFEFF", wantErr: msgKeyEmpty},
		{in: "a:b", wantErr: "Secret name cannot contain colon or forward slash."},
		{in: "a/b", wantErr: "Secret name cannot contain colon or forward slash."},
		{in: "/", wantErr: "Secret name cannot contain colon or forward slash."},
		{in: "A B", wantErr: msgKeyWhitespace},
		{in: "A\tB", wantErr: msgKeyWhitespace},
		{in: "A\u00a0B", wantErr: msgKeyWhitespace},
		{in: "A\u0085B", wantErr: msgKeyWhitespace},
		{in: "A\xffB", wantErr: msgKeyUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ValidateSecretKey(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ValidateSecretKey(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ke *KeyError
			if !errors.As(err, &ke) || err.Error() != tt.wantErr || ke.Key != tt.in {
				t.Fatalf("ValidateSecretKey(%q) = %q, %v; want *KeyError %q", tt.in, got, err, tt.wantErr)
			}
		})
	}
}

func TestNormalizeValue(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"abc", "abc"},
		{"  abc  ", "abc"},
		{"abc\n", "abc\n"},
		{"abc\n\n\n", "abc\n"},
		{"  abc \n", "abc\n"},
		{"abc\r\n", "abc\n"},
		{"abc\n ", "abc"},
		{"\n", "\n"},
		{"   \n", "\n"},
		{"line1\n  line2\n", "line1\n  line2\n"},
		{"\uFEFFabc", "abc"},
		{"abc\u0085", "abc\u0085"}, // JS trim keeps NEL; so must we
		{"\u00a0abc\u3000", "abc"},
	}
	for _, tt := range tests {
		if got := NormalizeValue(tt.in); got != tt.want {
			t.Errorf("NormalizeValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzValidateSecretKey(f *testing.F) {
	for _, s := range []string{"", "A", " A ", "a:b", "a/b", "a b", "\xff", strings.Repeat("k", 257)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ValidateSecretKey(in)
		if err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if got == "" || strings.ContainsAny(got, ":/") || utf8.RuneCountInString(got) > MaxSecretKeyLen {
			t.Fatalf("ValidateSecretKey(%q) accepted %q", in, got)
		}
		if again, err := ValidateSecretKey(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
	})
}

func FuzzNormalizeValue(f *testing.F) {
	for _, s := range []string{"", "\n", " a \n", "a\r\n", "\uFEFFa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := NormalizeValue(in)
		if again := NormalizeValue(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
		if strings.HasSuffix(in, "\n") != strings.HasSuffix(got, "\n") {
			t.Fatalf("trailing newline not preserved: %q -> %q", in, got)
		}
	})
}
