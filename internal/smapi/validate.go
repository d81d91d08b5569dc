package smapi

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// Length limits of the Secrets Manager API model.
const (
	maxSecretID      = 2048
	maxName          = 512
	minToken         = 32
	maxToken         = 64
	maxDescription   = 2048
	maxKmsKeyID      = 2048
	maxSecretValue   = 65536
	maxStage         = 256
	maxStages        = 20
	maxTagKey        = 128
	maxTagValue      = 256
	maxLambdaARN     = 2048
	maxSchedule      = 256
	maxNextToken     = 4096
	maxFilterValue   = 512
	maxFilterValues  = 10
	maxListResults   = 100
	maxBatchResults  = 20
	maxBatchIDs      = 20
	minRotationToken = 36
	maxRotationToken = 256
	maxRotationDays  = 1000
)

var (
	// namePattern is what CreateSecret accepts as a name.
	namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`) })
	// filterValuePattern is the ListSecrets filter value pattern.
	filterValuePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^!?[a-zA-Z0-9 :_@/+=.\-]*$`) })
	durationPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9h]+$`) })
	schedulePattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z()#?*\-/, ]+$`) })
)

// validator collects constraint violations the way AWS's request validation
// reports them: "N validation errors detected: Value at 'x' failed to
// satisfy constraint: ...; ...". Values are never quoted, so a secret value
// cannot end up in the message.
type validator struct{ problems []string }

func (v *validator) add(field, constraint string) {
	v.problems = append(v.problems, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", field, constraint))
}

// required reports a member that must be present.
func (v *validator) required(field string, present bool) {
	if !present {
		v.problems = append(v.problems, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", field))
	}
}

// length checks the length in characters of a present string member.
func (v *validator) length(field string, s *string, minLen, maxLen int) {
	if s == nil {
		return
	}
	v.lengthOf(field, utf8.RuneCountInString(*s), minLen, maxLen)
}

func (v *validator) lengthOf(field string, n, minLen, maxLen int) {
	switch {
	case n < minLen:
		v.add(field, fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	case maxLen > 0 && n > maxLen:
		v.add(field, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	}
}

// count checks the number of items of a present list member.
func (v *validator) count(field string, n, minN, maxN int, present bool) {
	if !present {
		return
	}
	v.lengthOf(field, n, minN, maxN)
}

// rangeOf checks a present numeric member.
func (v *validator) rangeOf(field string, n *int64, minN, maxN int64) {
	if n == nil {
		return
	}
	if *n < minN {
		v.add(field, fmt.Sprintf("Member must have value greater than or equal to %d", minN))
	} else if *n > maxN {
		v.add(field, fmt.Sprintf("Member must have value less than or equal to %d", maxN))
	}
}

// pattern checks a present string member against the model's pattern.
func (v *validator) pattern(field string, s *string, re *regexp.Regexp) {
	if s != nil && !re.MatchString(*s) {
		v.add(field, "Member must satisfy regular expression pattern: "+re.String())
	}
}

func (v *validator) err() error {
	switch len(v.problems) {
	case 0:
		return nil
	case 1:
		return errorf(excValidation, "1 validation error detected: %s", v.problems[0])
	}
	return errorf(excValidation, "%d validation errors detected: %s", len(v.problems), strings.Join(v.problems, "; "))
}

// checkSecretID validates the SecretId member every secret operation has.
func (v *validator) secretID(id *string) {
	v.required("secretId", id != nil)
	v.length("secretId", id, 1, maxSecretID)
}

// token validates an optional ClientRequestToken.
func (v *validator) token(field string, t *string) {
	v.length(field, t, minToken, maxToken)
}

// tags validates a tag list.
func (v *validator) tags(field string, tags []tagJSON) {
	for i, t := range tags {
		prefix := fieldIndex(field, i)
		v.required(prefix+".key", t.Key != nil)
		v.length(prefix+".key", t.Key, 1, maxTagKey)
		v.length(prefix+".value", t.Value, 0, maxTagValue)
	}
}

// requireToken is AWS's check for requests that create a version: the SDKs
// fill ClientRequestToken in, a raw request must.
func requireToken(t *string) error {
	if t == nil || *t == "" {
		return errorf(excInvalidRequest, "You must provide a ClientRequestToken value. We recommend a UUID-type value.")
	}
	return nil
}

// checkName applies the secret name rules of CreateSecret.
func checkName(name string) error {
	if !namePattern().MatchString(name) {
		return errorf(excValidation, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}

// fieldIndex names the i-th member of a list the way AWS's messages do.
func fieldIndex(field string, i int) string {
	return fmt.Sprintf("%s.%d.member", field, i+1)
}
