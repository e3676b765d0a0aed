package renderer

import (
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// funcMap returns the functions every template can call. maxBytes bounds the string builders.
func funcMap(maxBytes int) template.FuncMap {
	// Functions whose result depends on the clock, the environment or a random source: a child
	// that renders differently every time is re-applied on every event and never settles.
	// sprig's hermetic map already drops most of them, but not all.
	nondeterministic := []string{
		"env", "expandenv", "getHostByName",
		"now", "ago", "date", "dateInZone", "date_in_zone", "dateModify", "date_modify",
		"htmlDate", "htmlDateInZone",
		"randInt", "randAlpha", "randAlphaNum", "randAscii", "randNumeric", "randBytes", "uuidv4",
		"shuffle", "bcrypt", "htpasswd", "encryptAES",
		"genPrivateKey", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
		"genSignedCert", "genSignedCertWithKey",
	}
	// sprig functions that hide errors (returning "", false or a zero time) and their sprig
	// variants that return the error instead.
	swallowing := map[string]string{
		"toJson":                 "mustToJson",
		"toPrettyJson":           "mustToPrettyJson",
		"toRawJson":              "mustToRawJson",
		"toDate":                 "mustToDate",
		"regexMatch":             "mustRegexMatch",
		"regexFind":              "mustRegexFind",
		"regexFindAll":           "mustRegexFindAll",
		"regexReplaceAll":        "mustRegexReplaceAll",
		"regexReplaceAllLiteral": "mustRegexReplaceAllLiteral",
		"regexSplit":             "mustRegexSplit",
	}
	f := sprig.HermeticTxtFuncMap()
	for _, name := range nondeterministic {
		delete(f, name)
	}
	for name, must := range swallowing {
		f[name] = f[must]
	}
	for name, fn := range map[string]any{
		"b64dec":        b64dec,
		"b32dec":        b32dec,
		"atoi":          strconv.Atoi,
		"toYaml":        toYaml,
		"fromYaml":      fromYaml,
		"fromYamlArray": fromYamlArray,
		"fromJson":      fromJson,
		"fromJsonArray": fromJsonArray,
		"required":      required,
		"quote":         rejectNil("quote", f["quote"].(func(...any) string)),
		"squote":        rejectNil("squote", f["squote"].(func(...any) string)),
		printGuardFunc:  printGuard,
	} {
		f[name] = fn
	}
	maps.Copy(f, boundedFuncs(maxBytes))
	// include and tpl need the context and template set of one execution, which binds them;
	// these placeholders only make templates that call them parse.
	for _, name := range []string{"include", "tpl"} {
		f[name] = func(...any) (string, error) {
			return "", fmt.Errorf("%s: not bound to an execution", name)
		}
	}
	return f
}

func b64dec(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}

func b32dec(s string) (string, error) {
	b, err := base32.StdEncoding.DecodeString(s)
	return string(b), err
}

// toYaml trims the trailing newline like Helm's, so that "toYaml . | nindent 4" lines up.
func toYaml(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// fromYaml decodes a YAML mapping; unlike Helm's, a bad document is an error, not a map holding
// an "Error" key. Numbers decode as int64 or float64, like the owner's own fields.
func fromYaml(s string) (map[string]any, error) {
	var m map[string]any
	if err := decodeYAML(s, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func fromYamlArray(s string) ([]any, error) {
	var l []any
	if err := decodeYAML(s, &l); err != nil {
		return nil, err
	}
	if l == nil {
		l = []any{}
	}
	return l, nil
}

func decodeYAML(s string, v any) error {
	j, err := yaml.YAMLToJSONStrict([]byte(s))
	if err != nil {
		return err
	}
	return utiljson.Unmarshal(j, v)
}

func fromJson(s string) (map[string]any, error) {
	var m map[string]any
	if err := utiljson.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func fromJsonArray(s string) ([]any, error) {
	var l []any
	if err := utiljson.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if l == nil {
		l = []any{}
	}
	return l, nil
}

// required fails with msg when v is nil (an absent key) or the empty string, like Helm's.
func required(msg string, v any) (any, error) {
	if v == nil {
		return nil, errors.New(msg)
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, errors.New(msg)
	}
	return v, nil
}

// rejectNil wraps sprig's quote and squote, which drop nil arguments: `{{ .Spec.nmae | quote }}`
// would write nothing instead of failing on the typo.
func rejectNil(name string, fn func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		for _, a := range args {
			if a == nil {
				return "", fmt.Errorf("%s: a value is absent or null (%s)", name, absentHint)
			}
		}
		return fn(args...), nil
	}
}
