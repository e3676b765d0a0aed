package renderer

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"
)

// A template can build values without writing them: {{$s = print $s $s}} in a loop doubles a
// string each time, concat doubles a list, dict shares a map so that toYaml of it grows with
// 2^depth, and replace, join or a printf width make one call's result far larger than its
// arguments. None of that passes the output budget until it is written, by which time bosun may
// be out of memory. So every function whose result may outgrow its arguments is bounded:
//   - a string result longer than the output budget, or a list longer than MaxListLength, is an
//     error (the call that built it allocated at most a few times the budget);
//   - serializers, deepCopy and the print family first measure their arguments, stopping at the
//     budget, since the size of what they build follows what they are given, shared maps counted
//     as often as they occur;
//   - replace, regexReplaceAll, join and printf compute their result's size before building it.
//
// The functions' results are untouched within the limits: charts render exactly as with Helm.

// unbounded are the functions boundFuncs leaves alone: the engine's own (bounded by the
// execution: include and tpl write through the budget), and those whose result cannot outgrow
// their arguments by much.
var unbounded = map[string]bool{
	"include": true, "tpl": true, "required": true, "fail": true, "lookup": true,
	rangeGuardFunc: true, templateGuardFunc: true, printGuardFunc: true,
	// Bounded already (limits.go).
	"until": true, "untilStep": true, "seq": true, "repeat": true, "indent": true, "nindent": true,
}

// measured are the functions whose arguments are measured before the call.
var measured = map[string]bool{
	"toYaml": true, "mustToYaml": true, "toYamlPretty": true, "toJson": true, "mustToJson": true,
	"toPrettyJson": true, "mustToPrettyJson": true, "toRawJson": true, "mustToRawJson": true,
	"toToml": true, "mustToToml": true, "toString": true, "toStrings": true, "deepCopy": true,
	"mustDeepCopy": true, "print": true, "println": true, "printf": true, "cat": true, "join": true,
	"sortAlpha": true,
}

// boundFuncs returns f with the functions whose results may outgrow their arguments bounded by
// maxBytes, and text/template's print, printf and println (overridden) with them.
func boundFuncs(f template.FuncMap, maxBytes int) template.FuncMap {
	out := withPrint(f)
	b := funcBounds{maxBytes: maxBytes}
	for name, fn := range out {
		if unbounded[name] {
			continue
		}
		out[name] = b.wrap(name, fn)
	}
	return out
}

type funcBounds struct{ maxBytes int }

// funcCache keeps the bounded functions of one chart across its renders: Helm's engine builds
// its functions anew for every render, and wrapping them all again cost a tenth of a render's
// allocations. Only functions without per-render state are wrapped (unbounded holds the
// engine's closures), so a function is known by its name and code.
type funcCache struct{ m sync.Map } // name → cachedFunc

type cachedFunc struct {
	code    uintptr
	wrapped any
}

// bound is boundFuncs through the cache.
func (c *funcCache) bound(f template.FuncMap, maxBytes int) template.FuncMap {
	b := funcBounds{maxBytes: maxBytes}
	out := make(template.FuncMap, len(f)+len(printFuncs))
	for name, fn := range printFuncs {
		out[name] = fn
	}
	maps.Copy(out, f)
	for name, fn := range out {
		if unbounded[name] {
			out[name] = fn
			continue
		}
		code := reflect.ValueOf(fn).Pointer()
		if v, ok := c.m.Load(name); ok && v.(cachedFunc).code == code {
			out[name] = v.(cachedFunc).wrapped
			continue
		}
		w := b.wrap(name, fn)
		c.m.Store(name, cachedFunc{code: code, wrapped: w})
		out[name] = w
	}
	return out
}

// printFuncs are text/template's print, printf and println, overridden bounded.
var printFuncs = template.FuncMap{"print": fmt.Sprint, "println": fmt.Sprintln, "printf": fmt.Sprintf}

// withPrint is f with printFuncs under it.
func withPrint(f template.FuncMap) template.FuncMap {
	out := make(template.FuncMap, len(f)+len(printFuncs))
	maps.Copy(out, printFuncs)
	maps.Copy(out, f)
	return out
}

var (
	stringType = reflect.TypeFor[string]()
	errorType  = reflect.TypeFor[error]()
)

