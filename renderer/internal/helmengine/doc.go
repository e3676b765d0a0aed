// Package helmengine is Helm's template engine (helm.sh/helm/v4/pkg/engine at v4.3.1:
// engine.go, funcs.go and files.go, Apache-2.0, see LICENSE) with limits added, so that a
// chart renders exactly as `helm template` renders it but one owner's render cannot take bosun
// down. Helm's engine has no way in: it executes every template into a strings.Builder of its
// own, never looks at its context, and lets tpl recurse without bound, so any chart that passes
// a value through tpl lets whoever writes the values run template code for as long and as
// large as they like.
//
// The changes, each marked "bosun" or confined to limits.go:
//   - Engine.Limits: every write of a render (chart files, include and tpl calls) goes through
//     a budgetWriter that fails on the first byte past Limits.MaxBytes and once the context
//     ends; include and tpl nest at most Limits.MaxDepth deep, all names together; every tree
//     parsed (files and tpl strings) is handed to Limits.PrepareTree once, where the renderer
//     adds its loop guards (whose functions come in CustomTemplateFuncs).
//   - The error of a render stopped by a limit is that limit, not text/template's chain of
//     every level it unwound through.
//   - The Kubernetes client (New, RenderWithClient, RenderWithClientProvider, lookup_func.go) is
//     gone: bosun serves lookup through CustomTemplateFuncs, confined by its own rules.
//
// Everything else is Helm's code as it is. The renderer's equality tests render real public
// charts here and with the helm CLI and compare the output; on a Helm upgrade, copy the three
// files again and re-apply these changes.
package helmengine
