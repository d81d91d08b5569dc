# rotor as the Secrets Manager rotation function: one function rotates every
# secret tagged rotor:kind=<kind>.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  region     = coalesce(var.region, data.aws_region.current.name)
  lambda_zip = coalesce(var.lambda_zip, "${path.module}/../../dist/rotor-lambda-${var.architecture == "arm64" ? "arm64" : "amd64"}.zip")

  # The JFrog rotator's secret, when jfrog_host is set.
  jfrog_secret = var.jfrog_host == null ? {} : {
    (var.secret_name) = {
      kind                = "jfrog"
      schedule_expression = var.rotation_schedule
      duration            = var.rotation_duration
      description         = "JFrog access token, rotated by rotor"
      options             = var.jfrog_admin_username == null ? {} : { username = var.jfrog_admin_username }
      initial_value       = "{}"
    }
  }
  secrets = merge(local.jfrog_secret, var.secrets)

  secret_arns = concat([for s in aws_secretsmanager_secret.this : s.arn], var.existing_secret_arns)

  environment = merge(
    var.jfrog_host == null ? {} : { JFROG_HOST = var.jfrog_host, SECRET_TTL = tostring(var.secret_ttl) },
    var.environment,
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.function_name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "rotor-rotation"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.rotor.json
}

resource "aws_lambda_function" "this" {
  function_name    = var.function_name
  description      = "rotor credential rotation for Secrets Manager"
  role             = aws_iam_role.this.arn
  package_type     = var.ecr_image_uri == null ? "Zip" : "Image"
  image_uri        = var.ecr_image_uri
  filename         = var.ecr_image_uri == null ? local.lambda_zip : null
  source_code_hash = var.ecr_image_uri == null ? filebase64sha256(local.lambda_zip) : null
  runtime          = var.ecr_image_uri == null ? "provided.al2023" : null
  handler          = var.ecr_image_uri == null ? "bootstrap" : null
  architectures    = [var.architecture]
  memory_size      = 128
  timeout          = var.timeout
  tags             = var.tags

  logging_config {
    log_format            = "JSON"
    application_log_level = var.log_level
    system_log_level      = "WARN"
    log_group             = aws_cloudwatch_log_group.this.name
  }

  dynamic "environment" {
    for_each = length(local.environment) == 0 ? [] : [local.environment]
    content {
      variables = environment.value
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

# Secrets Manager may invoke the function for this account's rotated secrets
# only (source_account and source_arn: no confused deputy).
resource "aws_lambda_permission" "secrets" {
  for_each       = local.secrets
  statement_id   = "SecretsManager-${substr(sha256(each.key), 0, 16)}"
  function_name  = aws_lambda_function.this.function_name
  action         = "lambda:InvokeFunction"
  principal      = "secretsmanager.amazonaws.com"
  source_account = data.aws_caller_identity.current.account_id
  source_arn     = aws_secretsmanager_secret.this[each.key].arn
}

resource "aws_lambda_permission" "existing" {
  for_each       = toset(var.existing_secret_arns)
  statement_id   = "SecretsManager-${substr(sha256(each.key), 0, 16)}"
  function_name  = aws_lambda_function.this.function_name
  action         = "lambda:InvokeFunction"
  principal      = "secretsmanager.amazonaws.com"
  source_account = data.aws_caller_identity.current.account_id
  source_arn     = each.key
}

resource "aws_secretsmanager_secret" "this" {
  for_each    = local.secrets
  name        = each.key
  description = each.value.description
  kms_key_id  = var.kms_key_arn
  tags = merge(var.tags, { "rotor:kind" = each.value.kind },
  { for k, v in each.value.options : "rotor:${k}" => v })
}

resource "aws_secretsmanager_secret_version" "initial" {
  for_each      = local.secrets
  secret_id     = aws_secretsmanager_secret.this[each.key].id
  secret_string = each.value.initial_value
  lifecycle {
    ignore_changes = [secret_string, version_stages]
  }
}

resource "aws_secretsmanager_secret_rotation" "this" {
  for_each            = local.secrets
  secret_id           = aws_secretsmanager_secret.this[each.key].id
  rotation_lambda_arn = aws_lambda_function.this.arn
  rotation_rules {
    schedule_expression = each.value.schedule_expression
    duration            = each.value.duration
  }
  depends_on = [aws_lambda_permission.secrets, aws_secretsmanager_secret_version.initial, terraform_data.jfrog_role]
}

# The one-time admin step of the IAM role exchange: map the function's role
# to the JFrog user (rotor jfrog set-role, run where terraform runs).
resource "terraform_data" "jfrog_role" {
  count            = var.jfrog_host != null && var.jfrog_admin_token != null && var.jfrog_admin_username != null ? 1 : 0
  triggers_replace = [var.jfrog_host, var.jfrog_admin_username, aws_iam_role.this.arn]
  provisioner "local-exec" {
    command = "rotor jfrog set-role --host \"$JFROG_HOST\" --user \"$JFROG_USER\" --role \"$ROLE_ARN\""
    environment = {
      JFROG_HOST        = var.jfrog_host
      JFROG_USER        = var.jfrog_admin_username
      ROLE_ARN          = aws_iam_role.this.arn
      JFROG_ADMIN_TOKEN = var.jfrog_admin_token
    }
  }
}