// wrap bounds fn, keeping its parameters (the missing-value rules read them) and adding an
// error result when it has none.
func (b funcBounds) wrap(name string, fn any) any {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumOut() == 0 || t.NumOut() > 2 || t.NumOut() == 2 && t.Out(1) != errorType {
		return fn
	}
	// Results of other types pass a value through (default, dig, first) or are small; concat
	// builds a list but says interface{}.
	res := t.Out(0)
	if res.Kind() != reflect.String && res.Kind() != reflect.Slice && !(res.Kind() == reflect.Interface && name == "concat") {
		return fn
	}
	pre := b.precheck(name)
	// The common shapes without reflection: they are most of the calls of a render.
	switch f := fn.(type) {
	case func(...any) string:
		return func(args ...any) (string, error) {
			if err := pre(args); err != nil {
				return "", err
			}
			return b.checkString(name, f(args...))
		}
	case func(string) string:
		return func(s string) (string, error) { return b.checkString(name, f(s)) }
	case func(any) string:
		return func(a any) (string, error) {
			if err := pre([]any{a}); err != nil {
				return "", err
			}
			return b.checkString(name, f(a))
		}
	case func(string, string) string:
		return func(s1, s2 string) (string, error) { return b.checkString(name, f(s1, s2)) }
	case func(string, string, string) string:
		return func(s1, s2, s3 string) (string, error) {
			if err := pre([]any{s1, s2, s3}); err != nil {
				return "", err
			}
			return b.checkString(name, f(s1, s2, s3))
		}
	case func(...any) (string, error):
		return func(args ...any) (string, error) {
			if err := pre(args); err != nil {
				return "", err
			}
			s, err := f(args...)
			if err != nil {
				return s, err
			}
			return b.checkString(name, s)
		}
	case func(any) (string, error):
		return func(a any) (string, error) {
			if err := pre([]any{a}); err != nil {
				return "", err
			}
			s, err := f(a)
			if err != nil {
				return s, err
			}
			return b.checkString(name, s)
		}
	case func(string, ...any) string: // printf
		return func(format string, args ...any) (string, error) {
			if err := pre(append([]any{format}, args...)); err != nil {
				return "", err
			}
			return b.checkString(name, f(format, args...))
		}
	case func(string, any) string: // join
		return func(s string, a any) (string, error) {
			if err := pre([]any{s, a}); err != nil {
				return "", err
			}
			return b.checkString(name, f(s, a))
		}
	case func(int, string) string: // trunc
		return func(n int, s string) (string, error) { return b.checkString(name, f(n, s)) }
	case func(string, string) []string: // splitList
		return func(sep, s string) ([]string, error) {
			l := f(sep, s)
			if len(l) > MaxListLength {
				return nil, fmt.Errorf("%s: a list of %d elements exceeds the limit of %d", name, len(l), MaxListLength)
			}
			return l, nil
		}
	case func(...any) []any:
		return func(args ...any) ([]any, error) {
			l := f(args...)
			if len(l) > MaxListLength {
				return nil, fmt.Errorf("%s: a list of %d elements exceeds the limit of %d", name, len(l), MaxListLength)
			}
			return l, nil
		}
	}
	outs := []reflect.Type{res, errorType}
	ins := make([]reflect.Type, t.NumIn())
	for i := range ins {
		ins[i] = t.In(i)
	}
	wt := reflect.FuncOf(ins, outs, t.IsVariadic())
	return reflect.MakeFunc(wt, func(in []reflect.Value) []reflect.Value {
		fail := func(err error) []reflect.Value {
			return []reflect.Value{reflect.Zero(res), reflect.ValueOf(&err).Elem()}
		}
		args := make([]any, 0, len(in))
		for i, a := range in {
			if t.IsVariadic() && i == len(in)-1 {
				for j := range a.Len() {
					args = append(args, a.Index(j).Interface())
				}
				continue
			}
			args = append(args, a.Interface())
		}
		if err := pre(args); err != nil {
			return fail(err)
		}
		var got []reflect.Value
		if t.IsVariadic() {
			got = v.CallSlice(in)
		} else {
			got = v.Call(in)
		}
		if len(got) == 2 && !got[1].IsNil() {
			return []reflect.Value{got[0], got[1]}
		}
		if err := b.checkValue(name, got[0]); err != nil {
			return fail(err)
		}
		return []reflect.Value{got[0], reflect.Zero(errorType)}
	}).Interface()
}

