//! The connection-sync agent `ocf:braintree:ipvs_sync`, served by the same binary when it is
//! called as `ipvs_sync`: the kernel's IPVS master and backup sync daemons as one stateless
//! resource (the kernel holds the daemons; no process, no state directory). [`run`] is the
//! entry point; [`daemons`] decides, [`error`] maps failures to OCF codes.

pub mod daemons;
pub mod error;
pub mod metadata;
pub mod params;

use self::daemons::Verdict;
use self::error::{Phase, SyncError};
use super::action::Action;
use super::code::answer;
use super::env::OcfEnv;
use crate::exit::OcfCode;
use crate::ipvs::netlink::{Netlink, DEFAULT_TIMEOUT};
use crate::ipvs::{iface, Ipvs};
use crate::log;

/// Actions this agent implements, as `methods` and `usage` list them.
pub const IMPLEMENTED: &[&str] = &[
    "start",
    "stop",
    "monitor",
    "status",
    "validate-all",
    "meta-data",
    "methods",
    "usage",
];

fn usage(program: &str) -> String {
    format!(
        "usage: {program} {{{}}}\n\nExpects a fully populated OCF RA-compliant environment \
         (OCF_RESKEY_interface and OCF_RESKEY_sync_id required).\n",
        IMPLEMENTED.join("|")
    )
}

/// Runs `action` (`None`: called without one); `program` is how we were called.
pub fn run(action: Option<&str>, program: &str) -> OcfCode {
    let Some(name) = action else {
        eprint!("{}", usage(program));
        return OcfCode::ErrArgs;
    };
    let action = Action::parse(name);
    let phase = match action {
        Action::MetaData => {
            print!("{}", metadata::xml());
            return OcfCode::Success;
        }
        Action::Methods => {
            for a in IMPLEMENTED {
                println!("{a}");
            }
            return OcfCode::Success;
        }
        Action::Usage => {
            print!("{}", usage(program));
            return OcfCode::Success;
        }
        Action::Start => Phase::Start,
        Action::Stop => Phase::Stop,
        Action::Monitor | Action::Status => Phase::Monitor,
        Action::ValidateAll => Phase::Validate,
        Action::Reload | Action::ReloadAgent | Action::Other(_) => {
            eprint!("{}", usage(program));
            return OcfCode::ErrUnimplemented;
        }
    };
    let env = OcfEnv::from_process();
    log::init(program, env.instance.as_deref());
    let outcome = act(phase, env.is_probe());
    answer(&env, &action, outcome, |e| e.code(phase))
}

/// The kernel's IPVS. The test fault knob `BIG_BROTHER_FAULT_IPVS_FAMILY` (as for the cluster
/// agent) looks up another family, so "no IPVS" is testable on a host that has it.
fn open() -> Result<Netlink, SyncError> {
    if let Some(name) = std::env::var_os("BIG_BROTHER_FAULT_IPVS_FAMILY") {
        return Ok(Netlink::open_as(&name.to_string_lossy(), DEFAULT_TIMEOUT)?);
    }
    Ok(Netlink::open()?)
}

fn act(phase: Phase, probe: bool) -> Result<OcfCode, SyncError> {
    let p = params::from_lookup(|k| std::env::var(k).ok())?;
    if phase == Phase::Validate {
        return Ok(OcfCode::Success);
    }
    let mut nl = open()?;
    let ipvs: &mut dyn Ipvs = &mut nl;
    match phase {
        Phase::Start => {
            daemons::start(ipvs, &p, &iface::lookup)?;
            log::info(format!(
                "started the master and backup sync daemons on {} (sync id {})",
                p.interface, p.sync_id
            ));
            Ok(OcfCode::Success)
        }
        Phase::Stop => {
            for note in daemons::stop(ipvs, &p)? {
                log::warn(note);
            }
            Ok(OcfCode::Success)
        }
        Phase::Monitor => match daemons::monitor(ipvs, &p)? {
            Verdict::Running => Ok(OcfCode::Success),
            Verdict::Stopped { notes } => {
                if !probe {
                    for note in notes {
                        log::info(note);
                    }
                }
                Ok(OcfCode::NotRunning)
            }
        },
        Phase::Validate => Ok(OcfCode::Success),
    }
}
