//! What `ecsh run` and the REPL share: the guard the flags ask for, the connected target, and a
//! host session whose creating calls are journalled in a run ledger.

use super::{exit, GlobalArgs};
use crate::connect::Target;
use crate::guard::Guard;
use crate::host::pace::{first_guesses, Known, Pace};
use crate::host::pace_file::{self, PaceFile};
use crate::host::Session;
use crate::ledger::Ledger;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::runtime::Runtime;

/// A session ready to run scripts: keep it alive for the whole run.
pub struct Prepared {
    pub runtime: Runtime,
    pub target: Target,
    pub guard: Arc<Guard>,
    pub cancel: Arc<AtomicBool>,
    pub session: Session,
    pub ledger: Ledger,
    /// Where the run's learned durations are remembered, and the target's key there.
    pace: Option<(PaceFile, String)>,
    /// Declared last: dropped after the ledger is done with its journal.
    _journal: JournalDir,
}

/// Connects, builds the guard from the flags and starts the run's ledger (labelled `label`).
/// `Ok(Err(code))` is a usage error already reported on stderr.
pub fn prepare(global: &GlobalArgs, label: &str) -> anyhow::Result<Result<Prepared, i32>> {
    prepare_with(global, label, |_| {})
}

/// [`prepare`], with the target options adjusted by `adjust` (`ecsh call --method get`,
/// `ecsh run --sim-exec local`).
pub fn prepare_with(
    global: &GlobalArgs,
    label: &str,
    adjust: impl FnOnce(&mut crate::connect::TargetOptions),
) -> anyhow::Result<Result<Prepared, i32>> {
    let guard = match global.guard() {
        Ok(g) => Arc::new(g),
        Err(e) => {
            eprintln!("ecsh: {e}");
            return Ok(Err(exit::USAGE));
        }
    };
    prepare_guarded(global, label, adjust, guard)
}

/// [`prepare_with`], with a guard the caller built (`ecsh run --plan` binds it to a plan).
pub fn prepare_guarded(
    global: &GlobalArgs,
    label: &str,
    adjust: impl FnOnce(&mut crate::connect::TargetOptions),
    guard: Arc<Guard>,
) -> anyhow::Result<Result<Prepared, i32>> {
    let lease = match global
        .auto_release
        .as_deref()
        .map(crate::ledger::lease::LeasePolicy::parse)
    {
        None => crate::ledger::lease::LeasePolicy::default(),
        Some(Ok(l)) => l,
        Some(Err(e)) => {
            eprintln!("ecsh: {e}");
            return Ok(Err(exit::USAGE));
        }
    };
    let runtime = super::runtime()?;
    let mut options = global.target_options()?;
    adjust(&mut options);
    let target = runtime.block_on(crate::connect::connect(&options))?;
    eprintln!("{}", target.banner);
    let cancel = Arc::new(AtomicBool::new(false));
    let journal = JournalDir::for_target(global, &target)?;
    // A team ledger given explicitly is used even against the embedded simulator.
    let store = match &global.ledger {
        Some(_) => Some(super::ledger::journals(global)?),
        None => None,
    };
    let (pace, remembered) = load_pace(global, &target, &options);
    let ledger = crate::ledger::start_run_with(
        &target.client,
        journal.path(),
        label,
        &target.label(),
        lease,
        store,
        pace.release_policy(),
    )?;
    // The lease is renewed for as long as the run or session lives.
    let output = super::run::terminal_output(global.quiet);
    ledger.renew_leases(runtime.handle(), output.warn.clone());
    let mut session = Session::new(
        target.client.clone(),
        target.resolved.region.clone(),
        runtime.handle().clone(),
        output,
        cancel.clone(),
        guard.clone(),
    );
    session.ledger = Some(ledger.clone());
    session.pace = pace;
    Ok(Ok(Prepared {
        runtime,
        target,
        guard,
        cancel,
        session,
        ledger,
        pace: remembered,
        _journal: journal,
    }))
}

/// The waits' first guesses for `target`: what earlier runs against it remembered in the
/// pace file (beside the journals; for the embedded simulator too, whose own journal is
/// temporary), over the table of [`first_guesses`]. A file that cannot be read is noted under
/// `-v` (`ecsh::pace`) and ignored: remembering is an optimisation, never a reason to fail.
fn load_pace(
    global: &GlobalArgs,
    target: &Target,
    options: &crate::connect::TargetOptions,
) -> (Pace, Option<(PaceFile, String)>) {
    let (known, key) = match target.sim {
        Some(_) => (
            Known::Embedded(options.sim_world.time),
            pace_file::embedded_key(options.sim_world.time),
        ),
        None => (
            Known::Service,
            pace_file::endpoint_key(target.resolved.endpoint.as_deref(), &target.resolved.region),
        ),
    };
    let mut prior = first_guesses(known);
    let dir = match &global.journal_dir {
        Some(d) => Some(d.clone()),
        None => crate::ledger::journal::default_dir().ok(),
    };
    let Some(file) = dir.map(|d| PaceFile::in_dir(&d)) else {
        return (Pace::with_prior(prior), None);
    };
    match file.load(&key, unix_now()) {
        Ok(remembered) => prior.extend(remembered),
        Err(e) => tracing::info!(target: "ecsh::pace", "{e}"),
    }
    (Pace::with_prior(prior), Some((file, key)))
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Prepared {
    /// Remembers what the run's waits learned (see [`load_pace`]; a failure is only noted),
    /// and stops the embedded simulator, if there is one.
    pub fn close(self) {
        if let Some((file, key)) = &self.pace {
            if let Err(e) = file.record(key, &self.session.pace.learned(), unix_now()) {
                tracing::info!(target: "ecsh::pace", "{e}");
            }
        }
        let Prepared {
            runtime, target, ..
        } = self;
        if let Some(sim) = target.sim {
            let _ = runtime.block_on(sim.shutdown());
        }
    }
}

/// The journal directory of a run. Runs against the embedded simulator journal into a
/// private temporary directory removed at exit: their resources vanish with the process, so
/// there is nothing for a later `ecsh cleanup` to do, and nothing should be listed.
pub struct JournalDir {
    path: Option<PathBuf>,
    temporary: bool,
}

impl JournalDir {
    pub fn for_target(
        global: &GlobalArgs,
        target: &crate::connect::Target,
    ) -> anyhow::Result<JournalDir> {
        if global.journal_dir.is_some() || !target.is_simulator() {
            return Ok(JournalDir {
                path: global.journal_dir.clone(),
                temporary: false,
            });
        }
        JournalDir::temporary()
    }

    /// A private temporary journal directory, removed when this value is dropped (the
    /// embedded simulator's runs, and the shadow run of `ecsh plan`).
    pub fn temporary() -> anyhow::Result<JournalDir> {
        let dir = std::env::temp_dir().join(format!(
            "ecsh-embedded-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the run journal directory {}: {e}",
                dir.display()
            )
        })?;
        Ok(JournalDir {
            path: Some(dir),
            temporary: true,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl Drop for JournalDir {
    fn drop(&mut self) {
        if let (true, Some(dir)) = (self.temporary, &self.path) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