func (b funcBounds) checkString(name, s string) (string, error) {
	if len(s) > b.maxBytes {
		return "", fmt.Errorf("%s: a result of %d bytes exceeds the limit of %d bytes", name, len(s), b.maxBytes)
	}
	return s, nil
}

func (b funcBounds) checkValue(name string, v reflect.Value) error {
	if v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		_, err := b.checkString(name, v.String())
		return err
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 && v.Len() > MaxListLength {
			return fmt.Errorf("%s: a list of %d elements exceeds the limit of %d", name, v.Len(), MaxListLength)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Len() > b.maxBytes {
			return fmt.Errorf("%s: a result of %d bytes exceeds the limit of %d bytes", name, v.Len(), b.maxBytes)
		}
	}
	return nil
}

// precheck is what name checks before the call.
func (b funcBounds) precheck(name string) func([]any) error {
	switch {
	case name == "replace":
		return func(args []any) error { // replace old new src
			old, new, src, ok := threeStrings(args)
			if !ok {
				return nil
			}
			return b.checkSize(name, replacedSize(src, old, new, strings.Count(src, old)))
		}
	case strings.HasPrefix(name, "regexReplaceAll") || strings.HasPrefix(name, "mustRegexReplaceAll"):
		return func(args []any) error { // regexReplaceAll regex s repl
			expr, src, repl, ok := threeStrings(args)
			if !ok {
				return nil
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil // the function says so
			}
			// A replacement may expand $1 to a whole match: count it as the source.
			per := len(repl)
			if strings.Contains(repl, "$") {
				per += len(src)
			}
			return b.checkSize(name, len(src)+len(re.FindAllStringIndex(src, -1))*per)
		}
	case name == "printf":
		return func(args []any) error {
			if len(args) > 0 {
				if format, ok := args[0].(string); ok {
					if err := b.checkWidths(format); err != nil {
						return err
					}
				}
			}
			return b.measureAll(name, args)
		}
	case measured[name]:
		return func(args []any) error { return b.measureAll(name, args) }
	}
	return func([]any) error { return nil }
}

func threeStrings(args []any) (a, b, c string, ok bool) {
	if len(args) != 3 {
		return "", "", "", false
	}
	a, ok1 := args[0].(string)
	b, ok2 := args[1].(string)
	c, ok3 := args[2].(string)
	return a, b, c, ok1 && ok2 && ok3
}

func replacedSize(src, old, new string, n int) int {
	if old == "" {
		n = len(src) + 1
	}
	return len(src) + n*(len(new)-len(old))
}

func (b funcBounds) checkSize(name string, n int) error {
	if n > b.maxBytes {
		return fmt.Errorf("%s: a result of %d bytes would exceed the limit of %d bytes", name, n, b.maxBytes)
	}
	return nil
}

var widthPattern = regexp.MustCompile(`%[-+# 0]*(\d*)(?:\.(\d+))?`)

// checkWidths refuses a format whose width or precision alone passes the budget.
func (b funcBounds) checkWidths(format string) error {
	for _, m := range widthPattern.FindAllStringSubmatch(format, -1) {
		for _, digits := range m[1:] {
			if digits == "" {
				continue
			}
			if n, err := strconv.Atoi(digits); err != nil || n > b.maxBytes {
				return fmt.Errorf("printf: a width of %s exceeds the limit of %d bytes", digits, b.maxBytes)
			}
		}
	}
	return nil
}

// measureAll measures the arguments together, as what is built from them.
func (b funcBounds) measureAll(name string, args []any) error {
	left := b.maxBytes
	for _, a := range args {
		if !measure(reflect.ValueOf(a), &left) {
			return fmt.Errorf("%s: its arguments exceed the limit of %d bytes (shared values counted as often as they occur)", name, b.maxBytes)
		}
	}
	return nil
}

// measure subtracts from left the bytes v's text takes, roughly (a string's length, a few bytes
// for any other value), and stops as soon as left runs out: false then.
func measure(v reflect.Value, left *int) bool {
	*left -= 2
	if *left < 0 {
		return false
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return true
		}
		return measure(v.Elem(), left)
	case reflect.String:
		*left -= v.Len()
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			*left -= v.Len()
			break
		}
		for i := range v.Len() {
			if !measure(v.Index(i), left) {
				return false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if !measure(it.Key(), left) || !measure(it.Value(), left) {
				return false
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && !measure(v.Field(i), left) {
				return false
			}
		}
	}
	return *left >= 0
}
