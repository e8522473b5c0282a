package reference

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// forbidden stands in for the engine's permission error; Expand must hand it
// back so that errors.As finds it.
type forbidden struct{ scope Scope }

func (e *forbidden) Error() string { return "forbidden: " + e.scope.Env + e.scope.Path }

// fakeStore is an in-memory Fetcher that counts calls per scope.
type fakeStore struct {
	data   map[Scope]map[string]string
	denied map[Scope]bool
	calls  map[Scope]int
}

func newFakeStore(data map[Scope]map[string]string, denied ...Scope) *fakeStore {
	s := &fakeStore{data: data, denied: map[Scope]bool{}, calls: map[Scope]int{}}
	for _, d := range denied {
		s.denied[d] = true
	}
	return s
}

func (s *fakeStore) fetch(_ context.Context, scope Scope) (map[string]string, error) {
	s.calls[scope]++
	if s.denied[scope] {
		return nil, &forbidden{scope: scope}
	}
	return s.data[scope], nil // nil map for a missing folder, like a real store
}

var (
	devRoot = Scope{Env: "dev", Path: "/"}
	devApp  = Scope{Env: "dev", Path: "/app"}
	devAB   = Scope{Env: "dev", Path: "/a/b"}
	prod    = Scope{Env: "prod", Path: "/"}
)

func testData() map[Scope]map[string]string {
	return map[Scope]map[string]string{
		devRoot: {
			"USER":    "admin",
			"PASS":    "s3cret",
			"HOST":    "db.local",
			"URL":     "postgres://${USER}:${PASS}@${HOST}",
			"NESTED":  "[${URL}]",
			"SELF":    "x${SELF}y",
			"A":       "a(${B})",
			"B":       "b(${A})",
			"EMPTY":   "",
			"TO_APP":  "${dev.app.LOCAL_REF}",
			"DOLLARS": "$$ ${ not a ref } ${a..b}",
		},
		devApp: {
			"LOCAL":     "app-local",
			"LOCAL_REF": "<${LOCAL}>", // resolves in /app, not in the origin's folder
			"BACK":      "${dev.USER}",
		},
		devAB: {"KEY": "deep-${prod.P}"},
		prod:  {"P": "prod-value", "LOCAL": "prod-local"},
	}
}

func TestExpand(t *testing.T) {
	chain := map[Scope]map[string]string{devRoot: {}}
	for i := range 15 {
		chain[devRoot][fmt.Sprintf("C%d", i)] = fmt.Sprintf("%d${C%d}", i, i+1)
	}
	chain[devRoot]["C15"] = "end"

	tests := []struct {
		name   string
		data   map[Scope]map[string]string
		opts   Options
		origin Scope
		key    string
		value  string
		want   string
	}{
		{name: "no refs", origin: devRoot, key: "K", value: "plain", want: "plain"},
		{name: "local", origin: devRoot, key: "K", value: "${USER}", want: "admin"},
		{name: "literal text around", origin: devRoot, key: "K", value: "u=${USER}, p=${PASS}!", want: "u=admin, p=s3cret!"},
		{name: "nested", origin: devRoot, key: "K", value: "${NESTED}", want: "[postgres://admin:s3cret@db.local]"},
		{name: "cross env root", origin: devApp, key: "K", value: "${prod.P}", want: "prod-value"},
		{name: "cross folder", origin: prod, key: "K", value: "${dev.app.LOCAL}", want: "app-local"},
		{name: "deep folder then cross env", origin: devRoot, key: "K", value: "${dev.a.b.KEY}", want: "deep-prod-value"},
		{name: "local ref resolves in referenced scope", origin: prod, key: "K", value: "${dev.TO_APP}", want: "<app-local>"},
		{name: "local ref resolves in origin scope", origin: devApp, key: "K", value: "${LOCAL}", want: "app-local"},
		{name: "origin path normalised", origin: Scope{Env: "dev", Path: "app/"}, key: "K", value: "${LOCAL}", want: "app-local"},
		{name: "self cycle", origin: devRoot, key: "SELF", value: "x${SELF}y", want: "x${SELF}y"},
		{name: "self cycle via other secret", origin: devRoot, key: "K", value: "${SELF}", want: "x${SELF}y"},
		{name: "two-cycle from A", origin: devRoot, key: "A", value: "a(${B})", want: "a(b(${A}))"},
		{name: "two-cycle from outside", origin: devRoot, key: "K", value: "${A}", want: "a(b(${A}))"},
		{name: "cycle via explicit scope", origin: devApp, key: "BACK2", value: "${dev.app.BACK2}", want: "${dev.app.BACK2}"},
		{name: "missing key", origin: devRoot, key: "K", value: "x${NOPE}y", want: "x${NOPE}y"},
		{name: "missing folder", origin: devRoot, key: "K", value: "${dev.nope.USER}", want: "${dev.nope.USER}"},
		{name: "missing env", origin: devRoot, key: "K", value: "${qa.USER}", want: "${qa.USER}"},
		{name: "empty value substitutes", origin: devRoot, key: "K", value: "[${EMPTY}]", want: "[]"},
		{name: "not references stay", origin: devRoot, key: "K", value: "$$ ${ x } ${a..b} ${.A}", want: "$$ ${ x } ${a..b} ${.A}"},
		{name: "referenced literal text kept", origin: devRoot, key: "K", value: "${DOLLARS}", want: "$$ ${ not a ref } ${a..b}"},
		{name: "same ref twice", origin: devRoot, key: "K", value: "${USER}${USER}", want: "adminadmin"},
		{name: "default depth 10", data: chain, origin: devRoot, key: "K", value: "${C0}", want: "0123456789${C10}"},
		{name: "depth 1", data: chain, opts: Options{MaxDepth: 1}, origin: devRoot, key: "K", value: "${C0}", want: "0${C1}"},
		{name: "depth 3", data: chain, opts: Options{MaxDepth: 3}, origin: devRoot, key: "K", value: "<${C13}>", want: "<1314end>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data
			if data == nil {
				data = testData()
			}
			e := NewExpander(newFakeStore(data).fetch, tt.opts)
			got, err := e.Expand(context.Background(), tt.origin, tt.key, tt.value)
			if err != nil || got != tt.want {
				t.Fatalf("Expand(%q) = %q, %v; want %q", tt.value, got, err, tt.want)
			}
		})
	}
}

