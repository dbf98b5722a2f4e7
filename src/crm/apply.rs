//! `check`, `apply` and `remove` for one group: read the CIB, decide with the pure `plan`/`diff`
//! rooms, write at most once, read back to prove the write took.
//!
//! - `check` reads `<resources>` only and writes nothing.
//! - `apply` writes nothing when the group is in sync (it runs on every Puppet run on every load
//!   balancer). Otherwise exactly one CIB transaction: `cibadmin --create` for a new group,
//!   `cibadmin --replace --xpath` for a changed one, or — when constraints or tags refer to a
//!   primitive the spec dropped — one `cibadmin --patch` that swaps the group and deletes those
//!   references together (a CIB with a dangling reference fails the schema).
//! - `remove` stops the group (`target-role=Stopped`), waits until Pacemaker reports none of
//!   its members active (bounded), then deletes the group and every constraint or tag member
//!   naming it in one `cibadmin --patch`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::cib;
use super::diff::Comparison;
use super::error::CrmError;
use super::plan::{self, Plan, Refs};
use super::unit::{self, Unit};
use super::unit_plan::{self, UnitPlan};
use super::xml::Element;
use crate::spec::duration;

/// How often `remove` asks Pacemaker whether the group has stopped.
const POLL: Duration = Duration::from_secs(1);

/// Compares each cluster's live part (group; warm: clone, group and constraints) with the
/// generated one in `wanted` (one CIB query for all).
pub fn check(wanted: &[Unit]) -> Result<Vec<Comparison>, CrmError> {
    let config = cib::query_configuration()?;
    Ok(wanted
        .iter()
        .map(|w| unit_plan::compare(&config, w))
        .collect())
}

/// What `apply` did for one group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Already in sync; nothing was written.
    InSync,
    /// The group was created.
    Created { members: Vec<String>, via: String },
    /// The group was replaced.
    Replaced {
        diff: String,
        kept_meta: Vec<String>,
        dropped: Vec<String>,
        refs: Refs,
        via: String,
    },
}

/// Brings each live group in line with the generated one in `wanted` (see the module doc).
/// The outer error means the CIB could not be read at all; each group then has its own
/// outcome, so one refused write does not stop the others. The CIB is read once before and,
/// when anything was written, once after, to prove every write took.
pub fn apply(wanted: &[Unit]) -> Result<Vec<Result<Applied, CrmError>>, CrmError> {
    let live_cib = cib::query_cib()?;
    let config = configuration(&live_cib)?;
    let mut results: Vec<Result<Applied, CrmError>> = wanted
        .iter()
        .map(|w| apply_one(&live_cib, config, w))
        .collect();
    let wrote = results
        .iter()
        .any(|r| matches!(r, Ok(Applied::Created { .. } | Applied::Replaced { .. })));
    if wrote {
        let after = cib::query_cib()?;
        let config = configuration(&after)?;
        for (w, r) in wanted.iter().zip(results.iter_mut()) {
            if let Ok(applied) = r {
                if let Err(e) = verify_applied(config, w, applied) {
                    *r = Err(e);
                }
            }
        }
    }
    Ok(results)
}

fn apply_one(live_cib: &Element, config: &Element, unit: &Unit) -> Result<Applied, CrmError> {
    if unit_plan::needed(config, unit) {
        return apply_unit(live_cib, config, unit);
    }
    let Some(wanted) = unit.resources.first() else {
        return Err(CrmError::Plan(plan::PlanError::NoSection("resources")));
    };
    let gid = unit.group_id();
    Ok(match plan::plan_apply(config, wanted)? {
        Plan::InSync => Applied::InSync,
        Plan::Create { group } => {
            let via = cib::create(&group)?;
            Applied::Created {
                members: plan::primitive_ids(&group)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                via,
            }
        }
        Plan::Replace {
            group,
            diff,
            kept_meta,
            dropped,
            refs,
        } => {
            let via = if refs.is_empty() {
                cib::replace_group(&gid, &group)?
            } else {
                // The patch holds only this group's edits, so it applies even when an earlier
                // group of this run changed the CIB since `live_cib` was read.
                let new = plan::edited_cib(live_cib, &gid, Some(&group), &refs)?;
                cib::patch(live_cib, &new)?
            };
            Applied::Replaced {
                diff,
                kept_meta,
                dropped,
                refs,
                via,
            }
        }
    })
}

/// A warm cluster, or a switch between shapes: one `cibadmin --patch` (see `unit_plan`).
fn apply_unit(live_cib: &Element, config: &Element, unit: &Unit) -> Result<Applied, CrmError> {
    let (new, diff, kept_meta, dropped, refs) = match unit_plan::plan(config, unit)? {
        UnitPlan::InSync => return Ok(Applied::InSync),
        UnitPlan::Write {
            unit,
            diff,
            kept_meta,
            dropped,
            refs,
        } => (unit, diff, kept_meta, dropped, refs),
    };
    let edited = unit_plan::edited_cib(live_cib, &unit.name, Some(&new), &refs)?;
    let via = cib::patch(live_cib, &edited)?;
    Ok(match diff {
        None => Applied::Created {
            members: new
                .elements()
                .into_iter()
                .flat_map(|e| {
                    e.id().into_iter().chain(
                        e.elements()
                            .filter(|p| p.name == "primitive")
                            .filter_map(Element::id),
                    )
                })
                .map(str::to_string)
                .collect(),
            via,
        },
        Some(diff) => Applied::Replaced {
            diff,
            kept_meta,
            dropped,
            refs,
            via,
        },
    })
}

