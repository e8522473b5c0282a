// Package permission evaluates Infisical-compatible permission rules.
//
// A role (built-in, custom, an additional privilege, a template) is a list of
// CASL-style rules:
//
//	{"subject": "secrets", "action": ["read", "edit"],
//	 "conditions": {"environment": "prod", "secretPath": {"$glob": "/app/**"}},
//	 "inverted": false}
//
// The package is pure logic: it parses and validates rules ([ParseRules],
// [ParseOrgRules], [ConvertV1]), substitutes ABAC placeholders
// ([Placeholders.Apply]), compiles the union of an actor's roles into an
// immutable [Set] ([Compile]) and answers questions against it ([Set.Can],
// [Set.Check], [Set.Explain]). It never touches a database; callers cache the
// compiled *Set per actor and project because compiling globs is the only
// expensive step.
//
// # Evaluation
//
// A Set grants an action on a subject when at least one allow rule matches and
// no deny (inverted) rule matches. Unlike CASL, where the rule defined last
// wins, a matching deny always wins here: the effective permission of an actor
// is the union of several roles and privileges whose relative order carries no
// meaning, so "deny overrides" is the only order-free reading.
//
// A rule matches when it names the subject and the action and every one of its
// conditions holds (AND across fields and across the operators of one field).
// A plain string condition means $eq. The operators are $eq, $ne, $in (a list
// of strings) and $glob (see below). For a list-valued attribute such as
// secretTags, $eq/$in/$glob hold when any element satisfies them and $ne holds
// when no element equals the value, as in MongoDB queries.
//
// For the secrets subject the legacy action "read" means "describeSecret and
// readValue": a rule granting (or denying) "read" also grants (or denies) each
// of the two, and asking for "read" is asking for both.
//
// # Unknown attributes
//
// An attribute missing from [Attributes] is unknown, not empty. This lets a
// caller ask a coarse question first ("may this actor read anything in folder
// /app of prod?", passing only environment and secretPath) and filter per
// secret afterwards:
//
//   - for an allow rule, a condition on an unknown attribute counts as
//     satisfied (the rule might grant access to some secret in the folder);
//   - for a deny rule, a condition on an unknown attribute counts as NOT
//     satisfied (a deny on one secretName must not hide the whole folder).
//
// The coarse answer is therefore an over-approximation: a caller must repeat
// the check with the full attributes before returning any one secret. This
// mirrors CASL, which ignores conditioned inverted rules when asked about a
// subject type rather than an instance, refined to single fields.
//
// # Globs
//
// $glob follows picomatch as Infisical calls it (strictSlashes off): "*"
// matches within one path segment, "**" as a whole segment matches any number
// of segments including none ("/a/**" matches "/a", "/a/b" and "/a/b/c"), "?"
// matches one character other than "/", "[a-z]" / "[!a-z]" are character
// classes, "{a,b}" are alternatives (nestable) and "\" escapes the next
// character. A trailing slash on either the pattern or the value is ignored.
// Not supported (matched literally): extglobs such as "+(a|b)", POSIX classes
// such as "[[:alpha:]]", numeric ranges "{1..3}" and pattern negation with a
// leading "!". Unlike picomatch, "*" also matches segments that begin with a
// dot; Infisical folder names cannot begin with one anyway.
package permission
