//! `big_brother crm generate|check|apply|remove`: the command-line glue of the CIB face.
//! Loads specs (every problem of every file is printed, then clashes between files), calls
//! `crm::{generate, apply}`, prints what happened, and returns the exit code (`crm::code` has the
//! table: 0 ok/in sync, 1 differs/not effective/stop timeout, 2 tool failure or bad arguments,
//! 4 no privileges, 5 tool missing, 6 bad spec).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Subcommand, ValueEnum};

use crate::crm::apply::{self, Applied, Removed};
use crate::crm::code;
use crate::crm::diff::Comparison;
use crate::crm::generate::{self, Format};
use crate::crm::local;
use crate::crm::unit::{self, Unit};
use crate::crm::warm;
use crate::crm::CrmError;
use crate::exit::OcfCode;
use crate::ipvs::{HostSettings, Setting, SyncConfig};
use crate::spec::{self, duration, Spec};
use crate::state::rsctmp_from_env;

/// `big_brother crm` arguments: one of its verbs.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: CrmCommand,
}

#[derive(Subcommand, Debug)]
pub enum CrmCommand {
    /// Print the Pacemaker <group> of each SPEC (the talk's XML).
    Generate {
        #[command(flatten)]
        common: Common,
        /// group: bare <group> elements (for `cibadmin --create --scope resources`, one spec);
        /// resources: wrapped in <resources> (cibadmin, any number of specs);
        /// cib: wrapped in <cib><configuration><resources> (`crm configure load xml update`).
        #[arg(long, value_enum, default_value_t = FormatArg::Group)]
        format: FormatArg,
        #[command(flatten)]
        sync: SyncArgs,
    },
    /// Exit 0 when every group in the live CIB is as generated, 1 (with a diff) when not.
    Check {
        #[command(flatten)]
        common: Common,
    },
    /// Create or replace each group that differs, keeping operator meta attributes; writes
    /// nothing when all are in sync.
    Apply {
        #[command(flatten)]
        common: Common,
    },
    /// Stop a cluster's group, wait until it is stopped, then delete it and its constraints.
    Remove {
        /// Delete at once, without stopping and waiting first.
        #[arg(long)]
        force: bool,
        /// How long to wait for the group to stop.
        #[arg(long, default_value = "60s", value_parser = parse_timeout)]
        timeout: Duration,
        /// Cluster name (the group is NAME_group).
        name: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct Common {
    /// Directory the agent reads specs from on the cluster nodes; unless it is
    /// /etc/big_brother, the primitive gets a `config` parameter DIR/NAME.toml.
    #[arg(long, value_name = "DIR", value_parser = parse_config_dir)]
    config_dir: Option<PathBuf>,
    /// Spec files (TOML), one cluster each.
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,
}

impl Common {
    /// What each spec should have in the CIB (its group; warm: clone, group, constraints).
    fn units(&self, specs: &[Spec]) -> Vec<Unit> {
        specs
            .iter()
            .map(|s| Unit::of(s, self.config_dir.as_deref()))
            .collect()
    }
}

/// `crm generate`'s connection-sync clone (see `crm::sync`): off unless `--sync-interface`.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Add the connection-sync clone ipvs_sync_clone (ocf:braintree:ipvs_sync, on every node)
    /// with its daemons on interface IF, and an order constraint starting it before every
    /// group. Needs --sync-id and --format cib.
    #[arg(long, value_name = "IF", requires = "sync_id")]
    sync_interface: Option<String>,
    /// The clone's sync id, 0 to 255 (one per load-balancer pair on a link).
    #[arg(long, value_name = "N", requires = "sync_interface")]
    sync_id: Option<u8>,
    /// The clone's multicast group, IPv4 or IPv6 (default: the kernel's 224.0.0.81).
    #[arg(long, value_name = "ADDR", requires = "sync_interface")]
    sync_group: Option<std::net::IpAddr>,
    /// The clone's UDP port (default: the kernel's 8848).
    #[arg(long, value_name = "PORT", requires = "sync_interface")]
    sync_port: Option<u16>,
    /// The clone's multicast TTL (default: the kernel's 1).
    #[arg(long, value_name = "TTL", requires = "sync_interface")]
    sync_ttl: Option<u8>,
    /// The clone's largest sync message payload (default: from the MTU).
    #[arg(long, value_name = "BYTES", requires = "sync_interface")]
    sync_maxlen: Option<u16>,
    /// The clone's host-wide IPVS connection timeouts in seconds: TCP,TCPFIN,UDP (a 0 leaves
    /// that one at the kernel's value), the agent's tcp_timeout, tcpfin_timeout, udp_timeout.
    #[arg(long, value_name = "TCP,TCPFIN,UDP", requires = "sync_interface", value_parser = parse_timeouts)]
    ipvs_timeouts: Option<Timeouts3>,
    /// The clone's net.ipv4.vs.expire_nodest_conn, 0 or 1 (default: leave the host's).
    #[arg(long, value_name = "0|1", requires = "sync_interface", value_parser = parse_bit)]
    expire_nodest_conn: Option<u32>,
    /// The clone's net.ipv4.vs.expire_quiescent_template, 0 or 1 (default: leave the host's).
    #[arg(long, value_name = "0|1", requires = "sync_interface", value_parser = parse_bit)]
    expire_quiescent_template: Option<u32>,
    /// The clone's net.ipv4.vs.sloppy_tcp, 0 or 1 (default: leave the host's).
    #[arg(long, value_name = "0|1", requires = "sync_interface", value_parser = parse_bit)]
    sloppy_tcp: Option<u32>,
}

/// `--ipvs-timeouts`: tcp, tcpfin, udp, each `None` for "leave the kernel's".
type Timeouts3 = [Option<u32>; 3];

fn parse_timeouts(s: &str) -> Result<Timeouts3, String> {
    let parts: Vec<&str> = s.split(',').collect();
    let [tcp, fin, udp] = parts.as_slice() else {
        return Err("expected three numbers TCP,TCPFIN,UDP".into());
    };
    let one = |setting: Setting, raw: &str| {
        if raw.trim().is_empty() {
            return Err(format!("{setting}: expected {}", setting.expected()));
        }
        setting
            .parse(raw)
            .map_err(|e| format!("{setting}: expected {e}"))
    };
    Ok([
        one(Setting::TcpTimeout, tcp)?,
        one(Setting::TcpFinTimeout, fin)?,
        one(Setting::UdpTimeout, udp)?,
    ])
}

fn parse_bit(s: &str) -> Result<u32, String> {
    match s {
        "0" => Ok(0),
        "1" => Ok(1),
        _ => Err("expected 0 or 1".into()),
    }
}

impl SyncArgs {
    /// The clone to add, if asked for and its values pass the agent's own check.
    fn clone(&self) -> Result<Option<SyncConfig>, String> {
        let (Some(interface), Some(sync_id)) = (&self.sync_interface, self.sync_id) else {
            return Ok(None);
        };
        let mut host = HostSettings::default();
        if let Some([tcp, fin, udp]) = self.ipvs_timeouts {
            host.set(Setting::TcpTimeout, tcp);
            host.set(Setting::TcpFinTimeout, fin);
            host.set(Setting::UdpTimeout, udp);
        }
        host.set(Setting::ExpireNodestConn, self.expire_nodest_conn);
        host.set(
            Setting::ExpireQuiescentTemplate,
            self.expire_quiescent_template,
        );
        host.set(Setting::SloppyTcp, self.sloppy_tcp);
        let c = SyncConfig {
            interface: interface.clone(),
            sync_id,
            group: self.sync_group,
            port: self.sync_port,
            ttl: self.sync_ttl,
            max_len: self.sync_maxlen,
            host,
        };
        c.check()?;
        Ok(Some(c))
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    Group,
    Resources,
    Cib,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Group => Format::Group,
            FormatArg::Resources => Format::Resources,
            FormatArg::Cib => Format::Cib,
        }
    }
}