/// Checks the CIB read after the writes: the cluster must now be in sync, and nothing the
/// write removed may remain.
fn verify_applied(config: &Element, wanted: &Unit, applied: &Applied) -> Result<(), CrmError> {
    let gid = wanted.group_id();
    match unit_plan::compare(config, wanted) {
        Comparison::InSync => {}
        Comparison::Missing => {
            return Err(CrmError::StillDiffers {
                group: gid,
                diff: "the group is not in the CIB".into(),
            })
        }
        Comparison::Differs { diff } => return Err(CrmError::StillDiffers { group: gid, diff }),
    }
    if let Applied::Replaced { dropped, .. } = applied {
        let gone: BTreeSet<&str> = dropped.iter().map(String::as_str).collect();
        let left = lingering(config, &gone);
        if !left.is_empty() {
            return Err(CrmError::Lingering {
                group: gid,
                ids: left,
            });
        }
    }
    Ok(())
}

/// Ids from `gone` still present anywhere in `config`, and constraints or tag members still
/// naming them.
fn lingering(config: &Element, gone: &BTreeSet<&str>) -> Vec<String> {
    let mut left: Vec<String> = config
        .ids()
        .into_iter()
        .filter(|id| gone.contains(id))
        .map(str::to_string)
        .collect();
    let refs = plan::references(config, gone);
    left.extend(refs.constraints);
    left.extend(refs.tag_refs.into_iter().map(|(t, o)| format!("{t}/{o}")));
    left
}

fn configuration(cib: &Element) -> Result<&Element, CrmError> {
    cib.first("configuration")
        .ok_or(CrmError::Plan(plan::PlanError::NoSection("configuration")))
}

/// What `remove` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removed {
    /// The group was not in the CIB.
    Absent,
    Removed {
        members: Vec<String>,
        /// A warm cluster's clone and constraints, removed with the group.
        also: Vec<String>,
        refs: Refs,
        /// How long it took the group to stop (`None` with `--force`).
        waited: Option<Duration>,
    },
}

/// Removes cluster `name` safely (see the module doc): its group, and for a warm cluster its
/// clone and constraints too. `force` skips stopping and waiting: Pacemaker then stops the
/// orphaned members itself after the delete.
pub fn remove(name: &str, force: bool, timeout: Duration) -> Result<Removed, CrmError> {
    let group_id = super::generate::group_id(name);
    let live_cib = cib::query_cib()?;
    // Nothing of the cluster in the CIB: nothing to stop or remove (plan_remove's `None`).
    let live = unit::live(configuration(&live_cib)?, name);
    if live.is_empty() {
        return Ok(Removed::Absent);
    }
    let also: Vec<String> = live
        .iter()
        .filter_map(|e| e.id())
        .filter(|id| *id != group_id)
        .map(str::to_string)
        .collect();
    let containers: Vec<String> = live
        .iter()
        .filter(|e| matches!(e.name.as_str(), "group" | "clone"))
        .filter_map(|e| e.id())
        .map(str::to_string)
        .collect();
    let waited = if force {
        None
    } else {
        for c in &containers {
            cib::stop(c)?;
        }
        Some(wait_stopped(&group_id, &containers, timeout)?)
    };
    // Read again: stopping changed the CIB, and constraints may have moved meanwhile.
    let live_cib = cib::query_cib()?;
    let Some((members, refs)) = unit_plan::plan_remove(configuration(&live_cib)?, name) else {
        return Ok(Removed::Absent);
    };
    let new = unit_plan::edited_cib(&live_cib, name, None, &refs)?;
    cib::patch(&live_cib, &new)?;

    let after = cib::query_cib()?;
    let mut gone: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    let owned: Vec<String> = unit::resource_ids(name)
        .into_iter()
        .chain(unit::constraint_ids(name))
        .collect();
    gone.extend(owned.iter().map(String::as_str));
    let left = lingering(configuration(&after)?, &gone);
    if !left.is_empty() {
        return Err(CrmError::Lingering {
            group: group_id,
            ids: left,
        });
    }
    Ok(Removed::Removed {
        members,
        also,
        refs,
        waited,
    })
}

/// Polls `crm_mon` until no member of the `containers` (the group, a warm cluster's clone) is
/// active, for at most `timeout`.
fn wait_stopped(
    group_id: &str,
    containers: &[String],
    timeout: Duration,
) -> Result<Duration, CrmError> {
    let start = Instant::now();
    // Bounded in count as well as time: one poll per POLL interval, plus the first and last.
    let max_polls = timeout.as_millis() / POLL.as_millis() + 2;
    let mut running = Vec::new();
    for _ in 0..max_polls {
        let status = cib::status()?;
        running = containers
            .iter()
            .flat_map(|c| plan::running_members(&status, c))
            .collect();
        if running.is_empty() {
            return Ok(start.elapsed());
        }
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(POLL));
    }
    Err(CrmError::StopTimeout {
        group: group_id.to_string(),
        timeout: duration::render(timeout),
        running,
    })
}
