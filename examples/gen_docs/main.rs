//! Writes big_brother's man pages and shell completions into a directory, for `packaging/build`:
//!
//! ```text
//! cargo run --release --locked --example gen_docs -- --out DIR [--date YYYY-MM-DD]
//! ```
//!
//! A cargo example rather than a hidden `big_brother` subcommand: the generator and its crates
//! (clap_mangen, clap_complete, roff) are dev-dependencies, so none of it is linked into the
//! binary operators run, and no odd subcommand appears in `--help` or in the completions. It
//! reads the same definitions the binary uses: `big_brother::cli` (clap) for big_brother(8), its
//! subcommand pages and the completions, and the OCF parameter and action tables
//! (`big_brother::ocf::{params, metadata}`, which also produce the meta-data XML) for the agent's
//! page. `tests/packaging.rs` runs the same code (`docs/`) and reads every page with man(1).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

mod docs;

#[derive(Parser)]
#[command(about = "Write big_brother's man pages and shell completions")]
struct Args {
    /// Output directory: man8/, man7/ and completions/ are created in it.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The pages' date (the package's release date, for reproducible builds).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "")]
    date: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match docs::generate(&args.out, &args.date) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_docs: {e}");
            ExitCode::FAILURE
        }
    }
}
