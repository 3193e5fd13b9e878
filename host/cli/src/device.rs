//! Commands that talk to devices over serial: devices, info, flash, monitor, rollback, delete.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use indicatif::MultiProgress;
use miette::{IntoDiagnostic as _, Result, WrapErr as _, bail, miette};
use sentio_diagnostics::FileContext as _;
use sentio_flash::serial::{
    PortChoice, PortInfo, SerialTransport, choose_port, list_ports, open_port,
};
use sentio_flash::{ConnectOptions, Connection, FlashOptions, FlashOutcome, FlashReport, Push};
use sentio_link::{Capabilities, ModelInfo, Slot};
use serde::Serialize;

use crate::progress::BarProgress;

/// How to reach a device; shared by every serial command.
#[derive(Args, Debug, Clone)]
pub struct ConnectArgs {
    /// Serial port of the device; left out, the only USB serial port (`sentio devices` lists
    /// them; with several, a terminal asks which).
    #[arg(short = 'p', long, env = "SENTIO_PORT")]
    pub port: Option<String>,
    /// Line speed in baud.
    #[arg(short = 'b', long, env = "SENTIO_BAUD", default_value_t = 921_600)]
    pub baud: u32,
}

impl ConnectArgs {
    /// The port given, or the one [`pick_port`] finds.
    pub fn port(&self) -> Result<String> {
        match &self.port {
            Some(port) => Ok(port.clone()),
            None => pick_port(),
        }
    }
}

/// The port to use when none was given: the only USB serial port; with several, the user's
/// pick on a terminal and a usage error listing them otherwise; with none, a device error.
pub fn pick_port() -> Result<String> {
    let ports = list_ports()?;
    match choose_port(&ports) {
        PortChoice::Only(port) => {
            eprintln!("using {} (the only USB serial port)", port.describe());
            Ok(port.path)
        }
        PortChoice::None => Err(miette!(
            code = "device::cli::no_usb_port",
            help = "connect the board (sentiod's USB gadget shows up as /dev/ttyACM*), or give \
                    a built-in UART with --port; `sentio devices` lists the ports",
            "no USB serial port found"
        )),
        PortChoice::Several(ports) => {
            let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            if interactive {
                ask_port(&ports)
            } else {
                let list: Vec<String> = ports
                    .iter()
                    .map(|p| format!("  {}", p.describe()))
                    .collect();
                Err(miette!(
                    code = "usage::cli::several_ports",
                    help = "pick one with --port PORT (or SENTIO_PORT)",
                    "{} USB serial ports and no --port:\n{}",
                    ports.len(),
                    list.join("\n")
                ))
            }
        }
    }
}

/// Asks on the terminal which of `ports` to use.
fn ask_port(ports: &[PortInfo]) -> Result<String> {
    eprintln!("several USB serial ports (give --port to skip this question):");
    for (i, p) in ports.iter().enumerate() {
        eprintln!("  {}) {}", i + 1, p.describe());
    }
    loop {
        eprint!("which one [1-{}]? ", ports.len());
        let mut line = String::new();
        let read = std::io::stdin().read_line(&mut line).into_diagnostic()?;
        if read == 0 {
            bail!(code = "usage::cli::no_port_chosen", "no port chosen");
        }
        let picked = line
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| ports.get(n.wrapping_sub(1)));
        if let Some(port) = picked {
            return Ok(port.path.clone());
        }
    }
}

#[derive(Args, Debug)]
pub struct DevicesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct FlashArgs {
    /// Serial port of a device; repeat to flash several devices in parallel. Left out, the
    /// only USB serial port (with several, a terminal asks which).
    #[arg(short = 'p', long = "port", env = "SENTIO_PORT", value_delimiter = ',')]
    pub ports: Vec<String>,
    /// Line speed in baud.
    #[arg(short = 'b', long, env = "SENTIO_BAUD", default_value_t = 921_600)]
    pub baud: u32,
    /// One JSON object per flashed (or skipped) bundle on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Upload even when the device already runs an identical bundle.
    #[arg(long)]
    pub force: bool,
    /// Store and verify only; make it active later (or with `sentio flash` again).
    #[arg(long = "stage-only")]
    pub stage_only: bool,
    /// Skip reading the model back after writing.
    #[arg(long)]
    pub no_verify: bool,
    /// Reconnect and resume this many times after a lost connection.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Bundles to flash (made with `sentio bundle pack`).
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Leave out the stats reports.
    #[arg(long)]
    pub no_stats: bool,
}

