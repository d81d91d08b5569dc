# The JFrog rotator's outputs, then rotor's.

output "secret_name" {
  description = "Name of the JFrog token secret (null without jfrog_host)."
  value       = var.jfrog_host == null ? null : aws_secretsmanager_secret.this[var.secret_name].name
}

output "secret_arn" {
  description = "ARN of the JFrog token secret (null without jfrog_host), e.g. for an ECS task's repositoryCredentials."
  value       = var.jfrog_host == null ? null : aws_secretsmanager_secret.this[var.secret_name].arn
}

output "function_name" {
  description = "Name of the rotation function."
  value       = aws_lambda_function.this.function_name
}

output "iam_role_arn" {
  description = "The function's role: the IAM role a JFrog user is mapped to."
  value       = aws_iam_role.this.arn
}

output "region" {
  description = "Region of the function and its secrets."
  value       = local.region
}

output "function_arn" {
  description = "The RotationLambdaARN for secrets rotated outside the module."
  value       = aws_lambda_function.this.arn
}

output "secret_arns" {
  description = "ARNs of the secrets the module created, by name."
  value       = { for k, s in aws_secretsmanager_secret.this : k => s.arn }
}

output "policy_json" {
  description = "The function's policy (the statements of rotor policy)."
  value       = data.aws_iam_policy_document.rotor.json
}
