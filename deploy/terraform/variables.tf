# The JFrog token rotator's variables keep their names and meaning, so that
# its users can point their module block here; rotor's own follow.

variable "region" {
  description = "AWS region of the function and its secrets (as the JFrog rotator's region; the provider's region when null)."
  type        = string
  default     = null
}

variable "jfrog_host" {
  description = "JFrog platform host (JFROG_HOST), e.g. mycompany.jfrog.io. When set, the module creates the JFrog token secret (secret_name) rotated by the jfrog kind."
  type        = string
  default     = null
}

variable "secret_ttl" {
  description = "JFrog token lifetime in seconds (SECRET_TTL). It must outlive the rotation interval plus its window plus a margin; rotor refuses shorter."
  type        = number
  default     = 28800
}

variable "secret_name" {
  description = "Name of the JFrog token secret created when jfrog_host is set."
  type        = string
  default     = "jfrog/access-token"
}

variable "rotation_schedule" {
  description = "Rotation schedule of the JFrog token secret."
  type        = string
  default     = "rate(4 hours)"
}

variable "rotation_duration" {
  description = "Rotation window of the JFrog token secret."
  type        = string
  default     = "1h"
}

variable "jfrog_admin_username" {
  description = "JFrog user the function's IAM role is mapped to (the token's user). With jfrog_admin_token, the module maps it with rotor jfrog set-role."
  type        = string
  default     = null
}

variable "jfrog_admin_token" {
  description = "JFrog admin token for the one-time role mapping (rotor jfrog set-role, run locally; needs rotor on PATH). Null: map the role yourself."
  type        = string
  default     = null
  sensitive   = true
}

variable "ecr_image_uri" {
  description = "Container image of the function (make image, pushed to ECR). Null: the zip in lambda_zip."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}

variable "lambda_zip" {
  description = "Deployment package built by make lambda-zip; its architecture must match architecture."
  type        = string
  default     = null
}

variable "architecture" {
  description = "arm64 (dist/rotor-lambda-arm64.zip) or x86_64 (dist/rotor-lambda-amd64.zip)."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "function_name" {
  description = "Name of the rotation function."
  type        = string
  default     = "rotor-rotation"
}

variable "timeout" {
  description = "Seconds per rotation step; rotor refuses to start a step with less than 5 seconds left."
  type        = number
  default     = 60
}

variable "log_level" {
  description = "Application log level: DEBUG, INFO, WARN or ERROR."
  type        = string
  default     = "INFO"
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30
}

variable "environment" {
  description = "Function-wide defaults of kind and notification options, as ROTOR_<OPTION> variables."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secrets the module creates and rotates, by name: kind, schedule, window, and rotor:<option> tags."
  type = map(object({
    kind                = string
    schedule_expression = string
    duration            = optional(string)
    description         = optional(string, "rotated by rotor")
    options             = optional(map(string), {})
    initial_value       = optional(string, "{}")
  }))
  default = {}
}

variable "existing_secret_arns" {
  description = "Secrets made elsewhere that this function rotates (their rotation set up outside the module)."
  type        = list(string)
  default     = []
}

variable "iam_user_arns" {
  description = "IAM users whose access keys the iam-access-key kind rotates with auth=role."
  type        = list(string)
  default     = []
}

variable "admin_token_secret_arns" {
  description = "Secrets holding JFrog admin tokens (the jfrog kind's admin-token-secret)."
  type        = list(string)
  default     = []
}

variable "dockerhub_account_secret_arns" {
  description = "Secrets holding Docker Hub account credentials (the dockerhub kind's account-secret)."
  type        = list(string)
  default     = []
}

variable "database_master_secret_arns" {
  description = "Secrets the masterarn of postgres and mysql secrets with strategy alternating-users names (their superuser)."
  type        = list(string)
  default     = []
}

variable "ecr_pull_credentials" {
  description = "Whether the function refreshes ecr secrets with its own role (ecr:GetAuthorizationToken, which takes no resource but *); not needed when each ecr secret names a key-secret."
  type        = bool
  default     = false
}

variable "ecr_key_secret_arns" {
  description = "Secrets holding the IAM keys ecr secrets call ECR with (the ecr kind's key-secret)."
  type        = list(string)
  default     = []
}

variable "ssm_parameter_arns" {
  description = "SSM parameters the dockerhub kind reads: the account's user name and password (account-*-parameter, DOCKER_HUB_USERNAME, DOCKER_HUB_PASSWORD) and DOCKER_HUB_SLACK_WEBHOOK_URL."
  type        = list(string)
  default     = []
}

variable "parameters_kms_key_arn" {
  description = "Customer managed KMS key of those SecureString parameters; null for aws/ssm."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer managed KMS key of the secrets; null for aws/secretsmanager."
  type        = string
  default     = null
}

variable "sns_topic_arns" {
  description = "SNS topics the notifications publish to (notify-sns-topic)."
  type        = list(string)
  default     = []
}

variable "ses_identity_arns" {
  description = "SES identities the notifications send from (notify-ses-from: the address and domain identities)."
  type        = list(string)
  default     = []
}
