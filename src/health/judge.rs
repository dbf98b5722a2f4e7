//! What a plan needs before it can run ([`validate`]), the request a litmus or http check sends
//! ([`request`]) and what its answer means ([`judge`]): shared by the blocking
//! [`super::client::Client`], the [`super::probe::Prober`] and the readiness-driven
//! [`super::machine::Machine`].

use std::net::SocketAddr;

use super::parse::{interpret, Response};
use super::plan::{CheckPlan, PlanError, Probe, Verdict};
use super::response::find;
use super::{clean_text, exec, tls, CheckError, Health};

/// Checks that `plan` can run at all; its TLS setup when it has one.
pub fn validate(plan: &CheckPlan) -> Result<Option<tls::Connector>, PlanError> {
    let tls = match (&plan.tls, &plan.probe) {
        (None, _) => None,
        (Some(t), Probe::Litmus { .. } | Probe::Http { .. }) => Some(tls::Connector::new(t)?),
        (Some(_), _) => return Err(PlanError::TlsNotAllowed),
    };
    match &plan.probe {
        Probe::Litmus { path } | Probe::Http { path, .. } if !path.starts_with('/') => {
            return Err(PlanError::Path(path.clone()))
        }
        Probe::Exec { argv, .. } => exec::validate(argv).map_err(PlanError::Exec)?,
        _ => {}
    }
    Ok(tls)
}

/// What a litmus or http check's response means.
pub fn judge(plan: &CheckPlan, resp: &Response) -> Result<Verdict, CheckError> {
    match &plan.probe {
        Probe::Http {
            expect_status,
            expect_body,
            ..
        } => http_verdict(resp, expect_status, expect_body.as_deref()).map(Verdict::of),
        _ => interpret(resp).map(Verdict::of),
    }
}

/// The GET request of a litmus or http check of `path` at `addr`.
pub fn request(addr: SocketAddr, path: &str) -> Vec<u8> {
    let host = match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: big_brother/{}\r\n\
         Accept: text/plain\r\nConnection: keep-alive\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// `http`'s rule: the status in one of the ranges, then the body containing the substring.
pub fn http_verdict(
    resp: &Response,
    ranges: &[(u16, u16)],
    body: Option<&str>,
) -> Result<Health, CheckError> {
    if !ranges
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&resp.status))
    {
        return Err(CheckError::UnexpectedStatus {
            status: resp.status,
            reason: clean_text(&resp.reason),
            expected: ranges
                .iter()
                .map(|&(lo, hi)| {
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}-{hi}")
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
        });
    }
    if let Some(want) = body {
        if find(&resp.body, want.as_bytes()).is_none() && !want.is_empty() {
            return Err(CheckError::BodyMismatch {
                expected: clean_text(want),
            });
        }
    }
    Ok(Health::new(100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response {
            status,
            reason: "X".into(),
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn http_status_ranges_and_body() {
        let ok = [(200, 299)];
        assert_eq!(
            http_verdict(&resp(204, ""), &ok, None).map(|h| h.value),
            Ok(100.0)
        );
        assert!(matches!(
            http_verdict(&resp(500, ""), &ok, None),
            Err(CheckError::UnexpectedStatus { status: 500, .. })
        ));
        let two = [(200, 200), (301, 302)];
        assert!(http_verdict(&resp(302, ""), &two, None).is_ok());
        let e = http_verdict(&resp(404, ""), &two, None).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("HTTP 404 X (expected 200,301-302)".into())
        );
        assert!(http_verdict(&resp(200, "all OK here"), &ok, Some("OK")).is_ok());
        assert!(matches!(
            http_verdict(&resp(200, "fine"), &ok, Some("OK")),
            Err(CheckError::BodyMismatch { .. })
        ));
    }
}
