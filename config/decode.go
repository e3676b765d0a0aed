package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// rawConfig mirrors a config file for viper's strict decode; validate turns it
// into a Watch.
type rawConfig struct {
	Name       string   `mapstructure:"name"`
	Watch      rawWatch `mapstructure:"watch"`
	Namespaces []string `mapstructure:"namespaces"`
	Selector   string   `mapstructure:"selector"`
	// Templates is a path or a list of paths, told apart by validate.
	Templates any `mapstructure:"templates"`
	// Chart is the path of a Helm chart (a directory or a .tgz), instead of Templates.
	Chart any `mapstructure:"chart"`
	// Charts are named charts an owner may pick instead of Chart, with an annotation.
	Charts map[string]any `mapstructure:"charts"`
	// ValuesFrom says where on the owner a chart's values come from.
	ValuesFrom string `mapstructure:"valuesfrom"`
	// CRDs says what to do with the files in a chart's crds/ directory.
	CRDs string `mapstructure:"crds"`
	// Examples is a path or a list of paths of owner files, like Templates.
	Examples any `mapstructure:"examples"`
	// Values only claims the key so that UnmarshalExact accepts it: viper has
	// lower-cased its keys, so the real values come from decodeValues.
	Values any `mapstructure:"values"`
	// OverrideValues is claimed like Values and decoded by decodeValues too.
	OverrideValues any `mapstructure:"overridevalues"`
	// Pointers tell "not set" (use the default) from an explicit zero.
	Workers       *int           `mapstructure:"workers"`
	Resync        *time.Duration `mapstructure:"resync"`
	RenderTimeout *time.Duration `mapstructure:"rendertimeout"`

	// Viper has lower-cased the keys of these sections too, hence the tags.
	Children rawChildren `mapstructure:"children"`
	Status   rawStatus   `mapstructure:"status"`
	Safety   rawSafety   `mapstructure:"safety"`
	Rollout  rawRollout  `mapstructure:"rollout"`
	Lookup   rawLookup   `mapstructure:"lookup"`
	Clusters rawClusters `mapstructure:"clusters"`

	// hasWatch tells a missing watch, one error, from a watch missing its
	// fields, an error per field.
	hasWatch bool
}

type rawWatch struct {
	Group   string `mapstructure:"group"`
	Version string `mapstructure:"version"`
	Kind    string `mapstructure:"kind"`
}

type rawChildren struct {
	Namespaces          []string    `mapstructure:"namespaces"`
	ClusterScoped       bool        `mapstructure:"clusterscoped"`
	Kinds               []string    `mapstructure:"kinds"`
	Adopt               bool        `mapstructure:"adopt"`
	AdoptHelmReleases   bool        `mapstructure:"adopthelmreleases"`
	RecreateOnImmutable bool        `mapstructure:"recreateonimmutable"`
	Ignore              []rawIgnore `mapstructure:"ignore"`
	Max                 *int        `mapstructure:"max"`
}

type rawIgnore struct {
	Kind  string   `mapstructure:"kind"`
	Paths []string `mapstructure:"paths"`
}

type rawStatus struct {
	// Enabled is a boolean or a string, told apart by validate: users write
	// "enabled: false" and YAML makes that a boolean.
	Enabled any    `mapstructure:"enabled"`
	Ready   string `mapstructure:"ready"`
}

type rawSafety struct {
	MaxDeletes            *int `mapstructure:"maxdeletes"`
	MaxDeletePercent      *int `mapstructure:"maxdeletepercent"`
	MaxKindRemovalPercent *int `mapstructure:"maxkindremovalpercent"`
}

type rawLookup struct {
	Kinds []string `mapstructure:"kinds"`
}

type rawClusters struct {
	Default            string         `mapstructure:"default"`
	Selector           string         `mapstructure:"selector"`
	Field              string         `mapstructure:"field"`
	Allowed            []string       `mapstructure:"allowed"`
	AllowedSelector    string         `mapstructure:"allowedselector"`
	UnreachableTimeout *time.Duration `mapstructure:"unreachabletimeout"`
}

type rawRollout struct {
	MaxInFlight *int `mapstructure:"maxinflight"`
	MaxFailures *int `mapstructure:"maxfailures"`
}

// decode reads data with a fresh viper instance and decodes it strictly. It
// returns the problems found with the fields that failed to decode, which
// validate then skips, and a nil config if data is not valid YAML: such a
// file has nothing else worth checking.
func decode(data []byte) (*rawConfig, []error, []string) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, yamlErrors(err), nil
	}
	raw := rawConfig{hasWatch: v.IsSet("watch")}
	err := v.UnmarshalExact(&raw, func(c *mapstructure.DecoderConfig) {
		// Strict: "true" is not a number and 1 is not a string.
		c.WeaklyTypedInput = false
	})
	if err == nil {
		return &raw, nil, nil
	}
	errs, failed := decodeErrors(err, v.Get)
	return &raw, errs, failed
}

