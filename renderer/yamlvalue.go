package renderer

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// jsonValue turns what yaml.v2 decodes into an interface{} into the value that encoding it as
// JSON and decoding that with integers kept as int64 gives — exactly what sigs.k8s.io/yaml's
// YAMLToJSON followed by k8s.io/apimachinery's json.Unmarshal returned, which Helm and kubectl
// go through too — without writing and parsing the JSON in between (that round trip cost half of
// a render). Map keys become strings as YAMLToJSON makes them; a float that JSON prints without
// a fraction or an exponent comes back as an int64, as it did from the JSON.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			key, err := jsonKey(k, e)
			if err != nil {
				return nil, err
			}
			if m[key], err = jsonValue(e); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			var err error
			if s[i], err = jsonValue(e); err != nil {
				return nil, err
			}
		}
		return s, nil
	case string:
		return validUTF8(v), nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
		return strconv.ParseFloat(strconv.FormatUint(v, 10), 64)
	case float64:
		return jsonNumber(v)
	case nil, bool:
		return v, nil
	}
	return nil, fmt.Errorf("json: unsupported type: %T", v)
}

// jsonKey is a YAML map key as YAMLToJSON writes it in JSON.
func jsonKey(k, v any) (string, error) {
	switch k := k.(type) {
	case string:
		return validUTF8(k), nil
	case int:
		return strconv.Itoa(k), nil
	case int64:
		return strconv.FormatInt(k, 10), nil
	case float64:
		switch s := strconv.FormatFloat(k, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", nil
		case "-Inf":
			return "-.inf", nil
		case "NaN":
			return ".nan", nil
		default:
			return s, nil
		}
	case bool:
		return strconv.FormatBool(k), nil
	}
	return "", fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v", reflect.TypeOf(k), k, v)
}

// jsonNumber is f printed as encoding/json prints a float64 and read back as the apimachinery
// decoder reads numbers: an int64 when the text is an integer that fits, a float64 otherwise.
func jsonNumber(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return f, nil // printed with an exponent: a float64 again
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return f, nil
		}
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	return strconv.ParseFloat(s, 64)
}

// validUTF8 is s as it comes back from JSON: encoding/json writes every byte that is not UTF-8
// (a YAML "\xff" escape) as U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
