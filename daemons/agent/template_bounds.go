package agent

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Bounds of one template render. A template is code: a loop without end, a
// generator asked for a billion elements or a value that doubles on every
// iteration would otherwise hang the agent or exhaust its memory. Real
// templates stay far below these limits.
const (
	// MaxRenderedBytes bounds the rendered file and any single value a
	// template builds.
	MaxRenderedBytes = 16 << 20
	// maxRenderTime bounds the execution of one render.
	maxRenderTime = 30 * time.Second
	// maxRenderSteps bounds function calls plus loop iterations.
	maxRenderSteps = 2_000_000
	// maxListLen bounds the lists a template builds.
	maxListLen = 1 << 20
)

// errRenderLimit is wrapped by every bound violation.
var errRenderLimit = errors.New("template exceeds the render limits")

// tickFunc is the function run at every loop iteration (see graftTicks).
const tickFunc = "__infisical_agent_tick"

// budget is the execution allowance of one render. Templates execute in
// one goroutine, so it needs no lock.
type budget struct {
	deadline time.Time
	steps    int
	written  int
}

func newBudget() *budget { return &budget{deadline: time.Now().Add(maxRenderTime)} }

// step charges one function call or loop iteration.
func (b *budget) step() error {
	b.steps++
	if b.steps > maxRenderSteps {
		return fmt.Errorf("%w: more than %d steps", errRenderLimit, maxRenderSteps)
	}
	if time.Now().After(b.deadline) {
		return fmt.Errorf("%w: rendering took more than %v", errRenderLimit, maxRenderTime)
	}
	return nil
}

// Write implements io.Writer for the rendered output, refusing to grow it
// past MaxRenderedBytes.
type boundedWriter struct {
	b   *budget
	out *strings.Builder
}

func (w boundedWriter) Write(p []byte) (int, error) {
	if w.b.written+len(p) > MaxRenderedBytes {
		return 0, fmt.Errorf("%w: output larger than %d bytes", errRenderLimit, MaxRenderedBytes)
	}
	if err := w.b.step(); err != nil {
		return 0, err
	}
	w.b.written += len(p)
	return w.out.Write(p)
}

// sizeEstimators give, before a call, an upper bound of the size (bytes or
// elements) of the result of functions whose result can be far larger
// than their arguments.
var sizeEstimators = map[string]func(args []reflect.Value) int{
	"until":        func(a []reflect.Value) int { return intArg(a, 0) },
	"untilStep":    func(a []reflect.Value) int { return span(intArg(a, 0), intArg(a, 1), intArg(a, 2)) },
	"seq":          seqSize,
	"repeat":       func(a []reflect.Value) int { return mul(intArg(a, 0), len(strArg(a, 1))) },
	"indent":       indentSize,
	"nindent":      indentSize,
	"randAlpha":    func(a []reflect.Value) int { return intArg(a, 0) },
	"randAlphaNum": func(a []reflect.Value) int { return intArg(a, 0) },
	"randAscii":    func(a []reflect.Value) int { return intArg(a, 0) },
	"randNumeric":  func(a []reflect.Value) int { return intArg(a, 0) },
	"randBytes":    func(a []reflect.Value) int { return mul(intArg(a, 0), 2) },
	"replace":      replaceSize,
	"wrapWith": func(a []reflect.Value) int {
		n, sep, s := intArg(a, 0), strArg(a, 1), strArg(a, 2)
		return len(s) + mul(len(s)/max(n, 1)+1, len(sep))
	},
	"join":                       joinSize,
	"regexReplaceAll":            regexSize,
	"mustRegexReplaceAll":        regexSize,
	"regexReplaceAllLiteral":     regexSize,
	"mustRegexReplaceAllLiteral": regexSize,
	"printf":                     printfSize,
}

func intArg(a []reflect.Value, i int) int {
	if i >= len(a) || !a[i].CanInt() {
		return 0
	}
	n := a[i].Int()
	if n < 0 {
		n = -n
	}
	if n > 1<<40 {
		n = 1 << 40
	}
	return int(n)
}

func strArg(a []reflect.Value, i int) string {
	if i >= len(a) || a[i].Kind() != reflect.String {
		return ""
	}
	return a[i].String()
}

// mul multiplies sizes, saturating instead of overflowing.
func mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (1<<50)/b {
		return 1 << 50
	}
	return a * b
}

func span(start, stop, step int) int {
	if step == 0 {
		return 0
	}
	return (max(start, stop) - min(start, stop)) / step
}

func seqSize(a []reflect.Value) int {
	if len(a) != 1 || a[0].Kind() != reflect.Slice {
		return 0
	}
	var p []int
	for i := range a[0].Len() {
		if a[0].Index(i).CanInt() {
			p = append(p, intArg([]reflect.Value{a[0].Index(i)}, 0))
		}
	}
	n := 0
	switch len(p) {
	case 1:
		n = p[0]
	case 2:
		n = span(p[0], p[1], 1)
	case 3:
		n = span(p[0], p[2], p[1])
	}
	return mul(n+1, 21) // each number as text
}

func indentSize(a []reflect.Value) int {
	s := strArg(a, 1)
	return len(s) + 1 + mul(intArg(a, 0), strings.Count(s, "\n")+1)
}

func replaceSize(a []reflect.Value) int {
	old, repl, s := strArg(a, 0), strArg(a, 1), strArg(a, 2)
	n := utf8.RuneCountInString(s) + 1
	if old != "" {
		n = strings.Count(s, old)
	}
	return len(s) + mul(n, len(repl))
}

