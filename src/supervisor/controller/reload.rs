//! Reload: SIGHUP (or `Control::reload`) re-reads the spec — from the path `reload-agent` handed
//! over, or the current one — and switches to it in place as `plan::plan_reload` decides; the
//! outcome goes into the status file for whoever asked.

use std::collections::BTreeSet;
use std::time::SystemTime;

use super::{spawn_hook, Controller};
use crate::error::Error;
use crate::ipvs::IpvsError;
use crate::log;
use crate::spec;
use crate::state::overrides;
use crate::state::status::{self, ReloadStatus};
use crate::supervisor::plan::{self, HookChange};
use crate::supervisor::policy::Policy;

impl Controller {
    /// SIGHUP: re-read the spec (from the path `reload-agent` handed over, or the current one),
    /// apply it in place, and record the outcome for `reload-agent` in the status file.
    pub(super) fn reload_spec(&mut self) {
        let path = match self.state.read_params() {
            Ok(Some(p)) => p.config,
            Ok(None) => self.spec.file.clone(),
            Err(e) => {
                log::warn(format!(
                    "ignoring unreadable {}: {e}",
                    self.state.params().display()
                ));
                self.spec.file.clone()
            }
        };
        let generation = self.reload.generation + 1;
        let at = status::unix_secs(SystemTime::now());
        let outcome = spec::load_runnable(&path, &self.ident.cluster)
            .map_err(Error::from)
            .and_then(|r| self.apply_spec(r));
        self.reload = match outcome {
            Ok(()) => {
                log::info(format!(
                    "{}: reloaded {} (generation {generation})",
                    self.ident.cluster,
                    path.display()
                ));
                ReloadStatus {
                    generation,
                    ok: true,
                    error: None,
                    at,
                }
            }
            Err(e) => {
                let msg = e.to_string().replace('\n', "; ");
                log::error(format!(
                    "{}: new spec refused, keeping the running one: {msg}",
                    self.ident.cluster
                ));
                ReloadStatus {
                    generation,
                    ok: false,
                    error: Some(msg),
                    at,
                }
            }
        };
        self.write_status();
    }

    /// Switches to a new spec in place. A different service key (a new fwmark or VIP:port)
    /// cannot be edited in the kernel: the new service is created and the old one deleted, as a
    /// restart would. Everything else (scheduler, persistence, nodes) changes in place, and
    /// nodes that stay keep their state (weights, ramps, damping counters).
    pub(super) fn apply_spec(&mut self, run: spec::Runnable) -> Result<(), Error> {
        let states = std::mem::take(&mut self.nodes);
        let plan = plan::plan_reload(
            &self.spec,
            self.key,
            states,
            &run.spec,
            run.key,
            self.hook.is_some(),
        );
        let removals = plan::removals_after_reload(
            &self.spec,
            &run.spec,
            std::mem::take(&mut self.removing),
            plan.retire.is_some(),
            std::time::Instant::now(),
        );
        for id in &removals.started {
            log::info(format!(
                "{}: node {id} left the spec: weight 0 now, deleted when its active connections end (at most {})",
                self.ident.cluster,
                spec::duration::render(run.spec.removal_timeout)
            ));
        }
        for id in &removals.cancelled {
            log::info(format!(
                "{}: node {id} is back in the spec: its removal is cancelled",
                self.ident.cluster
            ));
        }
        self.removing = removals.removing;
        self.spec = run.spec;
        self.key = run.key;
        if let Some(w) = &self.cib {
            w.set_interval(self.spec.check_interval);
        }
        // What a check said belongs to that check: a node no longer checked by an agent is not
        // kept drained by its old answer, and old output is not shown beside a new check.
        let (agents, ids): (BTreeSet<String>, BTreeSet<String>) = (
            self.spec
                .nodes
                .iter()
                .filter(|n| n.check.kind == spec::CheckKind::Agent)
                .map(|n| n.id())
                .collect(),
            self.spec.nodes.iter().map(|n| n.id()).collect(),
        );
        self.agent_drained.retain(|id| agents.contains(id));
        self.outputs.retain(|id, _| ids.contains(id));
        if plan.retire.is_some() {
            // A new service: what was applied to the old one says nothing about it.
            self.applied_valid = false;
        }
        self.digest = run.digest;
        self.policy = Policy::from_spec(&self.spec);
        if plan.rewatch_overrides {
            self.overrides = overrides::Watch::new(&self.spec.override_dir, &self.ident.cluster);
        }
        match plan.hook {
            HookChange::Command(cmd) => {
                if let Some(h) = &mut self.hook {
                    h.set_command(cmd);
                }
            }
            HookChange::Start => {
                // A new hook starts by hearing the current state, as at start.
                self.hook = spawn_hook(&self.spec, &self.ident.cluster);
                self.last_down = None;
            }
            HookChange::Stop => self.hook = None,
            HookChange::None => {}
        }
        let existing = self.ensure_service()?;
        // Fresh counters for the removals this reload's tick decides on.
        self.dest_stats = existing.iter().map(|e| (e.dest.id(), e.stats)).collect();
        if let Some(old_key) = plan.retire {
            log::warn(format!(
                "{}: service changed from {old_key} to {}; removing the old one",
                self.ident.cluster, self.key
            ));
            match self.ipvs.del_service(&old_key) {
                Ok(()) | Err(IpvsError::NotFound { .. }) => {}
                Err(source) => {
                    return Err(Error::Ipvs {
                        service: old_key.to_string(),
                        source,
                    })
                }
            }
        }
        self.start_nodes(&existing, plan.carried)?;
        self.tick().map_err(|e| self.ipvs_err(e))
    }
}