#[derive(Args, Debug)]
pub struct ModelArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Model name.
    pub name: String,
}

fn connect(port: &str, baud: u32) -> Result<Connection<SerialTransport>> {
    let transport = open_port(port, baud)?;
    Ok(Connection::open(
        transport,
        ConnectOptions::new(port, baud),
    )?)
}

pub fn devices(args: &DevicesArgs) -> Result<()> {
    let ports = list_ports()?;
    if args.json {
        #[derive(Serialize)]
        struct Port<'a> {
            path: &'a str,
            description: String,
        }
        let list: Vec<_> = ports
            .iter()
            .map(|p| Port {
                path: &p.path,
                description: p.describe(),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list).into_diagnostic()?);
    } else if ports.is_empty() {
        eprintln!(
            "no serial ports found (a board running sentiod with a USB gadget shows up as /dev/ttyACM*)"
        );
    } else {
        for p in &ports {
            println!("{}", p.describe());
        }
    }
    Ok(())
}

/// A model as `info --json` prints it.
#[derive(Serialize)]
struct ModelJson {
    name: String,
    version: String,
    slot: &'static str,
    sha256: String,
    size: u64,
    verified: bool,
}

impl From<&ModelInfo> for ModelJson {
    fn from(m: &ModelInfo) -> Self {
        ModelJson {
            name: m.name.to_string(),
            version: m.version.to_string(),
            slot: slot_name(m.slot),
            sha256: hex::encode(m.sha256),
            size: m.size,
            verified: m.verified,
        }
    }
}

fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Active => "active",
        Slot::Previous => "previous",
    }
}

fn capability_names(c: Capabilities) -> Vec<&'static str> {
    [
        (Capabilities::MODELS, "models"),
        (Capabilities::EVENTS, "events"),
        (Capabilities::STATS, "stats"),
        (Capabilities::INPUT_INJECTION, "input-injection"),
        (Capabilities::SIGNATURES, "signatures"),
        (Capabilities::RESUME, "resume"),
    ]
    .into_iter()
    .filter(|(bit, _)| c.contains(*bit))
    .map(|(_, name)| name)
    .collect()
}

pub fn info(args: &InfoArgs) -> Result<()> {
    let port = args.connect.port()?;
    let mut conn = connect(&port, args.connect.baud)?;
    let device = conn.device_info().clone();
    let models = conn.list_models()?;
    let negotiated = conn.negotiated();
    if args.json {
        let json = serde_json::json!({
            "port": port,
            "board": device.board.as_str(),
            "firmware_version": device.firmware_version.as_str(),
            "serial_number": device.serial_number.as_str(),
            "capabilities": capability_names(device.capabilities),
            "limits": {
                "max_frame": device.limits.max_frame,
                "max_chunk": device.limits.max_chunk,
                "window": device.limits.window,
                "store_quota_bytes": device.limits.store_quota_bytes,
            },
            "models": models.iter().map(ModelJson::from).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&json).into_diagnostic()?);
        return Ok(());
    }
    println!("port           {} at {} baud", port, args.connect.baud);
    println!("board          {}", device.board);
    println!("firmware       {}", device.firmware_version);
    println!("serial number  {}", device.serial_number);
    println!(
        "capabilities   {}",
        capability_names(device.capabilities).join(", ")
    );
    println!(
        "link           frames of {} bytes, chunks of {}, window {}",
        negotiated.max_frame, negotiated.chunk_len, negotiated.window
    );
    println!("store quota    {} bytes", device.limits.store_quota_bytes);
    if models.is_empty() {
        println!("models         (none)");
    } else {
        println!("models");
        for m in &models {
            println!(
                "  {:<16} {:<10} {:<8} {:>9} bytes  sha256 {}{}",
                m.name.as_str(),
                m.version.as_str(),
                slot_name(m.slot),
                m.size,
                &hex::encode(m.sha256)[..16],
                if m.verified { "" } else { "  (not verified)" }
            );
        }
    }
    Ok(())
}

/// One bundle read and understood, ready to flash to any number of devices.
struct BundleToFlash {
    path: PathBuf,
    name: String,
    signed: bool,
    bytes: Vec<u8>,
}

