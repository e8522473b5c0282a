// Package scanner is `infisical scan`: secret detection over git history,
// staged or unstaged changes, directories or stdin, on the gitleaks
// library (github.com/zricethezav/gitleaks/v8), with Infisical's
// configuration file (.infisical-scan.toml), .infisicalignore fingerprints,
// inline `infisical-scan:ignore` comments and baselines.
//
// The configuration is parsed here rather than by gitleaks' viper-based
// loader, which keeps process-wide state (a global viper instance and an
// extend-depth counter that is never reset): a program that scans twice,
// or scans in parallel, gets the same result every time.
package scanner

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/regexp"
)

// Names Infisical's CLI uses for the scan configuration.
const (
	// ConfigFileName is looked up in the scanned source directory.
	ConfigFileName = ".infisical-scan.toml"
	// ConfigEnv names a config file when --config is not given.
	ConfigEnv = "INFISICAL_SCAN_CONFIG"
	// IgnoreFileName holds finding fingerprints to skip, one per line.
	IgnoreFileName = ".infisicalignore"
)

// maxExtendDepth is how many [extend] links are followed (as Infisical and
// gitleaks document).
const maxExtendDepth = 2

// fileConfig is the TOML of .infisical-scan.toml (gitleaks' format; keys
// match case-insensitively, as with gitleaks' loader).
type fileConfig struct {
	Title       string `toml:"title"`
	Description string `toml:"description"`
	MinVersion  string `toml:"minVersion"`
	Extend      struct {
		Path          string   `toml:"path"`
		URL           string   `toml:"url"`
		UseDefault    bool     `toml:"useDefault"`
		DisabledRules []string `toml:"disabledRules"`
	} `toml:"extend"`
	Rules []fileRule `toml:"rules"`
	// Allowlist is the documented [allowlist] table; Allowlists the
	// newer [[allowlists]] array. Both may appear in extended files.
	Allowlist  *fileAllowlist  `toml:"allowlist"`
	Allowlists []fileAllowlist `toml:"allowlists"`
}

type fileRule struct {
	ID          string          `toml:"id"`
	Description string          `toml:"description"`
	Path        string          `toml:"path"`
	Regex       string          `toml:"regex"`
	SecretGroup int             `toml:"secretGroup"`
	Entropy     float64         `toml:"entropy"`
	Keywords    []string        `toml:"keywords"`
	Tags        []string        `toml:"tags"`
	SkipReport  bool            `toml:"skipReport"`
	Allowlist   *fileAllowlist  `toml:"allowlist"`
	Allowlists  []fileAllowlist `toml:"allowlists"`
	Required    []struct {
		ID            string `toml:"id"`
		WithinLines   *int   `toml:"withinLines"`
		WithinColumns *int   `toml:"withinColumns"`
	} `toml:"required"`
}

type fileAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	StopWords   []string `toml:"stopwords"`
	TargetRules []string `toml:"targetRules"`
}

// ConfigError is a configuration problem, naming the file and the key.
type ConfigError struct {
	Path  string // "" for the built-in default
	Field string
	Err   error
}