func TestExpandFetchErrors(t *testing.T) {
	tests := []struct {
		name      string
		value     string
		wantScope Scope
		wantKey   string
	}{
		{name: "direct", value: "${prod.P}", wantScope: prod, wantKey: "P"},
		{name: "through another secret", value: "${dev.a.b.KEY}", wantScope: prod, wantKey: "P"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewExpander(newFakeStore(testData(), prod).fetch, Options{})
			got, err := e.Expand(context.Background(), devRoot, "K", tt.value)
			var perm *forbidden
			if !errors.As(err, &perm) || perm.scope != tt.wantScope {
				t.Fatalf("Expand = %q, %v; want the fetcher's *forbidden for %v", got, err, tt.wantScope)
			}
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Scope != tt.wantScope || fe.Key != tt.wantKey {
				t.Fatalf("want *FetchError{%v, %q}, got %v", tt.wantScope, tt.wantKey, err)
			}
			for _, s := range []string{tt.wantKey, tt.wantScope.Env, tt.wantScope.Path} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "deep-") || strings.Contains(err.Error(), "prod-value") {
				t.Errorf("error %q leaks a secret value", err)
			}
		})
	}

	// A denied scope that is never reached does not fail the expansion.
	e := NewExpander(newFakeStore(testData(), prod).fetch, Options{})
	if got, err := e.Expand(context.Background(), devRoot, "K", "${USER}"); err != nil || got != "admin" {
		t.Fatalf("Expand = %q, %v", got, err)
	}
}

func TestExpandCachesFetches(t *testing.T) {
	store := newFakeStore(testData())
	e := NewExpander(store.fetch, Options{})
	ctx := context.Background()
	for _, v := range []string{"${URL}", "${NESTED}", "${prod.P}${prod.LOCAL}", "${dev.a.b.KEY}", "${dev.nope.X}", "${dev.nope.Y}"} {
		if _, err := e.Expand(ctx, devRoot, "K", v); err != nil {
			t.Fatal(err)
		}
	}
	want := map[Scope]int{devRoot: 1, prod: 1, devAB: 1, {Env: "dev", Path: "/nope"}: 1}
	for s, n := range want {
		if store.calls[s] != n {
			t.Errorf("scope %v fetched %d times, want %d", s, store.calls[s], n)
		}
	}
	if len(store.calls) != len(want) {
		t.Errorf("fetched scopes %v, want %v", store.calls, want)
	}

	// Errors are remembered too: one denied scope costs one call.
	denied := newFakeStore(testData(), prod)
	e = NewExpander(denied.fetch, Options{})
	for range 3 {
		if _, err := e.Expand(ctx, devRoot, "K", "${prod.P}"); err == nil {
			t.Fatal("want error")
		}
	}
	if denied.calls[prod] != 1 {
		t.Errorf("denied scope fetched %d times, want 1", denied.calls[prod])
	}

	// Nothing is fetched for references beyond the depth limit or cycles.
	store = newFakeStore(testData())
	e = NewExpander(store.fetch, Options{MaxDepth: 1})
	if got, err := e.Expand(ctx, devRoot, "SELF", "${SELF}${dev.a.b.KEY}"); err != nil || got != "${SELF}deep-${prod.P}" {
		t.Fatalf("Expand = %q, %v", got, err)
	}
	if store.calls[prod] != 0 || store.calls[devRoot] != 0 {
		t.Errorf("unexpected fetches %v", store.calls)
	}
}

