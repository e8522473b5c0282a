package api

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/infisical-go/engine/infisical"
)

// Secret responses are the hot path of the API (every `infisical run`, agent
// poll and SDK list). encoding/json spends most of its time on reflection
// there, so those responses encode themselves by appending to a buffer. The
// output is byte-for-byte what encoding/json produces with HTML escaping off
// (fastjson_test.go checks this on random and fuzzed input), so ETags do not
// depend on which encoder ran.

// appendJSONer is implemented by responses that encode themselves.
type appendJSONer interface {
	appendJSON(b []byte) []byte
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does
// with SetEscapeHTML(false).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendIntPtr(b []byte, n *int) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

// appendISO appends t as "YYYY-MM-DDTHH:MM:SS.sssZ" (JavaScript's
// toISOString) without going through time.Format.
func appendISO(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	if year < 0 || year > 9999 {
		return append(append(append(b, '"'), t.Format("2006-01-02T15:04:05.000Z")...), '"')
	}
	b = append(b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// Secret responses. Shape selects the optional fields an endpoint emits.
type (
	secretListResponse struct {
		Secrets []infisical.Secret
		Imports *[]infisical.ImportedSecrets // nil: no "imports" key
	}
	secretResponse struct {
		Secret *infisical.Secret
		Shape  secretShape
	}
	secretsResponse struct {
		Secrets []infisical.Secret
		Shape   secretShape
	}
)

// MarshalJSON lets these types go through encoding/json too.
func (r secretListResponse) MarshalJSON() ([]byte, error) { return r.appendJSON(nil), nil }
func (r secretResponse) MarshalJSON() ([]byte, error)     { return r.appendJSON(nil), nil }
func (r secretsResponse) MarshalJSON() ([]byte, error)    { return r.appendJSON(nil), nil }

// appendSecret encodes the SecretRaw object of api-core §3.1.
func appendSecret(b []byte, s *infisical.Secret, sh secretShape) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID)
	b = append(b, `,"_id":`...)
	b = appendString(b, s.ID)
	b = append(b, `,"workspace":`...)
	b = appendString(b, s.ProjectID)
	b = append(b, `,"environment":`...)
	b = appendString(b, s.Environment)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(s.Version), 10)
	b = append(b, `,"type":`...)
	b = appendString(b, s.Type)
	b = append(b, `,"secretKey":`...)
	b = appendString(b, s.Key)
	b = append(b, `,"secretValue":`...)
	b = appendString(b, s.Value)
	b = append(b, `,"secretComment":`...)
	b = appendString(b, s.Comment)
	b = append(b, `,"secretReminderNote":`...)
	b = appendStringPtr(b, s.ReminderNote)
	b = append(b, `,"secretReminderRepeatDays":`...)
	b = appendIntPtr(b, s.ReminderRepeatDays)
	b = append(b, `,"skipMultilineEncoding":`...)
	b = appendBool(b, s.SkipMultilineEncoding != nil && *s.SkipMultilineEncoding)
	if sh.times {
		b = append(b, `,"createdAt":`...)
		b = appendISO(b, s.CreatedAt)
		b = append(b, `,"updatedAt":`...)
		b = appendISO(b, s.UpdatedAt)
	}
	b = append(b, `,"actor":`...)
	if a := s.Actor; a == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"actorId":`...)
		b = appendString(b, a.ActorID)
		b = append(b, `,"actorType":`...)
		b = appendString(b, a.ActorType)
		b = append(b, `,"name":`...)
		b = appendString(b, a.Name)
		b = append(b, `,"membershipId":`...)
		b = appendStringPtr(b, a.MembershipID)
		b = append(b, `,"groupId":`...)
		b = appendStringPtr(b, a.GroupID)
		b = append(b, '}')
	}
	b = append(b, `,"isRotatedSecret":false,"rotationId":null`...)
	if sh.hidden {
		b = append(b, `,"secretValueHidden":`...)
		b = appendBool(b, s.ValueHidden)
	}
	if sh.path {
		b = append(b, `,"secretPath":`...)
		b = appendString(b, s.SecretPath)
	}
	if sh.meta {
		b = append(b, `,"secretMetadata":[`...)
		for i, m := range s.Metadata {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = appendString(b, m.Key)
			b = append(b, `,"value":`...)
			b = appendString(b, m.Value)
			b = append(b, `,"isEncrypted":`...)
			b = appendBool(b, m.IsEncrypted)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if sh.tags {
		b = append(b, `,"tags":[`...)
		for i, t := range s.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, t.ID)
			b = append(b, `,"slug":`...)
			b = appendString(b, t.Slug)
			b = append(b, `,"name":`...)
			b = appendString(b, t.Slug)
			b = append(b, `,"color":`...)
			b = appendStringPtr(b, t.Color)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendSecrets(b []byte, list []infisical.Secret, sh secretShape) []byte {
	b = append(b, '[')
	for i := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSecret(b, &list[i], sh)
	}
	return append(b, ']')
}

func (r secretListResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"secrets":`...)
	b = appendSecrets(b, r.Secrets, shapeFull)
	if r.Imports != nil {
		b = append(b, `,"imports":[`...)
		for i := range *r.Imports {
			blk := &(*r.Imports)[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"secretPath":`...)
			b = appendString(b, blk.SecretPath)
			b = append(b, `,"environment":`...)
			b = appendString(b, blk.Environment)
			b = append(b, `,"folderId":`...)
			b = appendString(b, blk.FolderID)
			b = append(b, `,"secrets":`...)
			b = appendSecrets(b, blk.Secrets, shapeImported)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func (r secretResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"secret":`...)
	b = appendSecret(b, r.Secret, r.Shape)
	return append(b, '}')
}

func (r secretsResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"secrets":`...)
	b = appendSecrets(b, r.Secrets, r.Shape)
	return append(b, '}')
}
