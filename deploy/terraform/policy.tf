# The function's least privilege: the statements of `rotor policy` (a test in
# deploy/ fails if they drift apart). Each optional statement is granted when
# its input is given.

locals {
  log_group_arn = "${aws_cloudwatch_log_group.this.arn}:*"
}

data "aws_iam_policy_document" "rotor" {
  statement {
    sid    = "RotateSecrets"
    effect = "Allow"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    resources = local.secret_arns
  }

  dynamic "statement" {
    for_each = length(var.admin_token_secret_arns) == 0 ? [] : [var.admin_token_secret_arns]
    content {
      sid       = "ReadJFrogAdminToken"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.dockerhub_account_secret_arns) == 0 ? [] : [var.dockerhub_account_secret_arns]
    content {
      sid       = "ReadDockerHubAccount"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.database_master_secret_arns) == 0 ? [] : [var.database_master_secret_arns]
    content {
      sid       = "ReadDatabaseMasterSecrets"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = var.ecr_pull_credentials ? ["*"] : []
    content {
      sid       = "GetECRAuthorizationToken"
      effect    = "Allow"
      actions   = ["ecr:GetAuthorizationToken"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(var.ecr_key_secret_arns) == 0 ? [] : [var.ecr_key_secret_arns]
    content {
      sid       = "ReadECRKeySecret"
      effect    = "Allow"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.ssm_parameter_arns) == 0 ? [] : [var.ssm_parameter_arns]
    content {
      sid       = "ReadDockerHubParameters"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = var.parameters_kms_key_arn == null ? [] : [var.parameters_kms_key_arn]
    content {
      sid       = "DecryptDockerHubParameters"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.iam_user_arns) == 0 ? [] : [var.iam_user_arns]
    content {
      sid    = "RotateIAMAccessKeys"
      effect = "Allow"
      actions = [
        "iam:CreateAccessKey",
        "iam:DeleteAccessKey",
        "iam:ListAccessKeys",
        "iam:UpdateAccessKey",
      ]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseSecretsKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.sns_topic_arns) == 0 ? [] : [var.sns_topic_arns]
    content {
      sid       = "PublishNotifications"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = statement.value
    }
  }

  dynamic "statement" {
    for_each = length(var.ses_identity_arns) == 0 ? [] : [var.ses_identity_arns]
    content {
      sid       = "SendNotificationMail"
      effect    = "Allow"
      actions   = ["ses:SendEmail"]
      resources = statement.value
    }
  }

  statement {
    sid       = "WriteLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [local.log_group_arn]
  }
}
