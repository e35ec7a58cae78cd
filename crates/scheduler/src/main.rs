//! `outreach-scheduler`: the daemon on its own (the same as `outreach scheduler`): due jobs,
//! cron schedules and email delivery, until SIGINT or SIGTERM.

fn main() -> std::process::ExitCode {
    outreach_scheduler::logging::init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let settings = outreach_core::config::Settings::load()?;
    let db = outreach_core::db::open(&settings.database_url, &settings.actor()).await?;
    let (daemon, mailer) =
        outreach_scheduler::service::build(db.clone(), &settings, std::path::Path::new("."))?;
    outreach_scheduler::service::run(
        db,
        daemon,
        mailer,
        outreach_scheduler::daemon::shutdown_on_signals(),
    )
    .await?;
    Ok(())
}
