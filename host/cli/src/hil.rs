//! `sentio hil run`: hardware-in-the-loop cases against one or more boards (the logic is in
//! sentio-hil; this parses, connects, draws progress and writes the reports).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use miette::{Result, WrapErr, bail};
use sentio_diagnostics::FileContext as _;
use sentio_flash::serial::open_port;
use sentio_flash::{ConnectOptions, Connection, FlashOutcome};
use sentio_hil::{Case, CaseFile, CaseResult, Progress, junit_xml, run_cases, summary};

#[derive(Subcommand, Debug)]
pub enum HilCommand {
    /// Run a case file against boards: flash its bundles, stream each case's image and audio,
    /// check the events that come out; a JUnit XML report per board; exit 1 if any case failed.
    ///
    /// A case file (TOML): `bundles = ["fer.bundle"]`, then per case `[[case]]` with `name`,
    /// `image` (PNG/JPEG), `audio` (WAV, any rate), `timeout_s` (default 10) and
    /// `expect = { expression = "happy", speech = "happy", mood = "happy", emoji = "..." }`.
    Run(RunArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The case file.
    pub cases: PathBuf,
    /// A board's serial port; repeat for several boards (run in parallel, one report each).
    #[arg(
        short = 'p',
        long = "port",
        required = true,
        env = "SENTIO_HIL_PORT",
        value_delimiter = ','
    )]
    pub ports: Vec<String>,
    /// Line speed in baud.
    #[arg(short = 'b', long, env = "SENTIO_BAUD", default_value_t = 921_600)]
    pub baud: u32,
    /// Folder for the JUnit XML reports (`hil-<port>.xml` per board).
    #[arg(long, default_value = "hil-reports")]
    pub junit: PathBuf,
}

pub fn run(command: HilCommand) -> Result<()> {
    match command {
        HilCommand::Run(args) => run_all(&args),
    }
}

/// Prints each step as a line (stdout stays a log a CI job can keep).
struct Lines<'a> {
    port: &'a str,
}

impl Progress for Lines<'_> {
    fn bundle(&mut self, path: &Path, outcome: FlashOutcome) {
        println!("{}: {}: {outcome:?}", self.port, path.display());
    }
    fn case_started(&mut self, case: &Case) {
        println!("{}: case {:?} ...", self.port, case.name);
    }
    fn case_done(&mut self, result: &CaseResult) {
        let verdict = if result.passed() { "pass" } else { "FAIL" };
        println!(
            "{}: case {:?}: {verdict} ({:.2} s)",
            self.port, result.name, result.seconds
        );
    }
}

/// `hil-<port>.xml`, the port's path made a file name.
fn report_name(port: &str) -> String {
    let name: String = port
        .trim_start_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("hil-{name}.xml")
}

fn run_board(port: &str, baud: u32, file: &CaseFile) -> Result<Vec<CaseResult>> {
    let transport = open_port(port, baud)?;
    let connection = Connection::open(transport, ConnectOptions::new(port, baud))
        .with_context(|| format!("cannot connect to the device on {port}"))?;
    Ok(run_cases(connection, file, &mut Lines { port })?)
}

fn run_all(args: &RunArgs) -> Result<()> {
    let file = CaseFile::load(&args.cases)?;
    std::fs::create_dir_all(&args.junit)
        .file_context(|| format!("cannot create {}", args.junit.display()))?;
    let runs: Vec<(String, Result<Vec<CaseResult>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = args
            .ports
            .iter()
            .map(|port| {
                let file = &file;
                (
                    port.clone(),
                    scope.spawn(move || run_board(port, args.baud, file)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(port, h)| {
                let result = h
                    .join()
                    .unwrap_or_else(|_| Err(miette::miette!("the run on {port} panicked")));
                (port, result)
            })
            .collect()
    });
    let mut failed = false;
    for (port, result) in runs {
        match result {
            Ok(results) => {
                let path = args.junit.join(report_name(&port));
                sentio_files::write_bytes_atomically(&path, junit_xml(&port, &results).as_bytes())
                    .file_context(|| format!("cannot write {}", path.display()))?;
                print!("\n{}", summary(&port, &results));
                println!("  report: {}", path.display());
                failed |= results.iter().any(|r| !r.passed());
            }
            Err(e) => {
                let style = sentio_diagnostics::Style::for_stderr();
                eprintln!(
                    "{port}: {}",
                    sentio_diagnostics::render("sentio", &e, style)
                );
                failed = true;
            }
        }
    }
    if failed {
        bail!(
            code = "device::hil::cases_failed",
            help = "see the table above and the JUnit reports",
            "some cases failed"
        );
    }
    Ok(())
}
