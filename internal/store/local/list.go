package local

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/rotorhq/rotor/internal/store"
)

const maxFilterValues = 10

// ListSecrets lists secrets by creation date (newest first unless SortOrder
// is "asc"), filtered as Secrets Manager filters: filters must all match; in
// one filter, a secret matches when any plain value matches and no negated
// ("!") value does. NextToken is the position of the last secret returned.
func (s *Store) ListSecrets(ctx context.Context, in store.ListSecretsInput) (*store.ListSecretsOutput, error) {
	size, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	filters, err := compileFilters(in.Filters)
	if err != nil {
		return nil, err
	}
	asc := false
	switch in.SortOrder {
	case "asc":
		asc = true
	case "", "desc":
	default:
		return nil, invalid("SortOrder must be asc or desc; got %q", in.SortOrder)
	}
	var after uint64
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err == nil {
			after, err = strconv.ParseUint(string(b), 10, 64)
		}
		if err != nil {
			return nil, invalid("NextToken is not valid; pass the one a previous call returned")
		}
	}
	out := &store.ListSecretsOutput{}
	err = s.view(ctx, "", func(tx *txn) error {
		var last *record
		return tx.db.each(asc, after, func(r *record) bool {
			if r.expired(tx.now) || r.scheduled() && !in.IncludePlannedDeletion || !filters.match(r) {
				return true
			}
			if len(out.Secrets) == size {
				out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(last.Seq, 10)))
				return false
			}
			out.Secrets = append(out.Secrets, r.describe())
			last = r
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type filter struct {
	key      string
	pos, neg []string
}

type filters []filter

var filterKeys = []string{"description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"}

func compileFilters(in []store.Filter) (filters, error) {
	out := make(filters, 0, len(in))
	for _, f := range in {
		if !slices.Contains(filterKeys, f.Key) {
			return nil, invalid("filter key %q: want one of %s", f.Key, strings.Join(filterKeys, ", "))
		}
		if len(f.Values) < 1 || len(f.Values) > maxFilterValues {
			return nil, invalid("filter %s needs 1 to %d values", f.Key, maxFilterValues)
		}
		c := filter{key: f.Key}
		for _, v := range f.Values {
			if len(v) > 512 {
				return nil, invalid("filter %s: a value has at most 512 characters", f.Key)
			}
			if n, ok := strings.CutPrefix(v, "!"); ok {
				c.neg = append(c.neg, n)
			} else {
				c.pos = append(c.pos, v)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (fs filters) match(r *record) bool {
	for _, f := range fs {
		if !f.match(r) {
			return false
		}
	}
	return true
}

func (f filter) match(r *record) bool {
	for _, v := range f.neg {
		if f.matchValue(r, v) {
			return false
		}
	}
	if len(f.pos) == 0 {
		return true
	}
	for _, v := range f.pos {
		if f.matchValue(r, v) {
			return true
		}
	}
	return false
}

// matchValue applies one value: a prefix match, case-insensitive for the
// description; "all" matches words in any attribute.
func (f filter) matchValue(r *record, v string) bool {
	switch f.key {
	case "name":
		return strings.HasPrefix(r.Name, v)
	case "description":
		return strings.HasPrefix(strings.ToLower(r.Description), strings.ToLower(v))
	case "tag-key":
		for _, t := range r.Tags {
			if strings.HasPrefix(t.Key, v) {
				return true
			}
		}
	case "tag-value":
		for _, t := range r.Tags {
			if strings.HasPrefix(t.Value, v) {
				return true
			}
		}
	case "all":
		return matchWords(r, v)
	}
	// primary-region and owning-service: local secrets are neither
	// replicated nor owned by a service.
	return false
}

// matchWords is the "all" filter: the value is split into words, and a
// secret matches when one of them starts a word of its name, description,
// tag keys or tag values, ignoring case.
func matchWords(r *record, v string) bool {
	want := words(v)
	if len(want) == 0 {
		return false
	}
	attrs := []string{r.Name, r.Description}
	for _, t := range r.Tags {
		attrs = append(attrs, t.Key, t.Value)
	}
	for _, a := range attrs {
		for _, w := range words(a) {
			for _, p := range want {
				if strings.HasPrefix(w, p) {
					return true
				}
			}
		}
	}
	return false
}

// words splits s into lower-case words at punctuation, at changes between
// letters and digits, and where a lower-case letter is followed by an
// upper-case one ("credsDatabase#892" -> creds, database, 892).
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, c := range s {
		switch {
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			flush()
		case len(cur) > 0 && (unicode.IsDigit(c) != unicode.IsDigit(prev) || unicode.IsLower(prev) && unicode.IsUpper(c)):
			flush()
			cur = append(cur, c)
		default:
			cur = append(cur, c)
		}
		prev = c
	}
	flush()
	return out
}