pub fn flash(args: &FlashArgs) -> Result<()> {
    let mut bundles = Vec::new();
    for path in &args.bundles {
        let bytes =
            std::fs::read(path).file_context(|| format!("cannot read {}", path.display()))?;
        let target = crate::bundle::flash_target(&bytes)
            .with_context(|| format!("{} is not a valid bundle", path.display()))?;
        bundles.push(BundleToFlash {
            path: path.clone(),
            name: target.name,
            signed: target.signed,
            bytes,
        });
    }
    let bundles = Arc::new(bundles);
    let options = FlashOptions {
        force: args.force,
        activate: !args.stage_only,
        verify: !args.no_verify,
        signed: false,
        ..FlashOptions::default()
    };
    let ports = if args.ports.is_empty() {
        vec![pick_port()?]
    } else {
        args.ports.clone()
    };
    let multi = MultiProgress::new();
    let handles: Vec<_> = ports
        .iter()
        .map(|port| {
            let (port, bundles, multi) = (port.clone(), Arc::clone(&bundles), multi.clone());
            let (baud, retries) = (args.baud, args.retries);
            std::thread::spawn(move || {
                let mut bar = BarProgress::new(&multi, &port);
                let result = flash_port(&port, baud, retries, &bundles, options, &mut bar);
                (port, result)
            })
        })
        .collect();
    let mut failed = 0;
    for handle in handles {
        let (port, result) = handle
            .join()
            .map_err(|_| miette::miette!("a flashing thread panicked"))?;
        match result {
            Ok(reports) => {
                for r in reports {
                    if args.json {
                        println!("{}", report_json(&port, &r));
                    } else {
                        println!("{port}: {}", describe_report(&r));
                    }
                }
            }
            Err(e) => {
                failed += 1;
                if args.json {
                    let error = serde_json::json!({
                        "port": port,
                        "error": sentio_diagnostics::message_of(e.as_ref()),
                        "code": sentio_diagnostics::code_of(e.as_ref()),
                        "help": sentio_diagnostics::help_of(e.as_ref()),
                    });
                    println!("{error}");
                }
                let style = sentio_diagnostics::Style::for_stderr();
                eprintln!(
                    "{port}: {}",
                    sentio_diagnostics::render("sentio", &e, style)
                );
            }
        }
    }
    if failed > 0 {
        bail!(
            code = "device::cli::flash_failed",
            "{failed} of {} device(s) failed",
            ports.len()
        );
    }
    Ok(())
}

/// A flash report as one JSON line (`sentio flash --json`).
fn report_json(port: &str, r: &FlashReport) -> serde_json::Value {
    serde_json::json!({
        "port": port,
        "name": r.name,
        "outcome": match r.outcome {
            FlashOutcome::Skipped => "skipped",
            FlashOutcome::Flashed => "flashed",
        },
        "sha256": hex::encode(r.sha256),
        "size": r.size,
        "bytes_sent": r.bytes_sent,
        "resumed_from": r.resumed_from,
        "elapsed_s": r.elapsed.as_secs_f64(),
        "verified": r.verified,
        "activated": r.activated,
    })
}

fn describe_report(r: &FlashReport) -> String {
    match r.outcome {
        FlashOutcome::Skipped => format!(
            "{}: unchanged (the device already runs sha256 {})",
            r.name,
            &hex::encode(r.sha256)[..16]
        ),
        FlashOutcome::Flashed => {
            let rate = r.bytes_sent as f64 / r.elapsed.as_secs_f64().max(1e-6);
            let mut line = format!(
                "{}: {} bytes in {:.2} s ({:.1} KiB/s){}{}{}",
                r.name,
                r.size,
                r.elapsed.as_secs_f64(),
                rate / 1024.0,
                if r.resumed_from > 0 {
                    format!(", resumed at byte {}", r.resumed_from)
                } else {
                    String::new()
                },
                if r.verified { ", verified" } else { "" },
                if r.activated {
                    ", active"
                } else {
                    ", staged (not active)"
                },
            );
            if r.resumed_from > r.size {
                line.push_str(" (device reported more than the size)");
            }
            line
        }
    }
}

