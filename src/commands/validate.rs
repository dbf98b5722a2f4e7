//! `big_brother validate SPEC…`: 0 when every spec is valid, 6 (OCF_ERR_CONFIGURED) otherwise,
//! with every problem printed on stderr.

use std::path::PathBuf;

use crate::ocf::OcfCode;
use crate::spec;

pub fn run(files: &[PathBuf]) -> OcfCode {
    let mut code = OcfCode::Success;
    for f in files {
        match spec::load(f) {
            Ok(s) => {
                println!(
                    "{}: ok (cluster {}, {} nodes, {} VIPs)",
                    f.display(),
                    s.name,
                    s.nodes.len(),
                    s.vips.len()
                );
                // Valid without VIPs: they are Pacemaker's business elsewhere (an imported
                // legacy cluster); say so, since `crm apply` would leave them out of the group.
                if s.vips.is_empty() {
                    eprintln!(
                        "{}: note: no [[vip]] tables: the CIB group will hold only the big_brother primitive; add the VIPs before `big_brother crm apply` if they belong in it",
                        f.display()
                    );
                }
                // Valid but staged: say so (exit 0 all the same: the CIB can be generated).
                if let Err(e) = s.runnable() {
                    eprintln!(
                        "{}: note: staged cluster: its CIB group can be created, but big_brother will not start it yet",
                        f.display()
                    );
                    eprintln!("{e}");
                }
            }
            Err(e) => {
                eprintln!("{e}");
                code = OcfCode::ErrConfigured;
            }
        }
    }
    if code == OcfCode::Success && files.len() > 1 {
        if let Err(e) = spec::load_all(files) {
            eprintln!("{e}");
            code = OcfCode::ErrConfigured;
        }
    }
    code
}
