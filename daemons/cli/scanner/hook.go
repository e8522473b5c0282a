package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The managed block of the pre-commit hook is delimited by these lines
// (the same as Infisical's CLI, so either tool recognises a hook the other
// installed and does not add it twice).
const (
	hookStart = "# MANAGED BY INFISICAL CLI (Do not modify): START"
	hookEnd   = "# MANAGED BY INFISICAL CLI (Do not modify): END"
)

// HookCommand is what the hook runs; third-party hook managers (Husky,
// pre-commit, lefthook) should run the same.
const HookCommand = "infisical scan git-changes --staged -v"

// hookBlock scans the staged changes and blocks the commit on findings
// (exit code 1). `git config --bool hooks.infisical-scan false` disables it.
const hookBlock = hookStart + `
infisicalScanEnabled=$(git config --bool hooks.infisical-scan)

if [ "$infisicalScanEnabled" != "false" ]; then
    ` + HookCommand + `
    exitCode=$?
    if [ $exitCode -eq 1 ]; then
        echo "Commit blocked: infisical scan found secrets in the staged changes."
        echo "Remove them, or mark a false positive with an infisical-scan:ignore comment."
        echo "To turn this check off for the repository:"
        echo ""
        echo "    git config hooks.infisical-scan false"
        echo ""
        exit 1
    elif [ $exitCode -ne 0 ]; then
        echo "Warning: infisical scan could not run (exit code $exitCode); the commit was not scanned."
    fi
else
    echo "Warning: the infisical scan pre-commit hook is disabled (hooks.infisical-scan=false)."
fi
` + hookEnd + "\n"

// ErrHooksPath is returned when core.hooksPath points the repository's
// hooks elsewhere (a hook manager): the hook is not installed there.
var ErrHooksPath = errors.New("core.hooksPath is set")

// HookResult says what InstallPreCommitHook did.
type HookResult struct {
	Path string
	// Created is false when an existing hook was extended, Unchanged
	// when it already held the managed block.
	Created, Unchanged bool
}

// InstallPreCommitHook adds the scanning block to the pre-commit hook of
// the git repository containing dir: it creates .git/hooks/pre-commit
// (mode 0755), or appends the block to an existing hook that lacks it.
func InstallPreCommitHook(ctx context.Context, dir string) (*HookResult, error) {
	root, err := gitOutput(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not in a git repository: %w", dir, err)
	}
	if hp, _ := gitOutput(ctx, root, "config", "core.hooksPath"); hp != "" && filepath.Clean(hp) != filepath.Clean(".git/hooks") {
		return nil, fmt.Errorf("%w to %q: add %q to that hook manager's pre-commit hook, or run `git config core.hooksPath .git/hooks` and install again",
			ErrHooksPath, hp, HookCommand)
	}
	hooks, err := gitOutput(ctx, root, "rev-parse", "--git-path", "hooks")
	if err != nil {
		return nil, fmt.Errorf("find the hooks directory: %w", err)
	}
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(root, hooks)
	}
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", hooks, err)
	}
	path := filepath.Join(hooks, "pre-commit")
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.WriteFile(path, []byte("#!/bin/sh\n\n"+hookBlock), 0o755); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		return &HookResult{Path: path, Created: true}, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if bytes.Contains(old, []byte(hookStart)) && bytes.Contains(old, []byte(hookEnd)) {
		return &HookResult{Path: path, Unchanged: true}, nil
	}
	add := hookBlock
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		add = "\n" + add
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := f.WriteString("\n" + add); err != nil {
		f.Close()
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("append to %s: %w", path, err)
	}
	// Make sure git can run it.
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o100 == 0 {
		_ = os.Chmod(path, st.Mode().Perm()|0o111)
	}
	return &HookResult{Path: path}, nil
}

func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
