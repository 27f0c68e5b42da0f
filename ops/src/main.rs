//! `ops`: what on-call needs instead of the AWS console. Works the same against AWS
//! and the local stack: the standard AWS configuration decides where requests go
//! (`AWS_ENDPOINT_URL`, `AWS_REGION`, profiles).

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ops::cli::Cli::parse();
    match ops::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ops: {}", kit::error::chain(e.as_ref()));
            ExitCode::from(1)
        }
    }
}
