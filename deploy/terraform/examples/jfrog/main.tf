# The JFrog token rotator's setup with rotor: the same variables, the same
# outputs. Build the package first (make lambda-zip), then
#   terraform init && terraform apply -var jfrog_host=mycompany.jfrog.io \
#     -var jfrog_admin_username=ci-bot
# and map the role to the user once, if jfrog_admin_token was not given:
#   JFROG_ADMIN_TOKEN=... rotor jfrog set-role --host mycompany.jfrog.io \
#     --user ci-bot --role "$(terraform output -raw iam_role_arn)"

variable "region" {
  type    = string
  default = "eu-central-1"
}

variable "jfrog_host" {
  type = string
}

variable "jfrog_admin_username" {
  type = string
}

variable "jfrog_admin_token" {
  type      = string
  default   = null
  sensitive = true
}

variable "tags" {
  type    = map(string)
  default = { ManagedBy = "terraform" }
}

provider "aws" {
  region = var.region
}

module "rotor" {
  source = "../.."

  region               = var.region
  jfrog_host           = var.jfrog_host
  jfrog_admin_username = var.jfrog_admin_username
  jfrog_admin_token    = var.jfrog_admin_token
  secret_ttl           = 28800 # 8h: outlives 4h + the 1h window + rotor's margin
  rotation_schedule    = "rate(4 hours)"
  rotation_duration    = "1h"
  tags                 = var.tags

  # Other kinds, by the same function.
  secrets = {
    "app/db-password" = {
      kind                = "password"
      schedule_expression = "rate(30 days)"
      options             = { length = "40" }
    }
  }
}

output "secret_name" {
  value = module.rotor.secret_name
}

output "secret_arn" {
  value = module.rotor.secret_arn
}

output "function_name" {
  value = module.rotor.function_name
}

output "iam_role_arn" {
  value = module.rotor.iam_role_arn
}