func (e *ConfigError) Error() string {
	where := e.Path
	if where == "" {
		where = "default config"
	}
	if e.Field == "" {
		return fmt.Sprintf("scan config %s: %v", where, e.Err)
	}
	return fmt.Sprintf("scan config %s: %s: %v", where, e.Field, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// defaultConfig is the built-in rule set (gitleaks' default rules, which
// Infisical's default config is derived from), parsed once per process:
// parsing compiles a few hundred regular expressions.
// (Assigned in init: parse itself refers to it, for [extend] useDefault.)
var defaultConfig func() (config.Config, error)

func init() {
	defaultConfig = sync.OnceValues(func() (config.Config, error) {
		return parse([]byte(config.DefaultConfig), "", 0)
	})
}

// DefaultConfig returns the built-in configuration.
func DefaultConfig() (config.Config, error) {
	c, err := defaultConfig()
	if err != nil {
		return config.Config{}, err
	}
	return clone(c), nil
}

// LoadConfig reads an Infisical scan configuration file, following its
// [extend] section (useDefault or path, up to depth 2).
func LoadConfig(path string) (config.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return config.Config{}, &ConfigError{Path: path, Err: err}
	}
	c, err := parse(raw, path, 0)
	if err != nil {
		return config.Config{}, err
	}
	c.Path = path
	return c, nil
}

// ResolveConfigPath applies Infisical's precedence: the --config flag, then
// INFISICAL_SCAN_CONFIG, then <source>/.infisical-scan.toml when source is
// a directory holding one; "" means the built-in default.
func ResolveConfigPath(flag, env, source string) string {
	if flag != "" {
		return flag
	}
	if env != "" {
		return env
	}
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		p := strings.TrimRight(source, "/") + "/" + ConfigFileName
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// clone copies the parts of a Config that extend or target-rule handling
// mutate, so the shared default stays untouched.
func clone(c config.Config) config.Config {
	out := c
	out.Rules = make(map[string]config.Rule, len(c.Rules))
	for k, r := range c.Rules {
		r.Tags = append([]string(nil), r.Tags...)
		r.Keywords = append([]string(nil), r.Keywords...)
		r.Allowlists = append([]*config.Allowlist(nil), r.Allowlists...)
		out.Rules[k] = r
	}
	out.Keywords = make(map[string]struct{}, len(c.Keywords))
	for k := range c.Keywords {
		out.Keywords[k] = struct{}{}
	}
	out.OrderedRules = append([]string(nil), c.OrderedRules...)
	out.Allowlists = append([]*config.Allowlist(nil), c.Allowlists...)
	return out
}

// parse translates one file (and what it extends) into a gitleaks Config.
func parse(raw []byte, path string, depth int) (config.Config, error) {
	var fc fileConfig
	if err := decodeTOML(raw, &fc); err != nil {
		return config.Config{}, &ConfigError{Path: path, Err: err}
	}
	fail := func(field string, err error) (config.Config, error) {
		return config.Config{}, &ConfigError{Path: path, Field: field, Err: err}
	}
	c := config.Config{
		Title:       fc.Title,
		Description: fc.Description,
		MinVersion:  fc.MinVersion,
		Path:        path,
		Extend: config.Extend{Path: fc.Extend.Path, URL: fc.Extend.URL, UseDefault: fc.Extend.UseDefault,
			DisabledRules: fc.Extend.DisabledRules},
		Rules:    map[string]config.Rule{},
		Keywords: map[string]struct{}{},
	}
	targeted := map[string][]*config.Allowlist{}
	for i, fr := range fc.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		if strings.TrimSpace(fr.ID) == "" {
			return fail(field+".id", errors.New("is missing or empty"))
		}
		field = fmt.Sprintf("rules[%d] (%s)", i, fr.ID)
		if _, dup := c.Rules[fr.ID]; dup {
			return fail(field+".id", errors.New("is used by another rule"))
		}
		r := config.Rule{RuleID: fr.ID, Description: fr.Description, SecretGroup: fr.SecretGroup,
			Entropy: fr.Entropy, SkipReport: fr.SkipReport, Tags: append([]string{}, fr.Tags...)}
		var err error
		if fr.Regex != "" {
			if r.Regex, err = compileRegex(fr.Regex); err != nil {
				return fail(field+".regex", err)
			}
		}
		if fr.Path != "" {
			if r.Path, err = compileRegex(fr.Path); err != nil {
				return fail(field+".path", err)
			}
		}
		r.Keywords = make([]string, 0, len(fr.Keywords))
		for _, k := range fr.Keywords {
			k = strings.ToLower(k)
			r.Keywords = append(r.Keywords, k)
			c.Keywords[k] = struct{}{}
		}
		if fr.Allowlist != nil {
			if len(fr.Allowlists) > 0 {
				return fail(field, errors.New("[rules.allowlist] cannot be used alongside [[rules.allowlists]]"))
			}
			fr.Allowlists = append(fr.Allowlists, *fr.Allowlist)
		}
		for j, fa := range fr.Allowlists {
			a, err := translateAllowlist(fa)
			if err != nil {
				return fail(fmt.Sprintf("%s.allowlists[%d]", field, j), err)
			}
			r.Allowlists = append(r.Allowlists, a)
		}
		for _, rq := range fr.Required {
			if rq.ID == "" {
				return fail(field+".required", errors.New("rule id is empty"))
			}
			r.RequiredRules = append(r.RequiredRules, &config.Required{RuleID: rq.ID, WithinLines: rq.WithinLines, WithinColumns: rq.WithinColumns})
		}
		c.Rules[r.RuleID] = r
		c.OrderedRules = append(c.OrderedRules, r.RuleID)
	}
	if fc.Allowlist != nil {
		fc.Allowlists = append([]fileAllowlist{*fc.Allowlist}, fc.Allowlists...)
	}
	for i, fa := range fc.Allowlists {
		a, err := translateAllowlist(fa)
		if err != nil {
			return fail(fmt.Sprintf("allowlists[%d]", i), err)
		}
		if len(fa.TargetRules) > 0 {
			for _, id := range fa.TargetRules {
				targeted[id] = append(targeted[id], a)
			}
			continue
		}
		c.Allowlists = append(c.Allowlists, a)
	}

	if depth < maxExtendDepth {
		if fc.Extend.UseDefault && fc.Extend.Path != "" {
			return fail("extend", errors.New("useDefault and path cannot both be set"))
		}
		switch {
		case fc.Extend.UseDefault:
			base, err := defaultConfig()
			if err != nil {
				return config.Config{}, err
			}
			extend(&c, clone(base))
		case fc.Extend.Path != "":
			// Relative to where the command runs, as Infisical documents.
			raw, err := os.ReadFile(fc.Extend.Path)
			if err != nil {
				return fail("extend.path", err)
			}
			base, err := parse(raw, fc.Extend.Path, depth+1)
			if err != nil {
				return config.Config{}, err
			}
			extend(&c, base)
		}
	}

	for id, lists := range targeted {
		r, ok := c.Rules[id]
		if !ok {
			return fail("allowlists.targetRules", fmt.Errorf("rule %q does not exist", id))
		}
		r.Allowlists = append(r.Allowlists, lists...)
		c.Rules[id] = r
	}
	if depth == 0 {
		for id, r := range c.Rules {
			for _, rq := range r.RequiredRules {
				if _, ok := c.Rules[rq.RuleID]; !ok {
					return fail("rules ("+id+").required", fmt.Errorf("rule %q does not exist", rq.RuleID))
				}
			}
			if err := r.Validate(); err != nil {
				return fail("rules ("+id+")", err)
			}
			c.Rules[id] = r
		}
	}
	return c, nil
}

// decodeTOML decodes a configuration file, turning a panic of the decoder
// into an error: go-toml before v2.4 panicked on some malformed array
// tables (e.g. "[[rules.00]]"), and a bad file must not crash the command.
func decodeTOML(raw []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid TOML: %v", r)
		}
	}()
	return toml.Unmarshal(raw, v)
}

