package duration

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		// No unit means milliseconds.
		{in: "100", want: 100 * time.Millisecond},
		{in: "0", want: 0},
		{in: "1 ", want: time.Millisecond}, // " *" then an absent unit
		{in: "1.5", want: 1500 * time.Microsecond},
		{in: ".5", want: 500 * time.Microsecond},
		{in: "-.5s", want: -500 * time.Millisecond},
		{in: "-1h", want: -time.Hour},
		{in: "-0", want: 0},
		{in: "007s", want: 7 * time.Second},

		// Every unit spelling.
		{in: "1ms", want: time.Millisecond},
		{in: "1msec", want: time.Millisecond},
		{in: "2msecs", want: 2 * time.Millisecond},
		{in: "1millisecond", want: time.Millisecond},
		{in: "3milliseconds", want: 3 * time.Millisecond},
		{in: "1s", want: time.Second},
		{in: "1sec", want: time.Second},
		{in: "1secs", want: time.Second},
		{in: "1second", want: time.Second},
		{in: "1seconds", want: time.Second},
		{in: "30m", want: 30 * time.Minute},
		{in: "1min", want: time.Minute},
		{in: "1mins", want: time.Minute},
		{in: "1minute", want: time.Minute},
		{in: "1minutes", want: time.Minute},
		{in: "1h", want: time.Hour},
		{in: "1hr", want: time.Hour},
		{in: "1hrs", want: time.Hour},
		{in: "1hour", want: time.Hour},
		{in: "2hours", want: 2 * time.Hour},
		{in: "7d", want: 7 * day},
		{in: "1day", want: day},
		{in: "1days", want: day},
		{in: "1w", want: 7 * day},
		{in: "1week", want: 7 * day},
		{in: "2weeks", want: 14 * day},
		{in: "1y", want: 31_557_600_000 * time.Millisecond},
		{in: "1yr", want: 31_557_600_000 * time.Millisecond},
		{in: "1yrs", want: 31_557_600_000 * time.Millisecond},
		{in: "1year", want: 31_557_600_000 * time.Millisecond},
		{in: "4years", want: 1461 * day},

		// Case-insensitive units, spaces between number and unit.
		{in: "1H", want: time.Hour},
		{in: "1 Hour", want: time.Hour},
		{in: "5   MINUTES", want: 5 * time.Minute},
		{in: "1.5 hours", want: 90 * time.Minute},
		{in: "0.1s", want: 100 * time.Millisecond}, // exact, no float drift

		// Rounding to the nearest nanosecond, half away from zero.
		{in: "0.0000005ms", want: 1},
		{in: "0.0000004ms", want: 0},
		{in: "-0.0000005ms", want: -1},

		// Range: ~292 years fit, beyond is an error.
		{in: "292y", want: 292 * 31_557_600_000 * time.Millisecond},
		{in: "293y", wantErr: true},
		{in: "-293y", wantErr: true},
		{in: "9223372036854.775807ms", want: math.MaxInt64},
		{in: "9223372036854.7758075ms", wantErr: true},
		{in: "-9223372036854.775807ms", want: -math.MaxInt64},
		{in: "-9223372036854.775808ms", wantErr: true},
		{in: strings.Repeat("9", 99) + "y", wantErr: true},

		// Not in the ms language.
		{in: "", wantErr: true},
		{in: " ", wantErr: true},
		{in: " 1h", wantErr: true},
		{in: "1h ", wantErr: true},
		{in: "1h\n", wantErr: true},
		{in: "1.", wantErr: true},
		{in: "1.h", wantErr: true},
		{in: ".", wantErr: true},
		{in: "-", wantErr: true},
		{in: "--1", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "1e3", wantErr: true},
		{in: "1.2.3", wantErr: true},
		{in: "1mo", wantErr: true},
		{in: "1 month", wantErr: true},
		{in: "1hh", wantErr: true},
		{in: "h", wantErr: true},
		{in: "1h30m", wantErr: true},
		{in: "1\th", wantErr: true},
		{in: "1ſ", wantErr: true},        // long s folds to 's' in Unicode, not in JS without /u
		{in: "1\u212Ams", wantErr: true}, // Kelvin sign
		{in: "١", wantErr: true},         // Arabic-Indic digit: \d is ASCII only
		{in: strings.Repeat("1", 101), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Parse(%q) = %v, %v; want *ParseError", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %v (%d), %v; want %v (%d)", tt.in, got, int64(got), err, tt.want, int64(tt.want))
			}
		})
	}
}

