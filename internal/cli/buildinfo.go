package cli

// buildVersion and buildCommit name this build in metrics and logs.
func buildVersion() string { return "dev" }
func buildCommit() string  { return "unknown" }
