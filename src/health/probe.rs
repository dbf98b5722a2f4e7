//! One node's health check, whatever its type: the plan ([`CheckPlan`], built by the supervisor
//! from the spec) and the [`Prober`] that runs it, one per checker thread, holding what may be
//! reused between checks (a kept-alive connection, the TLS session cache).
//!
//! Every type ends within the budget it is given (plus scheduling) in a [`Verdict`] or a
//! [`CheckError`]; nothing here knows the spec, the supervisor or its state.

use std::net::TcpStream;
use std::time::Duration;

use super::client::Client;
use super::parse::{interpret, Response};
use super::plan::timeout_or_io;
pub use super::plan::{CheckPlan, PlanError, Probe, TlsPlan, Verdict};
use super::{agent, exec, tls, CheckError, Health, Phase};

// A prober is built by the supervisor and moved into its checker thread.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Prober>();
};

/// Runs one plan again and again; one per checker thread.
pub struct Prober {
    plan: CheckPlan,
    tls: Option<tls::Connector>,
    client: Option<Client>,
}

impl Prober {
    pub fn new(plan: CheckPlan) -> Result<Prober, PlanError> {
        let tls = validate(&plan)?;
        let mut p = Prober {
            plan,
            tls,
            client: None,
        };
        p.reset();
        Ok(p)
    }

    pub fn plan(&self) -> &CheckPlan {
        &self.plan
    }

    /// The HTTP client of litmus/http checks (tests and benchmarks read its counters).
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// Forgets connection state (after a panic or a failed check); the TLS session cache stays,
    /// as it holds nothing from the failed exchange that could be trusted less than before.
    pub fn reset(&mut self) {
        self.client = match &self.plan.probe {
            Probe::Litmus { path } | Probe::Http { path, .. } => {
                Some(Client::new(self.plan.addr, path).with_tls(self.tls.clone()))
            }
            _ => None,
        };
    }

    /// One check within `budget`.
    pub fn check(&mut self, budget: Duration) -> Result<Verdict, CheckError> {
        let budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX);
        if self.client.is_none() {
            self.reset();
        }
        let Prober { plan, client, .. } = self;
        match &plan.probe {
            Probe::Litmus { .. } => interpret(&get(client, budget)?).map(Verdict::of),
            Probe::Http {
                expect_status,
                expect_body,
                ..
            } => http_verdict(&get(client, budget)?, expect_status, expect_body.as_deref())
                .map(Verdict::of),
            Probe::Tcp => {
                TcpStream::connect_timeout(&plan.addr, budget)
                    .map_err(|e| timeout_or_io(Phase::Connect, &e, budget_ms))?;
                Ok(Verdict::of(Health::new(100.0)))
            }
            Probe::Agent => agent::check(plan.addr, budget),
            Probe::Exec { argv, env } => exec::check(argv, env, plan, budget),
        }
    }
}

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
pub fn request(addr: std::net::SocketAddr, path: &str) -> Vec<u8> {
    Client::new(addr, path).request().to_vec()
}

fn get(client: &mut Option<Client>, budget: Duration) -> Result<Response, CheckError> {
    match client.as_mut() {
        Some(c) => c.get(budget),
        None => Err(CheckError::Internal("no HTTP client for this check".into())),
    }
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
            reason: super::clean_text(&resp.reason),
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
        if super::response::find(&resp.body, want.as_bytes()).is_none() && !want.is_empty() {
            return Err(CheckError::BodyMismatch {
                expected: super::clean_text(want),
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
