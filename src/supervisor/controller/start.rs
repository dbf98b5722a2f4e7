//! Start-up: the service created (or adopted after a crash, or restored from the snapshot a
//! `stop` kept), the checkers started, and the first round of checks awaited (bounded).

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::{fault_ready_delay, Controller};
use crate::error::Error;
use crate::ipvs::{Dest, DestEntry, DestStats, ServiceKey};
use crate::log;
use crate::state::snapshot;
use crate::supervisor::bell::Bell;
use crate::supervisor::checker::{self, Outbox};
use crate::supervisor::plan::service_of;
use crate::supervisor::policy::NodeState;
use crate::supervisor::schedule::first_round_spread;

impl Controller {
    /// Programs the service, runs the first round of checks, applies, writes the status file and
    /// sends `READY=1`.
    pub fn start(&mut self, ready_within: Duration) -> Result<(), Error> {
        let started = Instant::now();
        let existing = self.ensure_service()?;
        self.notify(&format!(
            "STATUS=programmed {}, checking {} nodes",
            self.key,
            self.spec.nodes.len()
        ));
        self.start_nodes(&existing, Vec::new())?;
        // The first checks are spread over the interval or 2 s, whichever is shorter
        // (`schedule::first_checks`); each takes at most `check_timeout`.
        let round = first_round_spread(self.spec.check_interval)
            .saturating_add(self.spec.check_timeout.min(self.spec.check_interval))
            .saturating_add(Duration::from_millis(100));
        self.first_round(started + round.min(ready_within / 2));
        self.tick().map_err(|source| self.ipvs_err(source))?;
        fault_ready_delay(&self.control);
        self.ready = true;
        self.write_status();
        self.notify(&format!(
            "READY=1\nSTATUS=running {} with {} destinations",
            self.key,
            self.applied.len()
        ));
        log::info(format!(
            "{} ready: {} programmed with {} destinations in {} ms",
            self.ident.cluster,
            self.key,
            self.applied.len(),
            started.elapsed().as_millis()
        ));
        Ok(())
    }

    /// After a crash, `stop` kept the dead supervisor's weights (`supervisor::snapshot`): put the
    /// destinations of nodes still in the spec back at those weights, so they are adopted as if
    /// found in the kernel instead of ramping from 0.
    pub(super) fn restore_snapshot(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        let Some(dests) = snapshot::take(&self.state, key) else {
            return Ok(Vec::new());
        };
        let mut restored = Vec::new();
        for d in dests {
            let node = self
                .spec
                .nodes
                .iter()
                .find(|n| n.address == d.addr && n.real_port == d.port);
            let Some(node) = node else {
                continue;
            };
            if d.weight == 0 {
                continue;
            }
            // The weight is the snapshot's; forwarding and thresholds are the spec's.
            let d = Dest {
                forward: self.spec.forward,
                upper_threshold: node.upper_threshold,
                lower_threshold: node.lower_threshold,
                ..d
            };
            self.ipvs.add_dest(key, &d).map_err(|e| self.ipvs_err(e))?;
            restored.push(DestEntry {
                dest: d,
                stats: DestStats::default(),
            });
        }
        if !restored.is_empty() {
            log::info(format!(
                "{}: restored {} destinations of {key} with the weights they had when the previous supervisor died",
                self.ident.cluster,
                restored.len()
            ));
        }
        Ok(restored)
    }

    /// Creates the service, or adopts an existing one (a restart after a crash) and brings its
    /// scheduler/persistence in line. Returns the destinations already there.
    pub(super) fn ensure_service(&mut self) -> Result<Vec<DestEntry>, Error> {
        let want = service_of(&self.spec, self.key);
        let found = self.ipvs.service(&want.key).map_err(|e| self.ipvs_err(e))?;
        let Some(have) = found else {
            self.ipvs.add_service(&want).map_err(|e| self.ipvs_err(e))?;
            return self.restore_snapshot(&want.key);
        };
        if have != want {
            log::info(format!(
                "{}: updating {} in place (scheduler {} → {}, persistence {}s → {}s, netmask {} → {}, flags {:#x} → {:#x})",
                self.ident.cluster,
                want.key,
                have.scheduler,
                want.scheduler,
                have.timeout,
                want.timeout,
                have.netmask,
                want.netmask,
                have.flags,
                want.flags
            ));
            self.ipvs
                .edit_service(&want)
                .map_err(|e| self.ipvs_err(e))?;
        }
        let existing = self.ipvs.dests(&want.key).map_err(|e| self.ipvs_err(e))?;
        if !existing.is_empty() && !self.ready {
            log::info(format!(
                "{}: adopting {} existing destinations of {} with their weights",
                self.ident.cluster,
                existing.len(),
                want.key
            ));
        }
        Ok(existing)
    }

    /// (Re)starts the checkers for the current spec. Per-node state is carried over by node id
    /// from `previous` (a reload); other nodes adopt their weight from `existing` (the backend).
    pub(super) fn start_nodes(
        &mut self,
        existing: &[DestEntry],
        mut previous: Vec<(String, NodeState)>,
    ) -> Result<(), Error> {
        if let Some(c) = self.checkers.take() {
            c.stop();
        }
        // A fresh channel: observations from the old checkers carry old node indices.
        let (tx, rx) = mpsc::channel();
        self.tx = tx;
        self.rx = rx;
        self.bell = Arc::new(Bell::with_wake(self.control.wake(), self.spec.nodes.len()));
        let now = Instant::now();
        self.nodes.clear();
        self.observed.clear();
        self.last_result = vec![now; self.spec.nodes.len()];
        self.silent_since = vec![None; self.spec.nodes.len()];
        for node in &self.spec.nodes {
            let id = node.id();
            if let Some(i) = previous.iter().position(|(pid, _)| *pid == id) {
                self.nodes.push(previous.swap_remove(i).1);
                self.observed.push(true);
                continue;
            }
            let adopted = existing
                .iter()
                .find(|e| e.dest.addr == node.address && e.dest.port == node.real_port)
                .map(|e| e.dest.weight);
            self.nodes.push(NodeState::new(adopted, now));
            self.observed.push(false);
        }
        let checkers = checker::spawn(
            &self.spec,
            Outbox::new(self.tx.clone(), Arc::clone(&self.bell)),
        )
        .map_err(|source| Error::Io {
            what: "cannot start checker threads for",
            path: self.spec.file.clone(),
            source,
        })?;
        self.checkers = Some(checkers);
        Ok(())
    }

    /// Waits until every node has been checked once, or `deadline`.
    pub(super) fn first_round(&mut self, deadline: Instant) {
        loop {
            if self.observed.iter().all(|o| *o) || self.control.stop_requested() {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                let silent = self.observed.iter().filter(|o| !**o).count();
                log::warn(format!(
                    "{}: {silent} of {} nodes not checked yet; starting with what is known",
                    self.ident.cluster,
                    self.observed.len()
                ));
                return;
            }
            if let Ok(obs) = self
                .rx
                .recv_timeout((deadline - now).min(Duration::from_millis(100)))
            {
                self.observe(&obs);
            }
        }
    }
}