func joinSize(a []reflect.Value) int {
	sep := strArg(a, 0)
	if len(a) < 2 {
		return 0
	}
	v := a[1]
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return 0
	}
	return mul(v.Len(), len(sep)) + valueSize(v, MaxRenderedBytes+1)
}

func regexSize(a []reflect.Value) int {
	re, err := regexp.Compile(strArg(a, 0))
	if err != nil {
		return 0 // the call itself reports the error
	}
	s, repl := strArg(a, 1), strArg(a, 2)
	matches := len(re.FindAllStringIndex(s, -1))
	// A $n in the replacement can copy up to the whole input.
	per := len(repl) + mul(strings.Count(repl, "$"), len(s))
	return len(s) + mul(matches, per)
}

// printfSize refuses widths and precisions that would pad the result
// past the limit: "%999999999d" allocates a gigabyte in one call.
func printfSize(a []reflect.Value) int {
	format := strArg(a, 0)
	if strings.Contains(format, "*") {
		return 1 << 50 // width from an argument: not allowed in templates
	}
	total, num := len(format), 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c >= '0' && c <= '9' {
			num = min(num*10+int(c-'0'), 1<<40)
			continue
		}
		total += num
		num = 0
	}
	if len(a) > 1 {
		total += valueSize(a[1], MaxRenderedBytes+1)
	}
	return total + num
}

// valueSize approximates the size of v as text (strings by length, other
// scalars as a few bytes, containers as the sum of their elements), giving
// up once it exceeds limit: shared sublists can make a small value expand
// exponentially when printed.
func valueSize(v reflect.Value, limit int) int {
	size := 0
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if size > limit {
			return
		}
		if depth > 100 {
			size = limit + 1
			return
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), depth+1)
			}
		case reflect.String:
			size += v.Len()
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
				size += v.Len()
				return
			}
			size += v.Len()
			for i := 0; i < v.Len() && size <= limit; i++ {
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			size += v.Len()
			it := v.MapRange()
			for it.Next() && size <= limit {
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
			}
		case reflect.Struct:
			for i := 0; i < v.NumField() && size <= limit; i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i), depth+1)
				}
			}
		default:
			size += 8
		}
	}
	walk(v, 0)
	return size
}

// checkValue refuses a value (argument or result) too large to handle.
func checkValue(name string, v reflect.Value) error {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() > maxListLen {
		return fmt.Errorf("%w: %s: a list of more than %d elements", errRenderLimit, name, maxListLen)
	}
	if valueSize(v, MaxRenderedBytes) > MaxRenderedBytes {
		return fmt.Errorf("%w: %s: a value larger than %d bytes", errRenderLimit, name, MaxRenderedBytes)
	}
	return nil
}

// boundFuncs wraps every function of fm so that each call is charged to b,
// its arguments and result are size-checked, and functions that amplify
// their input are refused when the result would be too large. A refusal
// panics with an error, which text/template turns into an execution error.
func boundFuncs(fm template.FuncMap, b *budget) template.FuncMap {
	out := make(template.FuncMap, len(fm))
	for name, f := range fm {
		fn := reflect.ValueOf(f)
		if fn.Kind() != reflect.Func {
			out[name] = f
			continue
		}
		typ := fn.Type()
		estimate := sizeEstimators[name]
		out[name] = reflect.MakeFunc(typ, func(args []reflect.Value) []reflect.Value {
			if err := b.step(); err != nil {
				panic(err)
			}
			for _, a := range args {
				if err := checkValue(name, a); err != nil {
					panic(err)
				}
			}
			if estimate != nil {
				if n := estimate(args); n > MaxRenderedBytes {
					panic(fmt.Errorf("%w: %s would build a value of about %d bytes", errRenderLimit, name, n))
				}
			}
			var res []reflect.Value
			if typ.IsVariadic() {
				res = fn.CallSlice(args)
			} else {
				res = fn.Call(args)
			}
			if len(res) > 0 {
				if err := checkValue(name, res[0]); err != nil {
					panic(err)
				}
			}
			return res
		}).Interface()
	}
	return out
}

// builtinBounds replaces text/template's own printf with a bounded one
// (boundFuncs then wraps it like every other function).
func builtinBounds() template.FuncMap {
	return template.FuncMap{"printf": fmt.Sprintf}
}

// tickFuncs is the loop-iteration hook grafted into range bodies.
func tickFuncs(b *budget) template.FuncMap {
	return template.FuncMap{tickFunc: func() (string, error) { return "", b.step() }}
}

// graftTicks makes every iteration of every range loop of t call the tick
// function, so that loops without function calls or output (such as
// {{range 1000000000}}{{end}}) are charged too.
func graftTicks(t *template.Template) error {
	helper, err := template.New("tick").Funcs(template.FuncMap{tickFunc: func() string { return "" }}).Parse("{{" + tickFunc + "}}")
	if err != nil {
		return err
	}
	tick := helper.Tree.Root.Nodes[0]
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return
			}
			for _, c := range x.Nodes {
				walk(c)
			}
		case *parse.IfNode:
			walk(x.List)
			walk(x.ElseList)
		case *parse.WithNode:
			walk(x.List)
			walk(x.ElseList)
		case *parse.RangeNode:
			walk(x.List)
			walk(x.ElseList)
			if x.List != nil {
				x.List.Nodes = append([]parse.Node{tick}, x.List.Nodes...)
			}
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			walk(tt.Tree.Root)
		}
	}
	return nil
}
