//! What the kernel knows about a network interface that the sync daemons depend on, read with
//! `getifaddrs(3)`: whether the interface exists in this network namespace and which IPv4
//! addresses it has. A master sync daemon sends from the interface's first IPv4 address; the
//! kernel does not refuse one without (see [`super::Ipvs::start_sync_daemon`]), so callers ask
//! here first.

use std::ffi::CStr;
use std::io;
use std::net::Ipv4Addr;

/// An interface as `getifaddrs` lists it: present (with its IPv4 addresses, maybe none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interface {
    pub ipv4: Vec<Ipv4Addr>,
}

/// The interface named `name` in the calling thread's network namespace, or `None` when there
/// is none by that name.
pub fn lookup(name: &str) -> io::Result<Option<Interface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `head` is a valid out-pointer; on success the list is freed below, once.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found: Option<Interface> = None;
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned and has not been freed.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let ifname = unsafe { CStr::from_ptr(ifa.ifa_name) };
        if ifname.to_bytes() != name.as_bytes() {
            continue;
        }
        let entry = found.get_or_insert_with(Interface::default);
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr of at least the family field's size.
        let family = unsafe { (*ifa.ifa_addr).sa_family };
        if i32::from(family) == libc::AF_INET {
            // SAFETY: a sockaddr of family AF_INET is a sockaddr_in.
            let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
            entry
                .ipv4
                .push(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
        }
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address_and_nonsense_is_absent() {
        let lo = lookup("lo").unwrap().expect("every namespace has lo");
        assert!(lo.ipv4.contains(&Ipv4Addr::LOCALHOST), "{lo:?}");
        assert_eq!(lookup("no-such-if0").unwrap(), None);
    }
}
