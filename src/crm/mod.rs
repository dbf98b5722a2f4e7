//! The CIB face: spec → Pacemaker `<group>` XML, and check/apply/remove against a live or
//! file-backed CIB through `cibadmin`.
