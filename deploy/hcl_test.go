package deploy

import "github.com/hashicorp/hcl/v2/hclwrite"

func hclwriteFormat(src []byte) []byte { return hclwrite.Format(src) }
