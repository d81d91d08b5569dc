// Package awsapitest holds an awsapi Service's endpoints to the SDK's.
package awsapitest

import "testing"

// Regions are those CompareEndpoints checks: each partition rotor knows.
var Regions = []string{"us-east-1", "eu-central-1", "ap-southeast-2", "cn-north-1", "cn-northwest-1",
	"us-gov-west-1", "us-iso-east-1", "us-isob-east-1"}

// CompareEndpoints fails t where endpoint and the SDK's resolver (sdk)
// disagree, in every region of Regions, with and without FIPS and dual
// stack. Combinations the SDK refuses are skipped.
func CompareEndpoints(t *testing.T, endpoint func(region string, fips, dual bool) (string, bool), sdk func(region string, fips, dual bool) (string, error)) {
	t.Helper()
	for _, region := range Regions {
		for _, fips := range []bool{false, true} {
			for _, dual := range []bool{false, true} {
				want, err := sdk(region, fips, dual)
				if err != nil {
					continue
				}
				got, ok := endpoint(region, fips, dual)
				if !ok || got != want {
					t.Errorf("%s fips=%v dual=%v: %q, %v; the SDK resolves %q", region, fips, dual, got, ok, want)
				}
			}
		}
	}
}