func TestParsePositive(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "1h", want: time.Hour},
		{in: "30m", want: 30 * time.Minute},
		{in: "7d", want: 7 * day},
		{in: "1", want: time.Millisecond},
		{in: "0", wantErr: true},
		{in: "0s", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "0.0000001ms", wantErr: true}, // rounds to zero
		{in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePositive(tt.in)
			if tt.wantErr {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("ParsePositive(%q) = %v, %v; want *ParseError", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePositive(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseErrorBounded(t *testing.T) {
	in := strings.Repeat("x", 10_000)
	_, err := Parse(in)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("want *ParseError, got %v", err)
	}
	if len(pe.Input) > MaxInputLen+3 || len(err.Error()) > 300 {
		t.Fatalf("error not bounded: %d bytes", len(err.Error()))
	}
}

func FuzzParse(f *testing.F) {
	// msPattern is the ms 2.x expression, used as an oracle. Go's \d is ASCII
	// only and $ means end of text, as in a JavaScript regex without /m and /u;
	// case-insensitivity is applied by lowering ASCII letters of the input,
	// because Go's (?i) folds non-ASCII letters that JavaScript would not.
	msPattern := regexp.MustCompile(`^(-?\d*\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

	unitMillis := map[string]float64{
		"": 1, "ms": 1, "msec": 1, "msecs": 1, "millisecond": 1, "milliseconds": 1,
		"s": 1e3, "sec": 1e3, "secs": 1e3, "second": 1e3, "seconds": 1e3,
		"m": 6e4, "min": 6e4, "mins": 6e4, "minute": 6e4, "minutes": 6e4,
		"h": 36e5, "hr": 36e5, "hrs": 36e5, "hour": 36e5, "hours": 36e5,
		"d": 864e5, "day": 864e5, "days": 864e5,
		"w": 6048e5, "week": 6048e5, "weeks": 6048e5,
		"y": 315576e5, "yr": 315576e5, "yrs": 315576e5, "year": 315576e5, "years": 315576e5,
	}
	for _, s := range []string{"1h", "30m", "7d", "1.5 hours", ".5", "-1y", "100", "1.", "1e3", "1 ", "293y", "1ſ", "0.0000005ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Parse(in)
		m := msPattern.FindStringSubmatch(asciiLower(in))
		accepted := m != nil && len(in) <= MaxInputLen
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): untyped error %v", in, err)
			}
			if accepted && pe.Reason != "out of range" {
				t.Fatalf("Parse(%q) rejected input ms accepts: %v", in, err)
			}
			return
		}
		if !accepted {
			t.Fatalf("Parse(%q) = %v, but ms rejects it", in, got)
		}
		// Compare with the float computation ms performs, allowing for its
		// rounding error.
		n, perr := strconv.ParseFloat(m[1], 64)
		if perr != nil {
			t.Fatalf("oracle cannot parse %q: %v", m[1], perr)
		}
		wantNs := n * unitMillis[m[2]] * 1e6
		if diff := math.Abs(float64(got) - wantNs); diff > 1 && diff > math.Abs(wantNs)*1e-12 {
			t.Fatalf("Parse(%q) = %d ns, ms computes %g ns", in, int64(got), wantNs)
		}
		if p, perr := ParsePositive(in); (perr == nil) != (got > 0) || perr == nil && p != got {
			t.Fatalf("ParsePositive(%q) = %v, %v disagrees with Parse = %v", in, p, perr, got)
		}
	})
}
