//! `ecsh plan FILE [ARGS…]`, and the plan step of `ecsh run --plan FILE`.
//!
//! Both run the script against a shadow of the target (`crate::plan`): an in-process
//! simulator, strict, with instant time and simulated commands, whose catalogue reads and
//! account state come from the target, read-only. `plan` prints what was found (a table on a
//! terminal, JSON when piped or with `--output json`; docs/plan.md); `run --plan` shows it as
//! one cost block, asks once, and holds the real run to it (`crate::plan::bound`).

use super::flags::{flag_set, LogFlags, OutputFlags, TargetFlags};
use super::session::JournalDir;
use super::{exit, GlobalArgs};
use crate::connect::Target;
use crate::guard::block::{escape_terminal, format_estimate};
use crate::guard::{CostBlock, Guard, Money};
use crate::host::{runner, Output, Session};
use crate::plan::forward::Forwarder;
use crate::plan::{Plan, PlanPrompter, Recorder};
use crate::rpc::{Client, ClientConfig, Credentials};
use crate::sim::model::{ExecMode, TimeMode, WorldOptions};
use crate::sim::{self, SimConfig};
use clap::Args;
use std::fmt::Write as _;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::runtime::Runtime;

flag_set!(
    /// The shared flags `plan` takes.
    PlanFlags {
        target: TargetFlags,
        output: OutputFlags,
        log: LogFlags,
    }
);

#[derive(Debug, Args)]
#[command(
    after_help = "Nothing is created on the target: only reads reach it (catalogue, prices, \
                  stock, and the account's VPCs, vswitches and security groups). Flags of ecsh \
                  go before FILE; everything after FILE is the script's."
)]
pub struct PlanArgs {
    #[command(flatten)]
    pub script: super::run::ScriptArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
}

/// The script a plan runs: its name, source and `ARGS`.
pub struct Script<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub args: &'a [String],
}

