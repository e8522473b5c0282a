package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infisical-go/engine/daemons/cli/apiclient"
)

// `infisical secrets generate-example-env` prints an example .env for
// people who do not use Infisical: every key, with its comment, grouped
// under a heading per tag set; values are left empty unless the comment
// holds "DEFAULT:<value>".

func newExampleEnvCommand(app *App) *cobra.Command {
	var fl secretFlags
	cmd := &cobra.Command{
		Use:     "generate-example-env",
		Short:   "Print an example .env file built from the secrets' names, comments and tags",
		Example: `  infisical secrets generate-example-env --env=dev > .example-env`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			t, err := app.resolveTarget(ctx, cmd, &fl)
			if err != nil {
				return err
			}
			q := fl.query(t, false)
			q.expand, q.includeImports, q.overriding = false, false, false
			res, err := app.fetchSecrets(ctx, t, q)
			if err != nil {
				return err
			}
			var filter []string
			if q.tags != "" {
				filter = strings.Split(q.tags, ",")
			}
			_, err = app.Stdout.Write(exampleEnv(res.secrets, filter))
			return err
		},
	}
	fl.bind(cmd.Flags(), flagsTarget)
	cmd.Flags().StringVarP(&fl.tags, "tags", "t", "", "only secrets with these tag slugs (comma-separated); these tags are left out of the headings")
	return cmd
}

var defaultInComment = regexp.MustCompile(`(?s)^(.*)DEFAULT:(.*)$`)

// exampleEnv renders the example file. Tags named in filter are not used
// for grouping (every secret has them).
func exampleEnv(secrets []apiclient.Secret, filter []string) []byte {
	type group struct {
		names   []string // tag names, sorted
		secrets []apiclient.Secret
	}
	groups := map[string]*group{}
	for _, s := range secrets {
		var names []string
		for _, t := range s.Tags {
			if contains(filter, t.Slug) {
				continue
			}
			n := t.Name
			if n == "" {
				n = t.Slug
			}
			names = append(names, n)
		}
		sort.Strings(names)
		id := strings.Join(names, "\x00")
		g, ok := groups[id]
		if !ok {
			g = &group{names: names}
			groups[id] = g
		}
		g.secrets = append(g.secrets, s)
	}
	ordered := make([]*group, 0, len(groups))
	for _, g := range groups {
		sort.SliceStable(g.secrets, func(i, j int) bool { return g.secrets[i].SecretKey < g.secrets[j].SecretKey })
		ordered = append(ordered, g)
	}
	// Untagged first, then by number of tags, then by heading.
	sort.Slice(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if len(a.names) != len(b.names) {
			return len(a.names) < len(b.names)
		}
		return strings.Join(a.names, " & ") < strings.Join(b.names, " & ")
	})

	var b bytes.Buffer
	var toc []string
	for _, g := range ordered {
		if len(g.names) > 0 {
			toc = append(toc, strings.ToUpper(strings.Join(g.names, " & ")))
		}
	}
	if len(toc) > 0 {
		b.WriteString(banner("TABLE OF CONTENTS", 80))
		for _, t := range toc {
			fmt.Fprintf(&b, "# - %s\n", t)
		}
	}
	for _, g := range ordered {
		b.WriteByte('\n')
		if len(g.names) > 0 {
			b.WriteString(banner(strings.Join(g.names, " & "), 80))
		}
		for _, s := range g.secrets {
			comment, def := s.SecretComment, ""
			if m := defaultInComment.FindStringSubmatch(s.SecretComment); m != nil {
				comment, def = m[1], m[2]
			}
			if c := strings.TrimSpace(comment); c != "" {
				for _, line := range strings.Split(c, "\n") {
					fmt.Fprintf(&b, "# %s\n", strings.TrimRight(line, " \r"))
				}
			}
			fmt.Fprintf(&b, "%s=%s\n", strings.TrimSpace(s.SecretKey), strings.TrimSpace(def))
		}
	}
	return b.Bytes()
}

// banner centres text in a row of stars framed by hashes:
//
//	####...####
//	# *** text *** #
//	####...####
func banner(text string, stars int) string {
	pad := (stars - len(text)) / 2
	if pad < 1 {
		pad = 1
	}
	right := stars - len(text) - pad
	if right < 1 {
		right = 1
	}
	mid := strings.Repeat("*", pad) + " " + text + " " + strings.Repeat("*", right)
	rule := strings.Repeat("#", len(mid)+4)
	return rule + "\n# " + mid + " #\n" + rule + "\n"
}
