// Package renderer turns one Kubernetes object (the owner) into the manifests of its children by
// executing Go templates.
//
// It owns template loading, the template language (functions, data, limits) and the decoding of
// the output into objects. It does not talk to the API server, does not log, and reads files only
// in New. It does not default namespaces or add labels: the applier owns what children carry.
//
// # Templates
//
// New parses every template once; Render only executes. Files whose base name starts with "_"
// are helpers (like Helm's _helpers.tpl): they may only {{define}} templates, and any text or
// action outside a define is an error at New. Every other file is an output template, executed
// once per Render in load order. A template name may be defined only once across all files, and
// every {{template "name"}} call must name a defined template (checked at New, not when reached).
//
// # Absent keys
//
// As in Helm, an absent map key is nil (text/template's missingkey=zero), so optional fields
// are tested the way charts test them: {{ if .Spec.feature }}, {{ with .Spec.color }},
// {{ .Spec.replicas | default 1 }}, and, or, not, eq, empty, coalesce, hasKey and dig all
// work on an absent key. A field of an absent map is still an error, as in Helm
// (.Spec.a.b with no spec.a: "nil pointer evaluating interface {}.b"): use dig, with, or and.
//
// Printing nil is an error, never "<no value>" or nothing in a child: New rewrites the
// templates (see missing.go) so that an action printing nil — a typo such as
// {{ .Spec.mesage }}, an absent value, a key that is null, {{ $x }} holding one — fails the
// render with the file, line and expression:
//
//	template: site.yaml:7:12: .Spec.mesage is absent or null (test an optional value with if or with, or give it a default)
//
// The same error comes from a nil piped into, or passed as an argument to, a function that
// cannot take it (a string or number parameter: {{ .Spec.mesage | upper }}), and from quote and
// squote, which in sprig would drop it. It names the template and line where the nil was
// printed, also inside include, {{template}} and tpl text; Error.Template names the output
// template. Functions that take any value see nil as such: toYaml and toJson print it as null
// (so {{ toYaml .Spec.resources }} renders "null" for an absent key, valid YAML), required
// fails, default replaces it, and print, printf and toString format it as Go does ("<nil>"):
// test a value before formatting it with those.
//
// # Data
//
// The dot of every output template is a map built from a deep copy of the owner (so that set,
// unset and merge cannot touch the caller's object):
//
//	.Object       the whole object (map[string]any)
//	.APIVersion   apiVersion (string)
//	.Kind         kind (string)
//	.Name         metadata.name (string)
//	.Namespace    metadata.namespace (string, "" for cluster-scoped owners)
//	.UID          metadata.uid (string)
//	.Generation   metadata.generation (int64)
//	.Labels       metadata.labels (map[string]any, empty if none)
//	.Annotations  metadata.annotations (map[string]any, empty if none)
//	.Spec         spec (map[string]any, empty if absent)
//	.Status       status (map[string]any, empty if absent)
//	.Data         the top-level data field of ConfigMaps and Secrets (map, empty if absent)
//	.Values       Options.Values (map[string]any, empty if nil)
//
// Numbers are int64 or float64, as in every unstructured object. Labels, Annotations, Spec,
// Status and Data are the same maps as inside .Object. A field among them that is present but
// not an object is an *Error.
//
// # Functions
//
// sprig's hermetic functions, minus everything that depends on the clock, the environment or
// randomness (env, expandenv, now, ago, randInt, shuffle, uuidv4, bcrypt, genCA, ...): a child
// that renders differently each time would be re-applied forever. Functions never swallow an
// error: toJson, toPrettyJson, toRawJson, toDate and the regex functions are sprig's must*
// variants, b64dec, b32dec and atoi return their error, quote and squote fail on nil instead
// of dropping it. Added, Helm-compatible:
//
//	toYaml v                 YAML of v without the trailing newline
//	fromYaml s, fromJson s   decode a mapping; bad input is an error (Helm returns an "Error" key)
//	fromYamlArray s, fromJsonArray s
//	required msg v           error msg if v is nil or ""
//	include name data        the named template rendered to a string
//	tpl text data            text parsed as a template and rendered (sees the helpers)
//	fail msg                 (sprig) error msg
//
// sprig's int, int64 and float64 still convert unparsable input to 0.
//
// # Output
//
// The output of each template is a YAML stream split on lines that are "---" (optionally
// followed by blanks and a comment). Documents holding only whitespace and comments are skipped.
// Documents are numbered from 1 as YAML numbers them: text before the first separator counts
// only if it is not blank. Each document is decoded strictly (a duplicated key is an error) and
// must be an object with non-empty string apiVersion, kind and metadata.name; a v1 List is
// replaced by its items, each checked the same way.
//
// # Limits
//
// Guard rails against runaway renders, by mistake or through an owner's values passed to tpl,
// for templates and charts alike (charts render in internal/helmengine, Helm's engine with the
// same limits):
//   - One Render writes at most Options.MaxOutputBytes (DefaultMaxOutputBytes, 4 MiB) over all
//     output templates; one include or tpl result is capped at the same size. repeat, indent and
//     nindent refuse results over that size before building them.
//   - until, untilStep and seq build at most MaxListLength (100000) elements, and range refuses to
//     iterate over an integer larger than that.
//   - include and tpl nest at most MaxIncludeDepth (100) deep.
//   - One Render returns at most Options.MaxObjects (ChartOptions.MaxObjects; DefaultMaxObjects,
//     2000) objects.
//   - A chart render holds at most ChartOptions.MaxOutputBytes at once: the files rendered so far
//     and the include and tpl calls under way.
//   - Functions whose result may outgrow their arguments (print, cat, concat, toYaml, replace,
//     printf, ...) fail on a string result over the output budget or a list over MaxListLength,
//     and serializers measure their arguments first (funcbounds.go), so that a value built
//     without being written cannot exhaust memory either.
//   - The context is checked on every write, every include and tpl call, at the start of every
//     template (so on every {{template}} call) and whenever a range starts: New adds these checks
//     to the parsed templates. A cancelled or expired context stops a runaway template promptly.
//
// # Errors
//
// Failures caused by templates or the owner's data are *Error: terminal until the owner or the
// templates change. When the context ends, Render returns an error wrapping ctx.Err() instead.
// Template errors read like text/template's ("template: <file>:<line>:<col>: executing ..."),
// a printed nil like "template: <file>:<line>:<col>: <expression> is absent or null (...)",
// prefixed with "template <output file>: " when it happened in another file (a helper, tpl text),
// output errors like "template <file>: document 2: missing metadata.name".
package renderer
