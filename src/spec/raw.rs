//! The spec file exactly as written: serde structs that only check shape (`deny_unknown_fields`,
//! so a typo is an error, never a silently ignored key). Values keep their source span so the
//! validator can point at the line and column. Meaning is checked in `validate`.

use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Spanned<T>;

/// Declares a table that carries the check keys (issue 16) after its own fields: the spec's top
/// level (every node's default) and each `[[node]]` (that node's override) take the same eight,
/// merged in `check_keys`. A macro rather than a nested struct: serde's `flatten` keeps neither
/// `deny_unknown_fields` nor toml's spans.
macro_rules! with_check_keys {
    (
        $(#[$attr:meta])*
        pub struct $name:ident { $($(#[$fattr:meta])* pub $field:ident: $ty:ty,)* }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $($(#[$fattr])* pub $field: $ty,)*
            pub check: Option<S<String>>,
            pub expect_status: Option<S<Vec<toml::Value>>>,
            pub expect_body: Option<S<String>>,
            pub check_command: Option<S<Vec<String>>>,
            pub tls: Option<S<bool>>,
            pub tls_server_name: Option<S<String>>,
            pub tls_ca_file: Option<S<String>>,
            pub tls_verify: Option<S<bool>>,
        }
    };
}

with_check_keys! {
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub name: S<String>,
    pub description: Option<S<String>>,
    pub fwmark: Option<S<i64>>,
    pub protocol: Option<S<String>>,
    pub address: Option<S<String>>,
    pub port: Option<S<i64>>,
    pub scheduler: Option<S<String>>,
    pub forward: Option<S<String>>,
    pub persistence_timeout: Option<S<toml::Value>>,
    // Service options (issue 17).
    pub persistence_netmask: Option<S<toml::Value>>,
    pub scheduler_flags: Option<S<Vec<String>>>,
    pub one_packet: Option<S<bool>>,
    pub check_interval: Option<S<toml::Value>>,
    pub check_timeout: Option<S<toml::Value>>,
    pub ramp_up_time: Option<S<toml::Value>>,
    pub fall: Option<S<i64>>,
    pub rise: Option<S<i64>>,
    pub backend_mode: Option<S<String>>,
    pub standby: Option<S<String>>,
    pub sorry_server: Option<RawSorryServer>,
    pub override_dir: Option<S<String>>,
    pub on_change: Option<S<Vec<String>>>,
    pub on_change_timeout: Option<S<toml::Value>>,
    // Operator state that follows the cluster (issue 15).
    pub panic_threshold: Option<S<i64>>,
    pub removal_timeout: Option<S<toml::Value>>,
    #[serde(default)]
    pub vip: Vec<RawVip>,
    #[serde(default)]
    pub node: Vec<RawNode>,
    pub ops: Option<RawOps>,
}
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVip {
    pub address: S<String>,
    pub nic: Option<S<String>>,
    pub cidr_netmask: Option<S<i64>>,
}

with_check_keys! {
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub address: S<String>,
    pub port: S<i64>,
    pub path: Option<S<String>>,
    pub real_port: Option<S<i64>>,
    pub max_weight: Option<S<i64>>,
    pub priority: Option<S<i64>>,
    pub upper_threshold: Option<S<i64>>,
    pub lower_threshold: Option<S<i64>>,
}
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSorryServer {
    pub address: S<String>,
    pub port: Option<S<i64>>,
    pub weight: Option<S<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOps {
    pub ipvs: Option<RawOpSet>,
    pub vip: Option<RawOpSet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpSet {
    pub start_timeout: Option<S<toml::Value>>,
    pub stop_timeout: Option<S<toml::Value>>,
    pub monitor_interval: Option<S<toml::Value>>,
    pub monitor_timeout: Option<S<toml::Value>>,
}
