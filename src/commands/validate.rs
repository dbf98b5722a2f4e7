//! `big_brother validate SPEC…`: 0 when every spec is valid, 6 (OCF_ERR_CONFIGURED) otherwise —
//! a missing or unreadable file, a FIFO or device, a file over the size cap or not UTF-8
//! included — with every problem printed on stderr (escaped: nothing from a file or its name
//! reaches the terminal raw).

use std::path::PathBuf;

use super::code::{finish, Failure};
use crate::exit::OcfCode;
use crate::spec;
use crate::text::for_terminal;

/// `big_brother validate` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
}

pub fn run(args: &Args) -> OcfCode {
    finish("validate", validate(&args.specs).map(|()| OcfCode::Success))
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut refused = 0usize;
    for f in files {
        let shown = for_terminal(&f.display().to_string()).into_owned();
        match spec::load(f) {
            Ok(s) => {
                println!(
                    "{shown}: ok (cluster {}, {} nodes, {} VIPs)",
                    s.name,
                    s.nodes.len(),
                    s.vips.len()
                );
                // Valid without VIPs: they are Pacemaker's business elsewhere (an imported
                // legacy cluster); say so, since `crm apply` would leave them out of the group.
                if s.vips.is_empty() {
                    eprintln!(
                        "{shown}: note: no [[vip]] tables: the CIB group will hold only the big_brother primitive; add the VIPs before `big_brother crm apply` if they belong in it"
                    );
                }
                // Valid but staged: say so (exit 0 all the same: the CIB can be generated).
                if let Err(e) = s.runnable() {
                    eprintln!(
                        "{shown}: note: staged cluster: its CIB group can be created, but big_brother will not start it yet"
                    );
                    eprintln!("{e}");
                }
            }
            Err(e) => {
                eprintln!("{e}");
                refused += 1;
            }
        }
    }
    if refused > 0 {
        return Err(Failure::Invalid(format!(
            "{refused} of {} specs",
            files.len()
        )));
    }
    if files.len() > 1 {
        spec::load_all(files)?;
    }
    Ok(())
}