/// Flashes every bundle to one device, reconnecting and resuming after a lost connection.
fn flash_port(
    port: &str,
    baud: u32,
    retries: u32,
    bundles: &[BundleToFlash],
    options: FlashOptions,
    bar: &mut BarProgress,
) -> Result<Vec<FlashReport>> {
    let mut reports = Vec::new();
    let mut conn = None;
    for bundle in bundles {
        let options = FlashOptions {
            signed: bundle.signed,
            ..options
        };
        let mut attempt = 0;
        loop {
            let c = match conn.as_mut() {
                Some(c) => c,
                None => conn.insert(connect(port, baud)?),
            };
            match c.flash(&bundle.name, bundle.bytes.as_slice(), &options, &mut *bar) {
                Ok(report) => {
                    reports.push(report);
                    break;
                }
                Err(e) if e.kind().is_link_failure() && attempt < retries => {
                    attempt += 1;
                    sentio_flash::Progress::message(
                        bar,
                        &format!("{e}; reconnecting to resume (attempt {attempt} of {retries})"),
                    );
                    conn = None;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(miette::Report::new(e)
                        .context(format!("flashing {}", bundle.path.display())));
                }
            }
        }
    }
    Ok(reports)
}

pub fn monitor(args: &MonitorArgs) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .into_diagnostic()
            .wrap_err("cannot install the Ctrl-C handler")?;
    }
    let port = args.connect.port()?;
    let mut conn = connect(&port, args.connect.baud)?;
    conn.subscribe(true, !args.no_stats)?;
    if !args.json {
        let d = conn.device_info();
        eprintln!(
            "monitoring {} ({} {}); Ctrl-C to stop",
            port, d.board, d.firmware_version
        );
    }
    let mut out = std::io::stdout().lock();
    while !stop.load(Ordering::SeqCst) {
        let Some(push) = conn.next_event(Duration::from_millis(250))? else {
            continue;
        };
        let line = writeln!(out, "{}", format_push(&push, args.json)).and_then(|()| out.flush());
        match line {
            // The reader went away (`sentio monitor | head`): that is how a pipe says "enough".
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            other => other.into_diagnostic().wrap_err("cannot write to stdout")?,
        }
    }
    Ok(())
}

/// An f32 as JSON without the noise of widening it to f64 (-23.7, not -23.700000762939453).
fn json_f32(v: f32) -> serde_json::Value {
    serde_json::Value::from(format!("{v}").parse::<f64>().unwrap_or(f64::from(v)))
}

/// One line for a pushed event or stats report.
fn format_push(push: &Push, json: bool) -> String {
    match (push, json) {
        (Push::Event(e), true) => serde_json::json!({
            "type": "event", "at_ms": e.at_ms, "topic": e.topic.as_str(), "label": e.label.as_str(),
            "values": e.values.iter().map(|&v| json_f32(v)).collect::<Vec<_>>(),
        })
        .to_string(),
        (Push::Stats(s), true) => {
            let entries: serde_json::Map<_, _> = s
                .entries
                .iter()
                .map(|st| (st.name.to_string(), json_f32(st.value)))
                .collect();
            serde_json::json!({ "type": "stats", "at_ms": s.at_ms, "stats": entries }).to_string()
        }
        (Push::Event(e), false) => {
            let values: Vec<String> = e.values.iter().map(|v| format!("{v:.2}")).collect();
            format!(
                "{:>10.3}s  {:<8} {:<16} {}",
                e.at_ms as f64 / 1000.0,
                e.topic.as_str(),
                e.label.as_str(),
                values.join(" ")
            )
        }
        (Push::Stats(s), false) => {
            let entries: Vec<String> = s
                .entries
                .iter()
                .map(|st| format!("{}={:.2}", st.name, st.value))
                .collect();
            format!(
                "{:>10.3}s  stats    {}",
                s.at_ms as f64 / 1000.0,
                entries.join(" ")
            )
        }
    }
}

pub fn rollback(args: &ModelArgs) -> Result<()> {
    let port = args.connect.port()?;
    let mut conn = connect(&port, args.connect.baud)?;
    conn.rollback(&args.name)?;
    let active = conn.inspect(&args.name, Slot::Active)?;
    println!(
        "{}: rolled back; active is now version {} (sha256 {})",
        args.name,
        active.version,
        &hex::encode(active.sha256)[..16]
    );
    Ok(())
}

pub fn delete(args: &ModelArgs) -> Result<()> {
    let port = args.connect.port()?;
    let mut conn = connect(&port, args.connect.baud)?;
    conn.delete(&args.name)?;
    println!("{}: deleted", args.name);
    Ok(())
}