/// `--config-dir`: see [`generate::config_dir_problem`].
fn parse_config_dir(s: &str) -> Result<PathBuf, String> {
    match generate::config_dir_problem(s) {
        Some(problem) => Err(problem),
        None => Ok(PathBuf::from(s)),
    }
}

/// Longest `crm remove --timeout`: an hour of polling is already far past any stop timeout.
const MAX_REMOVE_TIMEOUT: Duration = Duration::from_secs(3600);

fn parse_timeout(s: &str) -> Result<Duration, String> {
    duration::parse_within(s, Duration::from_millis(1), MAX_REMOVE_TIMEOUT)
        .map_err(|e| format!("expected {e}"))
}

pub fn run(cmd: CrmCommand) -> OcfCode {
    match cmd {
        CrmCommand::Generate {
            common,
            format,
            sync,
        } => {
            let sync = match sync.clone() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!(
                        "crm generate: --sync-*: expected values the ipvs_sync agent accepts: {e}"
                    );
                    return OcfCode::ErrArgs;
                }
            };
            if sync.is_some() && !matches!(format, FormatArg::Cib) {
                eprintln!(
                    "crm generate: --sync-interface needs --format cib (its order constraints \
                     live outside <resources>)"
                );
                return OcfCode::ErrArgs;
            }
            with_specs(&common, |specs| {
                let dir = common.config_dir.as_deref();
                match unit::render(specs, dir, format.into(), sync.as_ref()) {
                    Ok(text) => {
                        print!("{text}");
                        OcfCode::Success
                    }
                    Err(e) => {
                        eprintln!("crm generate: {e}");
                        OcfCode::ErrArgs
                    }
                }
            })
        }
        CrmCommand::Check { common } => with_specs(&common, |specs| check(specs, &common)),
        CrmCommand::Apply { common } => with_specs(&common, |specs| apply(specs, &common)),
        CrmCommand::Remove {
            force,
            timeout,
            name,
        } => remove(&name, force, timeout),
    }
}

