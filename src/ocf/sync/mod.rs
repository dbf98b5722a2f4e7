//! The connection-sync agent `ocf:braintree:ipvs_sync`, served by the same binary when it is
//! called as `ipvs_sync`: the kernel's IPVS master and backup sync daemons as one stateless
//! resource (the kernel holds the daemons; no process). Optional host-wide settings (IPVS
//! timeouts, `net.ipv4.vs.*` sysctls) are set on start and put back on stop ([`host`], the one
//! file it keeps: the originals). [`run`] is the entry point; [`daemons`] and [`host`] decide,
//! [`error`] maps failures to OCF codes.

pub mod daemons;
pub mod error;
pub mod host;
pub mod metadata;
pub mod params;

use self::daemons::Verdict;
use self::error::{Phase, SyncError};
use super::action::Action;
use super::code::answer;
use super::env::OcfEnv;
use crate::exit::OcfCode;
use crate::ipvs::host_settings::{Kernel, SYSCTL_DIR};
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
    if let Some(code) =
        super::action::informational(&action, metadata::xml, IMPLEMENTED, || usage(program))
    {
        return code;
    }
    let phase = match action {
        // Answered above.
        Action::MetaData | Action::Methods | Action::Usage => return OcfCode::Success,
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
    let outcome = act(phase, env.is_probe(), &host::saved_path(&env.rsctmp));
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

/// The host's settings: timeouts over `nl`, sysctls in the kernel's directory.
fn kernel(nl: &mut Netlink) -> Kernel<'_> {
    Kernel {
        ipvs: nl,
        sysctl_dir: SYSCTL_DIR.into(),
    }
}

fn act(phase: Phase, probe: bool, saved: &std::path::Path) -> Result<OcfCode, SyncError> {
    let p = params::from_lookup(|k| std::env::var(k).ok())?;
    if phase == Phase::Validate {
        return Ok(OcfCode::Success);
    }
    let mut nl = open()?;
    match phase {
        Phase::Start => {
            daemons::start(&mut nl, &p, &iface::lookup)?;
            log::info(format!(
                "started the master and backup sync daemons on {} (sync id {})",
                p.interface, p.sync_id
            ));
            for note in host::apply(&mut kernel(&mut nl), &p.host, saved)? {
                log::info(note);
            }
            Ok(OcfCode::Success)
        }
        Phase::Stop => {
            let ipvs: &mut dyn Ipvs = &mut nl;
            for note in daemons::stop(ipvs, &p)? {
                log::warn(note);
            }
            for note in host::restore(&mut kernel(&mut nl), saved) {
                log::warn(note);
            }
            Ok(OcfCode::Success)
        }
        Phase::Monitor => match daemons::monitor(&mut nl, &p)? {
            Verdict::Running => {
                let diff = host::differences(&mut kernel(&mut nl), &p.host)?;
                if diff.is_empty() {
                    Ok(OcfCode::Success)
                } else {
                    Err(SyncError::HostChanged(format!(
                        "a host setting was changed since start: {}",
                        diff.join("; ")
                    )))
                }
            }
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