pub fn run(global: &GlobalArgs, args: PlanArgs) -> anyhow::Result<i32> {
    let (name, source) = match super::run::read_script(args.script.file()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::USAGE);
        }
    };
    let script = Script {
        name: &name,
        source: &source,
        args: args.script.args(),
    };
    let runtime = super::runtime()?;
    let target = runtime.block_on(crate::connect::connect(&global.target_options()?))?;
    eprintln!("{}", target.banner);
    let planned = shadow(&runtime, &target, &script);
    if let Some(sim) = target.sim {
        let _ = runtime.block_on(sim.shutdown());
    }
    let plan = planned?;
    let json = serde_json::to_value(&plan)?;
    use std::io::IsTerminal;
    let as_json = match &global.output {
        Some(super::Output::Json) => true,
        Some(super::Output::Table) => false,
        Some(super::Output::Columns(_)) => true,
        None => global.query.is_some() || !std::io::stdout().is_terminal(),
    };
    if as_json {
        let value = super::render::query(global.query.as_deref(), json)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", escape_terminal(&render(&plan)));
    }
    Ok(if plan.error.is_some() {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// Runs `script` against a shadow of `target` and returns its plan. The shadow and its
/// temporary journal are gone when this returns.
pub fn shadow(runtime: &Runtime, target: &Target, script: &Script) -> anyhow::Result<Plan> {
    let recorder = Recorder::default();
    let mut cfg = SimConfig::embedded();
    cfg.world = WorldOptions {
        time: TimeMode::Scaled(0.0),
        exec: ExecMode::Simulated,
    };
    cfg.upstream = Some(Arc::new(Forwarder::new(
        target.client.clone(),
        recorder.clone(),
    )));
    let shadow = runtime
        .block_on(sim::start(cfg))
        .map_err(|e| anyhow::anyhow!("could not start the plan's shadow simulator: {e:#}"))?;
    let mut config = ClientConfig::new(
        Credentials::new(
            shadow.access_key_id().to_string(),
            shadow.access_key_secret().expose().to_string(),
        ),
        target.resolved.region.clone(),
    );
    config.endpoint_override = Some(shadow.endpoint());
    let client = Client::new(config)?;
    let journal = JournalDir::temporary()?;
    let ledger = crate::ledger::start_run(
        &client,
        journal.path(),
        &format!("plan of {}", script.name),
        "plan shadow",
        crate::ledger::lease::LeasePolicy::default(),
        // The shadow's journal is its own temporary files, never the team ledger.
        None,
    )?;
    // The script's own output in the shadow is not shown: it would print made-up ids.
    let (output, _, _) = Output::capture();
    let guard = Arc::new(Guard::new(Box::new(PlanPrompter(recorder.clone()))));
    let mut session = Session::new(
        client,
        target.resolved.region.clone(),
        runtime.handle().clone(),
        output,
        Arc::new(AtomicBool::new(false)),
        guard,
    );
    session.ledger = Some(ledger.clone());
    let site = recorder.site.clone();
    session.on_line = Some(Arc::new(move |line| site.set(line)));
    let outcome = runner::run_source(
        script.name,
        script.source,
        script.args.to_vec(),
        session.clone(),
    );
    recorder.script_ended();
    let released = runtime.block_on(ledger.finish());
    let simulated = session.simulated.lock().map(|s| s.len()).unwrap_or(0);
    let _ = runtime.block_on(shadow.shutdown());
    let mut plan = recorder.plan(script.name, &target.label());
    plan.error = outcome.err().map(|f| runner::render_error(&f));
    if let Err(e) = released {
        plan.error.get_or_insert(format!(
            "releasing what the script created in the shadow failed: {e}"
        ));
    }
    plan.unknowns = unknowns(script.source, simulated);
    Ok(plan)
}

/// Where the script's path depends on what the shadow cannot know.
fn unknowns(source: &str, simulated: usize) -> Vec<String> {
    let mut out = Vec::new();
    if simulated > 0 {
        out.push(format!(
            "{simulated} Cloud Assistant command(s) were simulated: their output and exit code \
             are made up, so a script that branches on them may take another path when it runs"
        ));
    }
    // Rhai's own clock is the one source of non-determinism a script can reach (there is no
    // random number function in the engine ecsh builds); found in the AST, not in comments.
    let engine = rhai::Engine::new_raw();
    if let Ok(ast) = engine.compile(source) {
        let mut reads_time = false;
        ast.walk(&mut |path: &[rhai::ASTNode]| {
            if let Some(rhai::ASTNode::Expr(rhai::Expr::FnCall(call, _))) = path.last() {
                reads_time |= call.name.as_str() == "timestamp";
            }
            true
        });
        if reads_time {
            out.push(
                "the script reads the time (timestamp()), which differs between the plan and \
                 the run (the shadow's waits take no time)"
                    .into(),
            );
        }
    }
    out
}

/// The plan as text, for a terminal.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Plan of {} against {} (nothing was created there; {} reads sent)",
        plan.script, plan.target, plan.reads_sent
    );
    let line = |l: Option<usize>| l.map(|l| l.to_string()).unwrap_or_else(|| "-".into());
    if plan.resources.is_empty() {
        let _ = writeln!(out, "\nResources: none");
    } else {
        let mut rows = vec![[
            "line".to_string(),
            "kind".into(),
            "status".into(),
            "name".into(),
            "region/zone".into(),
            "spec".into(),
            "released".into(),
        ]];
        for r in &plan.resources {
            let status = match &r.id {
                Some(id) => format!("{} {id}", r.status),
                None => r.status.to_string(),
            };
            let place = match &r.zone {
                Some(z) => z.clone(),
                None => r.region.clone(),
            };
            rows.push([
                line(r.line),
                r.kind.clone(),
                status,
                r.name.clone(),
                place,
                r.spec.clone(),
                r.released.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        let _ = writeln!(out, "\nResources:");
        out.push_str(&columns(&rows));
    }
    if plan.charges.is_empty() {
        let _ = writeln!(out, "\nChargeable actions: none");
    } else {
        let mut rows = vec![[
            "line".to_string(),
            "action".into(),
            "what".into(),
            "unit price".into(),
            "estimate".into(),
            "outcome".into(),
        ]];
        for c in &plan.charges {
            rows.push([
                line(c.line),
                c.action.clone(),
                // The network is listed among the resources.
                c.summary
                    .split(", network:")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                c.unit_price.clone(),
                c.estimate.as_ref().map_or("not quoted".into(), money),
                c.outcome.clone(),
            ]);
        }
        let _ = writeln!(out, "\nChargeable actions (quoted by the target):");
        out.push_str(&columns(&rows));
    }
    let _ = writeln!(
        out,
        "\nTotal for the run: {}",
        plan.total.as_ref().map_or("nothing".into(), money)
    );
    let _ = writeln!(
        out,
        "Highest hourly cost at any moment: {}",
        plan.peak_hourly
            .as_ref()
            .map_or("nothing".into(), |m| format!("{}/hour", money(m)))
    );
    for u in &plan.unknowns {
        let _ = writeln!(out, "Unknown to the plan: {u}");
    }
    if let Some(e) = &plan.error {
        let _ = writeln!(out, "The script failed in the shadow:\n{e}");
    }
    out
}

fn money(m: &Money) -> String {
    format!("{} {}", m.currency, format_estimate(m.amount))
}

/// Rows as left-aligned columns, two spaces apart, indented by two.
fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut text = String::from(" ");
        for (w, cell) in widths.iter().zip(row) {
            let _ = write!(text, " {cell:<w$} ");
        }
        let _ = writeln!(out, "{}", text.trim_end());
    }
    out
}

/// The one cost block `ecsh run --plan` asks with: every chargeable action of the plan, the
/// total, and the highest hourly cost.
pub fn block(plan: &Plan) -> CostBlock {
    let details = plan
        .charges
        .iter()
        .map(|c| {
            let at = c.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let cost = c.estimate.as_ref().map_or("not quoted".into(), money);
            (
                format!("{}{at}", c.action),
                format!("{}: {cost}, {}", c.summary, c.outcome),
            )
        })
        .chain(
            plan.resources
                .iter()
                .filter(|r| r.status == "reused")
                .map(|r| {
                    (
                        format!("Reuses {}", r.kind),
                        format!("{} ({})", r.id.clone().unwrap_or_default(), r.name),
                    )
                }),
        )
        .collect();
    let total = plan.total.as_ref().map_or("nothing".into(), money);
    CostBlock {
        action: format!("the plan of {}", plan.script),
        title: "ECS Cost Estimate for the whole run (ecsh run --plan):".into(),
        details,
        unit_price: plan
            .peak_hourly
            .as_ref()
            .map_or("nothing".into(), |m| format!("{}/hour at most", money(m))),
        runtime: "as estimated for each action".into(),
        total,
        billing: "pay-as-you-go; the run is held to this plan, and anything beyond it is \
                  asked again (refused without a terminal)"
            .into(),
        notes: plan.unknowns.clone(),
        estimate: plan.total.clone(),
        hourly: plan.peak_hourly.clone(),
        summary: format!("the plan of {}", plan.script),
        keep: None,
    }
}

#[cfg(test)]
mod tests {
    use super::unknowns;

    #[test]
    fn the_plan_says_when_the_script_reads_the_time_or_branches_on_simulated_output() {
        assert_eq!(
            unknowns("let t = timestamp(); print(t.elapsed);", 0).len(),
            1
        );
        // A comment or a name is not a call.
        assert!(unknowns("// timestamp()\nlet brand = \"timestamp\";", 0).is_empty());
        let simulated = unknowns("print(1);", 2);
        assert!(simulated[0].starts_with("2 Cloud Assistant command(s) were simulated"));
    }
}
