// Package restmap maps kinds to API resources through discovery, and refreshes its cache when a
// kind is unknown — at most once per interval, so a template that names a kind that does not
// exist cannot turn every reconcile into a full discovery of the API server.
package restmap
