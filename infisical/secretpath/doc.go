// Package secretpath holds the rules for the names that address a secret:
// folder paths inside an environment ("/", "/a/b"), folder names, secret
// keys, and the write-time normalisation of secret values.
//
// Every layer that accepts a path (HTTP handlers, the CLI, the store,
// permission checks, reference expansion) must agree on one canonical
// spelling, otherwise "/a/b/", "a//b" and "/a/b" would name three
// different folders or slip past a permission glob. Normalize produces that
// spelling; the other helpers assume their input already has it.
package secretpath