// yamlErrors splits the error of the YAML parser into one error per problem,
// so that each gets its own line with the file path.
func yamlErrors(err error) []error {
	if te, ok := errors.AsType[*yamlv3.TypeError](err); ok {
		errs := make([]error, len(te.Errors))
		for i, msg := range te.Errors {
			errs[i] = fmt.Errorf("yaml: %s", msg)
		}
		return errs
	}
	// viper's "While parsing config:" adds nothing to the parser's error.
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	return []error{err}
}

// decodeErrors rewords mapstructure's errors in the config's own terms: one
// `unknown key "watch.kidn"` per unknown key, and "field: problem" for the
// rest. It also returns the names of the fields that failed to decode. get
// looks up a field's value, which mapstructure leaves out of its messages.
func decodeErrors(err error, get func(field string) any) (errs []error, failed []string) {
	var walk func(error)
	walk = func(err error) {
		if de, ok := err.(*mapstructure.DecodeError); ok {
			inner := de.Unwrap()
			if keys, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
				for _, key := range strings.Split(keys, ", ") {
					if de.Name() != "" {
						key = de.Name() + "." + key
					}
					errs = append(errs, fmt.Errorf("unknown key %q", key))
				}
				return
			}
			failed = append(failed, de.Name())
			name := keyName(de.Name())
			if ute, ok := errors.AsType[*mapstructure.UnconvertibleTypeError](inner); ok {
				errs = append(errs, fmt.Errorf("%s: expected %s, got %s", name, typeName(ute.Expected.Type().String()), yamlKind(ute.Value)))
				return
			}
			switch {
			case de.Name() == "resync":
				errs = append(errs, fmt.Errorf("resync: invalid duration %q, want e.g. 90s, 10m or 1h30m", get("resync")))
			case de.Name() == "rendertimeout":
				errs = append(errs, fmt.Errorf("renderTimeout: invalid duration %q, want e.g. 500ms, 10s or 1m", get("rendertimeout")))
			case strings.HasPrefix(inner.Error(), "expected a map or struct"):
				errs = append(errs, fmt.Errorf("%s: expected a map, got %s", name, gotKind(inner)))
			case strings.HasPrefix(inner.Error(), "source data must be an array or slice"):
				errs = append(errs, fmt.Errorf("%s: expected a list, got %s", name, gotKind(inner)))
			default:
				errs = append(errs, fmt.Errorf("%s: %w", name, inner))
			}
			return
		}
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				walk(e)
			}
			return
		}
		if inner := errors.Unwrap(err); inner != nil {
			walk(inner)
			return
		}
		errs = append(errs, err)
	}
	walk(err)
	return errs, failed
}

// keyName spells a field that viper has lower-cased the way the docs do, so
// that "safety.maxdeletes" is reported as "safety.maxDeletes".
func keyName(field string) string {
	segments := strings.Split(field, ".")
	for i, seg := range segments {
		key, index, _ := strings.Cut(seg, "[")
		switch key {
		case "clusterscoped":
			key = "clusterScoped"
		case "recreateonimmutable":
			key = "recreateOnImmutable"
		case "maxdeletes":
			key = "maxDeletes"
		case "maxdeletepercent":
			key = "maxDeletePercent"
		case "maxkindremovalpercent":
			key = "maxKindRemovalPercent"
		case "maxinflight":
			key = "maxInFlight"
		case "maxfailures":
			key = "maxFailures"
		case "rendertimeout":
			key = "renderTimeout"
		}
		if index != "" {
			key += "[" + index
		}
		segments[i] = key
	}
	return strings.Join(segments, ".")
}

// typeName names Go types the way a config author thinks of them.
func typeName(goType string) string {
	switch goType {
	case "int":
		return "an integer"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "[]string":
		return "a list of strings"
	case "time.Duration":
		return "a duration"
	}
	return goType
}

// gotKind names the YAML type of the value that mapstructure's error ending in
// "got <reflect.Kind>" is about. The value itself cannot be looked up for
// fields inside lists, such as "children.ignore[0]".
func gotKind(err error) string {
	msg := err.Error()
	kind := strings.Trim(msg[strings.LastIndex(msg, "got ")+len("got "):], `"'`)
	switch kind {
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	}
	return kind
}

// yamlKind names the YAML type of a decoded value for error messages.
func yamlKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, uint64, float64, json.Number:
		return "number"
	case map[string]any:
		return "map"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}

// decodeValues decodes the map under key (values, overrideValues) from the raw
// file, keeping the case of its keys that viper would lose.
func decodeValues(data []byte, key string) (map[string]any, error) {
	var doc map[string]json.RawMessage
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	values := map[string]any{}
	raw := doc[key]
	if len(raw) == 0 || string(raw) == "null" {
		return values, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a map, got %s", key, yamlKind(v))
	}
	for k, v := range m {
		values[k] = typedNumbers(v)
	}
	return values, nil
}

// typedNumbers replaces JSON numbers with int64 where they are integers and
// float64 otherwise, so that replicas: 1000000 renders as 1000000, not 1e+06.
func typedNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64() // the JSON decoder has validated the number
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = typedNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = typedNumbers(e)
		}
	}
	return v
}
