package iamkey

import (
	"context"
	"errors"
	"net/url"
	"strconv"
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

// iamPartition is one partition's IAM: IAM is global, one endpoint per
// partition whatever the region, and it signs for one region.
type iamPartition struct {
	plain, fips, dualStack, dualStackFIPS string // hosts
	signingRegion                         string
}

// iamPartitions are IAM's, by awsapi.Partition.
var iamPartitions = map[string]iamPartition{
	"aws": {"iam.amazonaws.com", "iam-fips.amazonaws.com", "iam.global.api.aws", "iam-fips.global.api.aws", "us-east-1"},
	"aws-cn": {"iam.cn-north-1.amazonaws.com.cn", "iam-fips.amazonaws.com.cn",
		"iam.global.api.amazonwebservices.com.cn", "iam-fips.api.amazonwebservices.com.cn", "cn-north-1"},
	"aws-us-gov": {"iam.us-gov.amazonaws.com", "iam.us-gov.amazonaws.com", "iam.us-gov.api.aws", "iam.us-gov.api.aws", "us-gov-west-1"},
	"aws-iso": {"iam.us-iso-east-1.c2s.ic.gov", "iam-fips.us-iso-east-1.c2s.ic.gov",
		"iam.api.aws.ic.gov", "iam-fips.api.aws.ic.gov", "us-iso-east-1"},
	"aws-iso-b": {"iam.us-isob-east-1.sc2s.sgov.gov", "iam-fips.us-isob-east-1.sc2s.sgov.gov",
		"iam.api.aws.scloud", "iam-fips.api.aws.scloud", "us-isob-east-1"},
	"aws-iso-e": {"iam.eu-isoe-west-1.cloud.adc-e.uk", "iam-fips.cloud.adc-e.uk",
		"iam.api.cloud-aws.adc-e.uk", "iam-fips.api.cloud-aws.adc-e.uk", "eu-isoe-west-1"},
	"aws-iso-f": {"iam.us-isof-south-1.csp.hci.ic.gov", "iam-fips.csp.hci.ic.gov",
		"iam.api.aws.hci.ic.gov", "iam-fips.api.aws.hci.ic.gov", "us-isof-south-1"},
	"aws-eusc": {"iam.eusc-de-east-1.amazonaws.eu", "iam-fips.amazonaws.eu",
		"iam.global.api.amazonwebservices.eu", "iam-fips.api.amazonwebservices.eu", "eusc-de-east-1"},
}

func iamEndpoint(region string, fips, dualStack bool) (string, bool) {
	p, ok := iamPartitions[awsapi.Partition(region)]
	if !ok {
		return "", false
	}
	host := p.plain
	switch {
	case fips && dualStack:
		host = p.dualStackFIPS
	case fips:
		host = p.fips
	case dualStack:
		host = p.dualStack
	}
	return "https://" + host, true
}

// iamSigningRegion is the region IAM's endpoint for region signs for.
func iamSigningRegion(region string) string {
	return iamPartitions[awsapi.Partition(region)].signingRegion
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