func TestExpandLimits(t *testing.T) {
	// "Billion laughs": each level references the next ten times.
	laughs := map[string]string{"L0": "lol"}
	for i := 1; i <= 8; i++ {
		laughs[fmt.Sprintf("L%d", i)] = strings.Repeat(fmt.Sprintf("${L%d}", i-1), 10)
	}
	// Fan-out with no output: bounded only by MaxRefs.
	silent := map[string]string{"S0": ""}
	for i := 1; i <= 9; i++ {
		silent[fmt.Sprintf("S%d", i)] = strings.Repeat(fmt.Sprintf("${S%d}", i-1), 10)
	}
	data := map[Scope]map[string]string{devRoot: {}}
	for k, v := range laughs {
		data[devRoot][k] = v
	}
	for k, v := range silent {
		data[devRoot][k] = v
	}
	data[devRoot]["BIG"] = strings.Repeat("x", 100)

	tests := []struct {
		name    string
		opts    Options
		value   string
		wantErr error
	}{
		{name: "billion laughs", opts: Options{MaxRefs: 1_000_000}, value: "${L8}", wantErr: ErrTooLarge},
		{name: "billion laughs, default limits", value: "${L8}", wantErr: ErrTooManyRefs},
		{name: "small limit", opts: Options{MaxOutput: 150}, value: "${BIG}${BIG}", wantErr: ErrTooLarge},
		{name: "literal over limit", opts: Options{MaxOutput: 10}, value: strings.Repeat("y", 11), wantErr: ErrTooLarge},
		{name: "trailing literal over limit", opts: Options{MaxOutput: 101}, value: "${BIG}zz", wantErr: ErrTooLarge},
		{name: "at limit", opts: Options{MaxOutput: 200}, value: "${BIG}${BIG}"},
		{name: "silent fan-out", value: "${S9}", wantErr: ErrTooManyRefs},
		{name: "fan-out within MaxRefs", opts: Options{MaxRefs: 1_111}, value: "${S3}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewExpander(newFakeStore(data).fetch, tt.opts)
			got, err := e.Expand(context.Background(), devRoot, "K", tt.value)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Expand = %d bytes, %v; want %v", len(got), err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), `"K"`) {
				t.Errorf("error %q does not name the expanded secret", err)
			}
		})
	}
}

func TestExpandContext(t *testing.T) {
	store := newFakeStore(testData())
	e := NewExpander(store.fetch, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Expand(ctx, devRoot, "K", "${USER}"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if store.calls[devRoot] != 0 {
		t.Fatalf("fetched after cancellation")
	}
	// The cancellation was not cached as the scope's answer.
	if got, err := e.Expand(context.Background(), devRoot, "K", "${USER}"); err != nil || got != "admin" {
		t.Fatalf("Expand after cancel = %q, %v", got, err)
	}
}

func TestExpandBadOrigin(t *testing.T) {
	e := NewExpander(newFakeStore(testData()).fetch, Options{})
	if _, err := e.Expand(context.Background(), Scope{Env: "dev", Path: "/../x"}, "K", "${USER}"); err == nil {
		t.Fatal("want error for a non-normalisable origin path")
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "${USER}", "${A}${SELF}", "${dev.a.b.KEY}", "${${URL}}", "${prod.P}x${qa.Q}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		data := testData()
		data[devRoot]["FUZZ"] = value // lets the input reference itself
		e := NewExpander(newFakeStore(data).fetch, Options{MaxOutput: 1 << 16, MaxRefs: 1000})
		got, err := e.Expand(context.Background(), devRoot, "FUZZ", value)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooManyRefs) {
				t.Fatalf("Expand(%q): %v", value, err)
			}
			return
		}
		if len(got) > 1<<16 {
			t.Fatalf("output of %d bytes exceeds the limit", len(got))
		}
		if len(Parse(value)) == 0 && got != value {
			t.Fatalf("Expand(%q) = %q without references", value, got)
		}
	})
}
