// Package config loads and validates bosun's watch configs: one YAML file per
// watched resource type, describing which objects to watch and which templates
// render their children.
//
// Rules:
//   - This is the only package besides main that touches viper, and it uses a
//     fresh viper instance per file, never the global one.
//   - Decoding is strict: unknown keys (also nested ones) and wrongly typed
//     values are errors. A file reports all of its problems at once, one per
//     line, each prefixed with the file path, so a user fixes a file in one
//     round trip.
//   - viper lower-cases keys, so the case-sensitive .Values map is kept out of
//     viper's key space and decoded from the raw bytes with sigs.k8s.io/yaml.
//   - Keys outside values are case-insensitive, as viper makes them; unknown
//     keys are reported lower-cased.
//   - Template paths are resolved against the config file's directory and must
//     exist at load time; parsing them is the renderer's business.
//   - No cluster I/O: whether the kind exists is only known once bosun talks to
//     the API server.
package config
