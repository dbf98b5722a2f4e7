//! CPU per check of every check type (`cargo bench --bench checks`); filled in below.
fn main() {
    println!("checks benchmark: not yet written");
}
