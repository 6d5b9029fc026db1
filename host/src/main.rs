//! `tailmcp`: parses the command line and runs the chosen command.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tailmcp::cli::{Cli, Command, PolicyCommand};

/// After `serve` returns (its drain done or timed out), how long tasks still
/// running get to be dropped. Guests are dropped at their next epoch yield;
/// anything stuck longer is abandoned, so the process exits regardless.
const RUNTIME_STOP: Duration = Duration::from_millis(250);

fn main() -> ExitCode {
    let cli = Cli::parse();
    tailmcp::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(cli.command));
    runtime.shutdown_timeout(RUNTIME_STOP);
    code
}

async fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve(args) => {
            let config = match args.into_config() {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            match tailmcp::serve(config, shutdown_signal()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Compile(args) => match tailmcp::compile(&args.input, args.output.as_deref()) {
            Ok(output) => {
                println!("wrote {}", output.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Policy(command) => policy(command).await,
        Command::Health(args) => match tailmcp::health::probe(&args.listen, args.timeout).await {
            Ok(body) => {
                println!("{body}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("unhealthy: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `tailmcp policy check` and `tailmcp policy explain`.
async fn policy(command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Check { file, component } => {
            match tailmcp::policy_cmd::check(&file, component.as_deref()).await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        PolicyCommand::Explain {
            file,
            component,
            login,
            name,
            grant,
            tagged: _,
        } => {
            let caller = match PolicyCommand::caller(login, name, grant.as_deref()) {
                Ok(caller) => caller,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            match tailmcp::policy_cmd::explain(&file, component.as_deref(), &caller).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what `docker stop` and
/// Kubernetes send). The handlers are installed now, before the server says
/// it is listening, so an early signal is never fatal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        match (terminate, interrupt) {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {},
                    _ = interrupt.recv() => {},
                }
            }
            _ => {
                tracing::warn!("cannot install signal handlers; stop with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
    }
}
