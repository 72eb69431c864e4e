//! `ehrchain-server` binary: `serve` (default) or `audit-verify`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use ehrchain_server::config::{Cli, Command, ServeArgs};
use ehrchain_server::start;
use tracing_subscriber::EnvFilter;

fn init_logging(args: &ServeArgs) {
    let filter = EnvFilter::try_new(&args.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if args.log_format == "text" {
        builder.init();
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    init_logging(args);
    let settings = match args.settings() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(start::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

fn report_audit(verification: std::io::Result<ehrchain_server::audit::Verification>) -> ExitCode {
    match verification {
        Ok(v) => {
            let ok = v.ok();
            println!("{}", serde_json::json!({ "ok": ok, "report": v }));
            if ok {
                eprintln!("audit log intact: {} entries, head {}", v.entries, v.head);
                ExitCode::SUCCESS
            } else {
                match &v.first_bad {
                    Some(bad) => eprintln!(
                        "audit log BROKEN at line {} (seq {:?}): {}",
                        bad.line, bad.seq, bad.reason
                    ),
                    None => eprintln!(
                        "audit log ends in a torn entry ({} bytes)",
                        v.torn_tail_bytes
                    ),
                }
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: cannot read the audit log: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::AuditVerify {
            data_dir,
            database_url,
        }) => match (database_url, data_dir) {
            (Some(url), _) => match url.resolve("EHR_DATABASE_URL") {
                Ok(url) => report_audit(start::audit_verify_database(&url)),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            },
            (None, Some(dir)) => report_audit(start::audit_verify(&dir)),
            (None, None) => {
                eprintln!("error: audit-verify needs --data-dir or --database-url");
                ExitCode::from(2)
            }
        },
        Some(Command::Serve(args)) => serve(&args),
        None => serve(&cli.serve),
    }
}
