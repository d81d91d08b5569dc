package smapi

import (
	"context"
	"errors"
	"strings"

	"github.com/rotorhq/rotor/internal/store"
)

// filterKeys are the ListSecrets filter keys of the API.
var filterKeys = map[string]bool{
	"description": true, "name": true, "tag-key": true, "tag-value": true,
	"primary-region": true, "owning-service": true, "all": true,
}

type filterJSON struct {
	Key    *string  `json:"Key"`
	Values []string `json:"Values"`
}

func validateFilters(v *validator, filters []filterJSON) {
	for i, f := range filters {
		prefix := fieldIndex("filters", i)
		if f.Key != nil && !filterKeys[*f.Key] {
			v.add(prefix+".key", "Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]")
		}
		v.count(prefix+".values", len(f.Values), 1, maxFilterValues, f.Values != nil)
		for j, val := range f.Values {
			field := fieldIndex(prefix+".values", j)
			v.length(field, &val, 1, maxFilterValue)
			v.pattern(field, &val, filterValuePattern())
		}
	}
}

func filtersIn(in []filterJSON) []store.Filter {
	if in == nil {
		return nil
	}
	out := make([]store.Filter, 0, len(in))
	for _, f := range in {
		out = append(out, store.Filter{Key: deref(f.Key), Values: f.Values})
	}
	return out
}

type listSecretsInput struct {
	Filters                []filterJSON `json:"Filters"`
	MaxResults             *int64       `json:"MaxResults"`
	NextToken              *string      `json:"NextToken"`
	IncludePlannedDeletion *bool        `json:"IncludePlannedDeletion"`
	SortOrder              *string      `json:"SortOrder"`
	SortBy                 *string      `json:"SortBy"`
}

type listSecretsOutput struct {
	SecretList []secretEntry `json:"SecretList"`
	NextToken  *string       `json:"NextToken,omitempty"`
}

func (h *handler) listSecrets(ctx context.Context, body []byte) (any, error) {
	var in listSecretsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validator
	validateFilters(&v, in.Filters)
	v.rangeOf("maxResults", in.MaxResults, 1, maxListResults)
	v.length("nextToken", in.NextToken, 1, maxNextToken)
	if in.SortOrder != nil && *in.SortOrder != "asc" && *in.SortOrder != "desc" {
		v.add("sortOrder", "Member must satisfy enum value set: [asc, desc]")
	}
	switch deref(in.SortBy) {
	case "", "created-date", "last-accessed-date", "last-changed-date", "name":
	default:
		v.add("sortBy", "Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if by := deref(in.SortBy); by != "" && by != "created-date" {
		return nil, errorf(excInvalidParameter, "rotor sorts secrets by created-date only: leave SortBy out or set it to created-date, not %s.", by)
	}
	page, err := h.store.ListSecrets(ctx, store.ListSecretsInput{
		Filters:                filtersIn(in.Filters),
		MaxResults:             int(deref64(in.MaxResults)),
		NextToken:              deref(in.NextToken),
		IncludePlannedDeletion: derefBool(in.IncludePlannedDeletion, false),
		SortOrder:              deref(in.SortOrder),
	})
	if err != nil {
		return nil, nextTokenError(err)
	}
	out := listSecretsOutput{SecretList: []secretEntry{}, NextToken: omitEmpty(page.NextToken)}
	for i := range page.Secrets {
		out.SecretList = append(out.SecretList, newSecretEntry(&page.Secrets[i], true))
	}
	return out, nil
}

// nextTokenError reports a NextToken the store refused as AWS does, with
// InvalidNextTokenException. Stores report it as an invalid parameter whose
// message names NextToken.
func nextTokenError(err error) error {
	var se *store.Error
	if errors.As(err, &se) && (se.Code == store.ErrInvalidParameter || se.Code == store.ErrInvalidRequest) &&
		strings.Contains(se.Message, "NextToken") {
		return &apiError{Type: excInvalidNextToken, Message: se.Message}
	}
	return err
}
