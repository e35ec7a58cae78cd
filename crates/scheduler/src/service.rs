//! The whole daemon as production runs it: the job engine and the mailer's delivery loop side by
//! side on one database, built from settings, stopping together. `outreach scheduler` and the
//! `outreach-scheduler` binary both run this, and so will `outreach serve`.

use std::path::Path;

use outreach_core::config::Settings;
use outreach_mailer::{MailSettings, Mailer};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use tokio::sync::watch;

use crate::daemon::{Daemon, DaemonConfig};
use crate::error::Result;
use crate::handlers::Registry;
use crate::rules::Workflows;
use crate::settings::SchedulerSettings;

/// Builds the daemon and the mailer from settings, reading workflows and templates relative to
/// `base`. Templates are checked here, so a broken template stops the start, not a send.
///
/// # Errors
/// [`crate::Error::Workflows`] or [`crate::Error::Mailer`] naming what is wrong.
pub fn build(db: DatabaseConnection, settings: &Settings, base: &Path) -> Result<(Daemon, Mailer)> {
    let scheduler: SchedulerSettings = settings.section()?;
    let workflows = Workflows::from_settings(base, &scheduler)?;
    let mailer = Mailer::from_settings(&settings.section::<MailSettings>()?, base)?;
    let daemon = Daemon::new(
        db,
        DaemonConfig::from_settings(&scheduler),
        Registry::builtin(),
        workflows,
    );
    Ok((daemon, mailer))
}

/// Runs jobs and delivery until `shutdown` turns true.
///
/// # Errors
/// Errors the loops cannot ride out.
pub async fn run(
    db: DatabaseConnection,
    daemon: Daemon,
    mailer: Mailer,
    shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let mut stop = shutdown.clone();
    let delivery = tokio::spawn(async move {
        outreach_mailer::run(&db, &mailer, async move {
            let _ = stop.wait_for(|v| *v).await;
        })
        .await
    });
    let jobs = daemon.run(shutdown).await;
    let delivered = delivery.await.map_err(|e| {
        crate::Error::Workflows(format!("the delivery loop stopped abnormally: {e}"))
    })?;
    jobs?;
    delivered?;
    Ok(())
}

/// What one pass over everything due did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OncePass {
    pub schedules_fired: usize,
    pub jobs_run: usize,
    pub emails_processed: usize,
}

/// Fires due schedules, runs every due job, then delivers every due email, and returns.
///
/// # Errors
/// Database and mailer errors.
pub async fn run_once(
    db: &DatabaseConnection,
    daemon: &Daemon,
    mailer: &Mailer,
) -> Result<OncePass> {
    let mut pass = OncePass {
        schedules_fired: daemon.fire_cron(chrono::Utc::now()).await?,
        ..OncePass::default()
    };
    loop {
        let n = daemon.run_once().await?;
        if n == 0 {
            break;
        }
        pass.jobs_run += n;
    }
    loop {
        let n = outreach_mailer::deliver_once(db, mailer).await?;
        if n == 0 {
            break;
        }
        pass.emails_processed += n;
    }
    Ok(pass)
}
