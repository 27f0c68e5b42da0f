//! `local-stack token`: a JWT the local HTTP API accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use local_stack::{mint_token, template_jwt_settings, StackContext, Template, TokenRequest};

use super::up::parse_pair;

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user id (`sub`).
    #[arg(long)]
    user: String,
    #[arg(long, default_value_t = 60)]
    ttl_minutes: u64,
    /// Extra claim `key=value` (repeatable).
    #[arg(long = "claim", value_parser = parse_pair)]
    claims: Vec<(String, String)>,
    /// Template whose JwtConfiguration gives `iss` and `aud` (default: infra/template.yaml).
    #[arg(long)]
    template: Option<PathBuf>,
    /// Signing secret.
    #[arg(long, env = "LOCAL_JWT_SECRET", default_value = local_stack::DEFAULT_JWT_SECRET, hide_env_values = true)]
    secret: String,
}

pub fn run(workspace: &Path, args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let path = args.template.clone().unwrap_or_else(|| workspace.join("infra").join("template.yaml"));
    let template = Template::load(&path).with_context(|| format!("reading {}", path.display()))?;
    let context = StackContext::new(local_stack::DEFAULT_STACK_NAME, local_stack::DEFAULT_REGION);
    let jwt = template_jwt_settings(&template, context, &BTreeMap::new())?;
    let token = mint_token(
        &args.secret,
        &TokenRequest {
            subject: args.user.clone(),
            issuer: jwt.issuer,
            audience: jwt.audience,
            ttl: Duration::from_secs(args.ttl_minutes.saturating_mul(60)),
            claims: args.claims.iter().cloned().collect(),
        },
    )?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