func translateAllowlist(fa fileAllowlist) (*config.Allowlist, error) {
	a := &config.Allowlist{Description: fa.Description, Commits: fa.Commits, StopWords: fa.StopWords}
	switch strings.ToUpper(strings.TrimSpace(fa.Condition)) {
	case "", "OR", "||":
		a.MatchCondition = config.AllowlistMatchOr
	case "AND", "&&":
		a.MatchCondition = config.AllowlistMatchAnd
	default:
		return nil, fmt.Errorf("condition %q: want AND or OR", fa.Condition)
	}
	switch fa.RegexTarget {
	case "", "secret":
	case "match", "line":
		a.RegexTarget = fa.RegexTarget
	default:
		return nil, fmt.Errorf("regexTarget %q: want match or line", fa.RegexTarget)
	}
	for _, p := range fa.Paths {
		re, err := compileRegex(p)
		if err != nil {
			return nil, fmt.Errorf("paths: %w", err)
		}
		a.Paths = append(a.Paths, re)
	}
	for _, p := range fa.Regexes {
		re, err := compileRegex(p)
		if err != nil {
			return nil, fmt.Errorf("regexes: %w", err)
		}
		a.Regexes = append(a.Regexes, re)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// extend merges base (the extended configuration) into c the way gitleaks
// and Infisical document it: a rule of c overrides the fields it sets on the
// base rule of the same id, lists are appended, rules named in
// disabledRules are dropped, and allowlists are appended.
func extend(c *config.Config, base config.Config) {
	disabled := map[string]bool{}
	for _, id := range c.Extend.DisabledRules {
		disabled[id] = true
	}
	for id, b := range base.Rules {
		if disabled[id] {
			continue
		}
		cur, ok := c.Rules[id]
		if !ok {
			c.Rules[id] = b
			c.OrderedRules = append(c.OrderedRules, id)
			for _, k := range b.Keywords {
				c.Keywords[k] = struct{}{}
			}
			continue
		}
		if cur.Description != "" {
			b.Description = cur.Description
		}
		if cur.Entropy != 0 {
			b.Entropy = cur.Entropy
		}
		if cur.SecretGroup != 0 {
			b.SecretGroup = cur.SecretGroup
		}
		if cur.Regex != nil {
			b.Regex = cur.Regex
		}
		if cur.Path != nil {
			b.Path = cur.Path
		}
		b.Tags = append(append([]string{}, b.Tags...), cur.Tags...)
		b.Keywords = append(append([]string{}, b.Keywords...), cur.Keywords...)
		b.Allowlists = append(append([]*config.Allowlist{}, b.Allowlists...), cur.Allowlists...)
		for _, k := range b.Keywords {
			c.Keywords[k] = struct{}{}
		}
		c.Rules[id] = b
	}
	c.Allowlists = append(c.Allowlists, base.Allowlists...)
	sort.Strings(c.OrderedRules)
}

// compileRegex compiles a pattern with the regular-expression engine
// gitleaks was built with (Go's regexp, or RE2 with the gore2regex build
// tag), turning its MustCompile panic into an error.
func compileRegex(pattern string) (re *regexp.Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, err = nil, fmt.Errorf("invalid regular expression %q: %v", pattern, r)
		}
	}()
	return regexp.MustCompile(pattern), nil
}
