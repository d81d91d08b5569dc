package iamkey

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rotorhq/rotor/internal/awsapi"
)

// iamService is IAM's API, called over its Query protocol through
// internal/awsapi: the SDK's IAM client builds its endpoint tables when
// every rotor process starts, for the five actions the kind makes.
var iamService = awsapi.Service{ID: "IAM", SigningName: "iam", Endpoint: iamEndpoint, SigningRegion: iamSigningRegion}

// iamVersion is the IAM API version of the Query protocol.
const iamVersion = "2010-05-08"

// iamHosts are a partition's IAM hosts: IAM is global, one endpoint per
// partition whatever the region.
func iamHosts(region string) (plain, fips, dualStack, dualStackFIPS string, ok bool) {
	region = partitionRegion(region)
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "iam.cn-north-1.amazonaws.com.cn", "iam-fips.amazonaws.com.cn",
			"iam.global.api.amazonwebservices.com.cn", "iam-fips.api.amazonwebservices.com.cn", true
	case strings.HasPrefix(region, "us-gov-"):
		return "iam.us-gov.amazonaws.com", "iam.us-gov.amazonaws.com", "iam.us-gov.api.aws", "iam.us-gov.api.aws", true
	case strings.HasPrefix(region, "us-isob-"):
		return "iam.us-isob-east-1.sc2s.sgov.gov", "iam-fips.us-isob-east-1.sc2s.sgov.gov", "iam.api.aws.scloud", "iam-fips.api.aws.scloud", true
	case strings.HasPrefix(region, "us-iso-"):
		return "iam.us-iso-east-1.c2s.ic.gov", "iam-fips.us-iso-east-1.c2s.ic.gov", "iam.api.aws.ic.gov", "iam-fips.api.aws.ic.gov", true
	case strings.Contains(region, "-iso"), strings.HasPrefix(region, "eusc-"):
		return "", "", "", "", false
	}
	return "iam.amazonaws.com", "iam-fips.amazonaws.com", "iam.global.api.aws", "iam-fips.global.api.aws", true
}

func iamEndpoint(region string, fips, dualStack bool) (string, bool) {
	plain, f, d, df, ok := iamHosts(region)
	host := plain
	switch {
	case fips && dualStack:
		host = df
	case fips:
		host = f
	case dualStack:
		host = d
	}
	return "https://" + host, ok
}

// partitionRegion maps the SDK's global pseudo-regions (aws-global,
// aws-cn-global, …) to a region of their partition.
func partitionRegion(region string) string {
	switch region {
	case "aws-cn-global":
		return "cn-north-1"
	case "aws-us-gov-global":
		return "us-gov-west-1"
	case "aws-iso-global":
		return "us-iso-east-1"
	case "aws-iso-b-global":
		return "us-isob-east-1"
	}
	return region
}

// iamSigningRegion is the region IAM's endpoint for region signs for.
func iamSigningRegion(region string) string {
	region = partitionRegion(region)
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "cn-north-1"
	case strings.HasPrefix(region, "us-gov-"):
		return "us-gov-west-1"
	case strings.HasPrefix(region, "us-isob-"):
		return "us-isob-east-1"
	case strings.HasPrefix(region, "us-iso-"):
		return "us-iso-east-1"
	}
	return "us-east-1"
}

// accessKeyMetadata is one key ListAccessKeys lists.
type accessKeyMetadata struct {
	AccessKeyId *string    `xml:"AccessKeyId"`
	Status      string     `xml:"Status"`
	CreateDate  *time.Time `xml:"CreateDate"`
}

// accessKey is the key CreateAccessKey made, with its secret.
type accessKey struct {
	AccessKeyId     *string `xml:"AccessKeyId"`
	SecretAccessKey *string `xml:"SecretAccessKey"`
}

// accessKeyLastUsed is GetAccessKeyLastUsed's answer.
type accessKeyLastUsed struct {
	LastUsedDate *time.Time `xml:"LastUsedDate"`
	ServiceName  *string    `xml:"ServiceName"`
}

// iamClient makes the kind's IAM calls.
type iamClient struct {
	api      *awsapi.Client
	pageSize int // ListAccessKeys's MaxItems; 0: IAM's default (100)
}

func (r *Rotator) iamClient(creds aws.CredentialsProvider) *iamClient {
	cfg := r.deps.AWS.Copy()
	cfg.Credentials = creds
	if r.deps.HTTPClient != nil {
		cfg.HTTPClient = r.deps.HTTPClient
	}
	c := awsapi.New(cfg, iamService)
	if r.deps.IAMEndpoint != "" {
		c = c.WithEndpoint(r.deps.IAMEndpoint)
	}
	return &iamClient{api: c}
}

// listAccessKeys returns all of user's access keys, every page.
func (c *iamClient) listAccessKeys(ctx context.Context, user string) ([]accessKeyMetadata, error) {
	var keys []accessKeyMetadata
	seen := map[string]bool{}
	marker := ""
	for {
		params := url.Values{"UserName": {user}}
		if c.pageSize > 0 {
			params.Set("MaxItems", strconv.Itoa(c.pageSize))
		}
		if marker != "" {
			params.Set("Marker", marker)
		}
		var page struct {
			AccessKeyMetadata []accessKeyMetadata `xml:"AccessKeyMetadata>member"`
			IsTruncated       bool                `xml:"IsTruncated"`
			Marker            string              `xml:"Marker"`
		}
		if err := c.api.Query(ctx, "ListAccessKeys", iamVersion, params, &page); err != nil {
			return nil, err
		}
		for _, k := range page.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == "" {
				return nil, errors.New("IAM listed an access key without an id")
			}
			keys = append(keys, k)
		}
		if !page.IsTruncated {
			return keys, nil
		}
		if page.Marker == "" || seen[page.Marker] {
			return nil, errors.New("IAM's ListAccessKeys answered a truncated page without a new marker")
		}
		seen[page.Marker] = true
		marker = page.Marker
	}
}

// probe lists user's keys, the one call a key's own policy grants that
// proves it can manage the user's keys.
func (c *iamClient) probe(ctx context.Context, user string) error {
	var page struct{} // only that the answer is IAM's
	return c.api.Query(ctx, "ListAccessKeys", iamVersion, url.Values{"UserName": {user}}, &page)
}

func (c *iamClient) createAccessKey(ctx context.Context, user string) (accessKey, error) {
	var out struct {
		AccessKey accessKey `xml:"AccessKey"`
	}
	err := c.api.Query(ctx, "CreateAccessKey", iamVersion, url.Values{"UserName": {user}}, &out)
	return out.AccessKey, err
}

// deactivate makes key id of user Inactive.
func (c *iamClient) deactivate(ctx context.Context, user, id string) error {
	return c.api.Query(ctx, "UpdateAccessKey", iamVersion, url.Values{"UserName": {user}, "AccessKeyId": {id}, "Status": {"Inactive"}}, nil)
}

func (c *iamClient) deleteAccessKey(ctx context.Context, user, id string) error {
	return c.api.Query(ctx, "DeleteAccessKey", iamVersion, url.Values{"UserName": {user}, "AccessKeyId": {id}}, nil)
}

func (c *iamClient) lastUsed(ctx context.Context, id string) (accessKeyLastUsed, error) {
	var out struct {
		AccessKeyLastUsed accessKeyLastUsed `xml:"AccessKeyLastUsed"`
	}
	err := c.api.Query(ctx, "GetAccessKeyLastUsed", iamVersion, url.Values{"AccessKeyId": {id}}, &out)
	return out.AccessKeyLastUsed, err
}
