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
use super::diff::{self, Comparison};
use super::error::CrmError;
use super::plan::{self, Plan, Refs};
use super::xml::Element;
use crate::spec::duration;

/// How often `remove` asks Pacemaker whether the group has stopped.
const POLL: Duration = Duration::from_secs(1);

/// Compares each live group with the generated one in `wanted` (one CIB query for all).
pub fn check(wanted: &[Element]) -> Result<Vec<Comparison>, CrmError> {
    let resources = cib::query_resources()?;
    Ok(wanted
        .iter()
        .map(|w| diff::compare(resources.find("group", w.id().unwrap_or_default()), w))
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
pub fn apply(wanted: &[Element]) -> Result<Vec<Result<Applied, CrmError>>, CrmError> {
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

fn apply_one(live_cib: &Element, config: &Element, wanted: &Element) -> Result<Applied, CrmError> {
    let gid = wanted.id().unwrap_or_default().to_string();
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

/// Checks the CIB read after the writes: the group must now be in sync, and nothing the write
/// removed may remain.
fn verify_applied(config: &Element, wanted: &Element, applied: &Applied) -> Result<(), CrmError> {
    let gid = wanted.id().unwrap_or_default().to_string();
    match diff::compare(plan::live_group(config, &gid), wanted) {
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
        refs: Refs,
        /// How long it took the group to stop (`None` with `--force`).
        waited: Option<Duration>,
    },
}

/// Removes group `group_id` safely (see the module doc). `force` skips stopping and waiting:
/// Pacemaker then stops the orphaned members itself after the delete.
pub fn remove(group_id: &str, force: bool, timeout: Duration) -> Result<Removed, CrmError> {
    let live_cib = cib::query_cib()?;
    if plan::plan_remove(configuration(&live_cib)?, group_id).is_none() {
        return Ok(Removed::Absent);
    }
    let waited = if force {
        None
    } else {
        cib::stop(group_id)?;
        Some(wait_stopped(group_id, timeout)?)
    };
    // Read again: stopping changed the CIB, and constraints may have moved meanwhile.
    let live_cib = cib::query_cib()?;
    let Some(p) = plan::plan_remove(configuration(&live_cib)?, group_id) else {
        return Ok(Removed::Absent);
    };
    let new = plan::edited_cib(&live_cib, group_id, None, &p.refs)?;
    cib::patch(&live_cib, &new)?;

    let after = cib::query_cib()?;
    let mut gone: BTreeSet<&str> = p.members.iter().map(String::as_str).collect();
    gone.insert(group_id);
    let left = lingering(configuration(&after)?, &gone);
    if !left.is_empty() {
        return Err(CrmError::Lingering {
            group: group_id.to_string(),
            ids: left,
        });
    }
    Ok(Removed::Removed {
        members: p.members,
        refs: p.refs,
        waited,
    })
}

/// Polls `crm_mon` until no member of the group is active, for at most `timeout`.
fn wait_stopped(group_id: &str, timeout: Duration) -> Result<Duration, CrmError> {
    let start = Instant::now();
    // Bounded in count as well as time: one poll per POLL interval, plus the first and last.
    let max_polls = timeout.as_millis() / POLL.as_millis() + 2;
    let mut running = Vec::new();
    for _ in 0..max_polls {
        running = plan::running_members(&cib::status()?, group_id);
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