/// Loads every spec (printing all problems of all files), then checks they fit together.
fn with_specs(common: &Common, f: impl FnOnce(&[Spec]) -> OcfCode) -> OcfCode {
    let mut refused = 0usize;
    for file in &common.specs {
        if let Err(e) = spec::load(file) {
            eprintln!("{e}");
            refused += 1;
        }
    }
    if refused > 0 {
        return code::code(&CrmError::Invalid(format!(
            "{refused} of {} specs",
            common.specs.len()
        )));
    }
    match spec::load_all(&common.specs) {
        Ok(specs) => f(&specs),
        Err(e) => {
            eprintln!("{e}");
            code::code(&CrmError::Spec(e))
        }
    }
}

/// Prints a failure once and returns its code.
fn fail(e: &CrmError) -> OcfCode {
    eprintln!("big_brother crm: {e}");
    code::code(e)
}

/// Runs a CIB verb over the specs' groups; its results paired with their spec and group id.
fn per_group<'a, T>(
    specs: &'a [Spec],
    common: &Common,
    verb: impl FnOnce(&[Unit]) -> Result<Vec<T>, CrmError>,
) -> Result<Vec<(&'a Spec, String, T)>, CrmError> {
    let results = verb(&common.units(specs))?;
    Ok(specs
        .iter()
        .zip(results)
        .map(|(s, r)| (s, generate::group_id(&s.name), r))
        .collect())
}

