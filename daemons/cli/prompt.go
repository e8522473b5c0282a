package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Prompts read from the app's stdin. They are used only when a value was
// not given by flag or environment; with stdin closed (CI) they fail with
// a message naming the flag to pass instead.

// prompter reads answers line by line from stdin.
type prompter struct {
	app *App
	r   *bufio.Reader
}

func (a *App) prompter() *prompter { return &prompter{app: a, r: bufio.NewReader(a.Stdin)} }

// stdinTerminal returns stdin's file descriptor when it is a terminal.
func (a *App) stdinTerminal() (int, bool) {
	f, ok := a.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// line asks for one line; hint names the flag that avoids the prompt.
func (p *prompter) line(label, hint string) (string, error) {
	fmt.Fprintf(p.app.Stderr, "%s: ", label)
	s, err := p.r.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || s == "") {
		fmt.Fprintln(p.app.Stderr)
		return "", usagef("no answer for %q on stdin: pass %s", label, hint)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// secret asks for a line without echo when stdin is a terminal.
func (p *prompter) secret(label, hint string) (string, error) {
	if fd, ok := p.app.stdinTerminal(); ok {
		fmt.Fprintf(p.app.Stderr, "%s: ", label)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(p.app.Stderr)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.ToLower(label), err)
		}
		return string(b), nil
	}
	return p.line(label, hint)
}

// choose asks for one of items (numbered from 1) and returns its index.
func (p *prompter) choose(label string, items []string, hint string) (int, error) {
	if len(items) == 0 {
		return 0, errors.New("nothing to choose from")
	}
	fmt.Fprintf(p.app.Stderr, "%s:\n", label)
	for i, it := range items {
		fmt.Fprintf(p.app.Stderr, "  %d) %s\n", i+1, it)
	}
	ans, err := p.line("Enter a number", hint)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(ans))
	if err != nil || n < 1 || n > len(items) {
		return 0, usagef("invalid choice %q: want a number from 1 to %d", ans, len(items))
	}
	return n - 1, nil
}

// confirm asks a yes/no question (default no).
func (p *prompter) confirm(question, hint string) (bool, error) {
	ans, err := p.line(question+" [y/N]", hint)
	if err != nil {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(ans))
	return a == "y" || a == "yes", nil
}

// minArgs is cobra.MinimumNArgs with a usage error (exit code 2) that says
// what is missing.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s: give %s", cmd.CommandPath(), what)
		}
		return nil
	}
}
