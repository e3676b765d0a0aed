package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/applier"
)

// printExplanation prints x as text in sections, or as JSON or YAML.
func printExplanation(out io.Writer, format string, x *explanation, now time.Time) error {
	switch format {
	case "json":
		b, err := indentedJSON(x)
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		_, err = out.Write(b)
		return err
	case "yaml":
		b, err := yaml.Marshal(x)
		if err != nil {
			return fmt.Errorf("yaml: %w", err)
		}
		_, err = out.Write(b)
		return err
	}
	var b strings.Builder
	x.writeText(&b, now)
	_, err := io.WriteString(out, b.String())
	return err
}

// ago is a time with how long ago it was, as kubectl describe shows it.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return t.UTC().Format(time.RFC3339) + " (" + age(t, now) + " ago)"
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func (x *explanation) writeText(b *strings.Builder, now time.Time) {
	field := func(label, value string) {
		fmt.Fprintf(b, "%-12s %s\n", label+":", strings.ReplaceAll(value, "\n", "\n             "))
	}
	fmt.Fprintf(b, "%s\n", applier.Ref{Kind: x.Kind, Namespace: x.Namespace, Name: x.Name})
	field("Watch", yesNo(x.Watch != "", x.Watch, "- (--config names the watches)"))
	field("API version", x.APIVersion)
	field("UID", x.UID)
	created, _ := time.Parse(time.RFC3339, x.Created)
	field("Created", ago(created, now))
	field("Ready", x.Ready+", reason "+x.Reason)
	if x.Message != "" {
		field("Message", x.Message)
	}
	if x.Hint != "" {
		field("Why", x.Hint)
	}
	field("Generation", fmt.Sprintf("%d (observed: %d)", x.Generation, x.ObservedGeneration))
	field("Version", x.Version.text())
	field("Paused", yesNo(x.Paused, "yes: bosun.dev/paused is \"true\"; bosun neither renders, applies nor prunes for it", "no"))
	field("Finalizer", yesNo(x.Finalizer, applier.Finalizer+" present: bosun deletes the children before the owner goes",
		applier.Finalizer+" absent: bosun has not taken this owner (yet), or let it go"))
	if x.Deletion != nil {
		field("Deletion", fmt.Sprintf("requested %s; waiting for finalizers: %s", ago(x.Deletion.at, now), joinOr(x.Deletion.Finalizers, "none")))
	} else {
		field("Deletion", "not requested")
	}
	if x.Instance != "" {
		field("Instance", x.Instance)
	}
	field("Clusters", joinOr(x.Clusters, "none recorded"))
	inv := joinOr(x.Inventory.Kinds, "none recorded")
	if len(x.Inventory.Namespaces) > 0 {
		inv += "; in other namespaces too: " + strings.Join(x.Inventory.Namespaces, ", ")
	}
	field("Inventory", inv)
	field("Hooks", x.Hooks.text())
	if p := x.LastPrune; p != nil {
		prune := fmt.Sprintf("%s deleted, %s", yesNo(p.Children == 1, "1 child", fmt.Sprintf("%d children", p.Children)), ago(p.at, now))
		if len(p.KindsRemoved) > 0 {
			prune += "; kinds removed: " + strings.Join(p.KindsRemoved, ", ")
		}
		field("Last prune", prune)
	} else {
		field("Last prune", "none recorded")
	}

	fmt.Fprintf(b, "\nConditions:\n")
	if len(x.Conditions) == 0 {
		fmt.Fprintf(b, "  none\n")
	} else {
		rows := [][]string{}
		for _, c := range x.Conditions {
			rows = append(rows, []string{c.Type, c.Status, c.Reason, ago(c.since, now), c.Message})
		}
		writeIndentedTable(b, []string{"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"}, rows)
	}

	fmt.Fprintf(b, "\nChildren:\n")
	if len(x.Children) == 0 {
		fmt.Fprintf(b, "  none recorded\n")
	} else {
		rows := [][]string{}
		for _, c := range x.Children {
			cluster := c.Cluster
			if cluster == "" {
				cluster = applier.LocalCluster
			}
			rows = append(rows, []string{c.ref().String(), cluster, c.Health, c.Message})
		}
		writeIndentedTable(b, []string{"CHILD", "CLUSTER", "HEALTH", "MESSAGE"}, rows)
	}

	fmt.Fprintf(b, "\nLast Event from bosun:\n")
	if e := x.LastBosunEvent; e != nil {
		fmt.Fprintf(b, "  %s %s (%s), %s: %s\n", e.Type, e.Reason, e.Action, ago(e.at, now), e.Note)
	} else {
		fmt.Fprintf(b, "  none (Events expire after an hour; bosun records one when an owner's state changes)\n")
	}
	fmt.Fprintf(b, "  What triggered a reconcile is not recorded in the cluster: bosun logs it (trigger).\n")

	fmt.Fprintf(b, "\nEvents (newest first, at most %d):\n", maxEvents)
	if len(x.Events) == 0 {
		fmt.Fprintf(b, "  none\n")
	} else {
		rows := [][]string{}
		for _, e := range x.Events {
			rows = append(rows, []string{age(e.at, now), e.Type, e.Reason, e.Action, fmt.Sprint(e.Count), e.From, e.Note})
		}
		writeIndentedTable(b, []string{"LAST SEEN", "TYPE", "REASON", "ACTION", "COUNT", "FROM", "NOTE"}, rows)
	}
	if len(x.Notes) > 0 {
		fmt.Fprintf(b, "\nNotes:\n")
		for _, n := range x.Notes {
			fmt.Fprintf(b, "  %s\n", n)
		}
	}
}

func (v explainVersion) text() string {
	switch {
	case v.TemplateHash == "":
		return "- (never rendered)"
	case v.Current == "":
		return v.Text + " (--config compares it with the watch's templates)"
	case v.PendingRollout:
		return fmt.Sprintf("%s; the watch's templates are %s: a rollout is still to reach it (rollout.maxInFlight paces it, a failing owner may have paused it)",
			shortHash(v.TemplateHash), shortHash(v.Current))
	}
	return v.Text + ": the watch's current templates"
}

func (h explainHooks) text() string {
	var parts []string
	if h.Installed {
		parts = append(parts, "install hooks done (upgrade hooks run from now on)")
	}
	if len(h.Runs) > 0 {
		parts = append(parts, "runs recorded: "+strings.Join(h.Runs, ", "))
	}
	return joinOr(parts, "none run")
}

func joinOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ", ")
}

// writeIndentedTable writes a table two spaces in.
func writeIndentedTable(b *strings.Builder, header []string, rows [][]string) {
	t := newTable(header, rows)
	for _, r := range append([][]string{header}, rows...) {
		b.WriteString("  ")
		_ = t.write(b, r, 0)
	}
}