fn check(specs: &[Spec], common: &Common) -> OcfCode {
    let rsctmp = rsctmp_from_env();
    let mut code = OcfCode::Success;
    for (s, gid, result) in match per_group(specs, common, apply::check) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    } {
        match result {
            Comparison::InSync => println!("{gid}: in sync with {}", s.file.display()),
            Comparison::Missing => {
                println!(
                    "{gid}: missing from the CIB (`big_brother crm apply` creates it from {})",
                    s.file.display()
                );
                code = code::DIFFERS;
            }
            Comparison::Differs { diff } => {
                print!("{gid}: differs from {}:\n{diff}", s.file.display());
                code = code::DIFFERS;
            }
        }
        if let Some(o) = local::outdated_supervisor(s, &rsctmp) {
            println!(
                "{gid}: the supervisor here (pid {}) runs an older {}; `big_brother crm apply` reloads it",
                o.pid,
                o.config.display()
            );
            code = code::DIFFERS;
        }
    }
    code
}

fn apply(specs: &[Spec], common: &Common) -> OcfCode {
    let rsctmp = rsctmp_from_env();
    let mut code = OcfCode::Success;
    for (s, gid, result) in match per_group(specs, common, apply::apply) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    } {
        match result {
            Ok(Applied::InSync) => println!("{gid}: in sync, nothing written"),
            Ok(Applied::Created { members, via }) => {
                println!("{gid}: created ({}) with {via}", members.join(", "))
            }
            Ok(Applied::Replaced {
                diff,
                kept_meta,
                dropped,
                refs,
                via,
            }) => {
                println!("{gid}: replaced with {via}");
                if !kept_meta.is_empty() {
                    println!("  kept operator meta attributes: {}", kept_meta.join(", "));
                }
                let clone = warm::clone_id(&s.name);
                let (clones, prims): (Vec<String>, Vec<String>) =
                    dropped.into_iter().partition(|d| *d == clone);
                if !prims.is_empty() {
                    println!("  removed primitives: {}", prims.join(", "));
                }
                for c in clones {
                    println!("  removed {c} and its constraints (standby = \"cold\": ipvs_{} is in the group again)", s.name);
                }
                if !refs.constraints.is_empty() {
                    println!(
                        "  removed constraints naming them: {}",
                        refs.constraints.join(", ")
                    );
                }
                for (tag, obj) in &refs.tag_refs {
                    println!("  removed {obj} from tag {tag}");
                }
                print!("{diff}");
            }
            Err(e) => {
                let c = fail(&e);
                if code == OcfCode::Success {
                    code = c;
                }
                continue;
            }
        }
        if let Some(o) = local::outdated_supervisor(s, &rsctmp) {
            match local::reload(s, &o, &rsctmp) {
                Ok(()) => println!(
                    "{gid}: reloaded the supervisor here (pid {}) with the new {}",
                    o.pid,
                    o.config.display()
                ),
                Err(source) => {
                    let c = fail(&CrmError::Reload {
                        group: gid.clone(),
                        pid: o.pid,
                        source,
                    });
                    if code == OcfCode::Success {
                        code = c;
                    }
                }
            }
        }
    }
    code
}

fn remove(name: &str, force: bool, timeout: Duration) -> OcfCode {
    if !spec::validate::is_valid_name(name) {
        return fail(&CrmError::BadName(name.to_string()));
    }
    let gid = generate::group_id(name);
    match apply::remove(name, force, timeout) {
        Ok(Removed::Absent) => {
            println!("{gid}: not in the CIB, nothing to remove");
            OcfCode::Success
        }
        Ok(Removed::Removed {
            members,
            also,
            refs,
            waited,
        }) => {
            match waited {
                Some(w) => println!(
                    "{gid}: stopped (after {}) and removed with its members {}",
                    secs(w),
                    members.join(", ")
                ),
                None => println!(
                    "{gid}: removed without stopping first (--force) with its members {}; Pacemaker stops them as orphans",
                    members.join(", ")
                ),
            }
            if !also.is_empty() {
                println!("  removed with it (warm standby): {}", also.join(", "));
            }
            if !refs.constraints.is_empty() {
                println!("  removed constraints: {}", refs.constraints.join(", "));
            }
            for (tag, obj) in &refs.tag_refs {
                println!("  removed {obj} from tag {tag}");
            }
            OcfCode::Success
        }
        Err(e) => fail(&e),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
