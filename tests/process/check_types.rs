//! Issue 16 end to end: the real binary (dry-run backend) with a node of every check type on
//! loopback — litmus, plain HTTP, TCP, an agent that says `drain`, an exec program — reaching
//! the weights their answers mean, the exec's output in `status.json`, and `validate` refusing
//! wrong combinations of the check keys.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use big_brother::health::serve::LitmusServer;

use crate::ocf_support::{is_supervisor, signal, wait_for};
use crate::util::{bb, bin, run, write, Run};

/// A loopback server that answers every connection with `answer` (after reading what the
/// client sent first, when `read_first`), then closes.
fn serve(ip: &str, answer: &'static [u8], read_first: bool) -> SocketAddr {
    let l = TcpListener::bind(format!("{ip}:0")).unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            if read_first {
                let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
            }
            let _ = s.write_all(answer);
        }
    });
    addr
}

struct Cluster {
    dir: tempfile::TempDir,
    name: String,
    config: PathBuf,
}

impl Cluster {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args).env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        let d = self.dir.path();
        cmd.env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESKEY_cluster", &self.name)
            .env("OCF_RESKEY_config", &self.config)
            .env("OCF_RESKEY_dry_run", "true")
            .env("OCF_RESKEY_CRM_meta_timeout", "20000")
            .env("OCF_RESKEY_CRM_meta_interval", "61000")
            .env("HA_RSCTMP", d.join("rsctmp"))
            .env("HA_LOGFILE", d.join("ha.log"))
            .env("HA_LOGFACILITY", "none")
            .env("BIG_BROTHER_DATA_DIR", d.join("data"));
        cmd
    }

    fn agent(&self, action: &str) -> Run {
        let mut cmd = self.command(&[action]);
        cmd.env("OCF_RESOURCE_INSTANCE", format!("ipvs_{}", self.name));
        run(&mut cmd)
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("rsctmp/big_brother").join(&self.name)
    }

    fn status_file(&self) -> Value {
        crate::util::merged_status(&self.state_dir()).unwrap_or(Value::Null)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(self.state_dir().join("lock"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            if is_supervisor(pid) {
                signal(pid, libc::SIGKILL);
            }
        }
    }
}

fn exec_program(dir: &Path) -> PathBuf {
    let p = dir.join("probe");
    // misc_dynamic: exit 42 means healthy with weight 40 (health = status - 2).
    std::fs::write(
        &p,
        "#!/bin/sh\necho \"exec says hello to $BB_NODE_ADDRESS:$BB_NODE_PORT in $BB_CLUSTER\"\nexit 42\n",
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn every_check_type_reaches_its_weight() {
    let dir = tempfile::tempdir().unwrap();
    let name = "kinds";
    let litmus = LitmusServer::start("127.0.3.1:0".parse().unwrap(), name, 60.0).unwrap();
    let http = serve(
        "127.0.3.2",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 22\r\nConnection: close\r\n\r\n<html>all good</html>\n",
        true,
    );
    let tcp = serve("127.0.3.3", b"", false);
    let agent = serve("127.0.3.4", b"drain\n", false);
    let exec_port = serve("127.0.3.5", b"", false).port();
    let program = exec_program(dir.path());
    let config = dir.path().join(format!("{name}.toml"));
    let spec = format!(
        "name = \"{name}\"\nfwmark = 43\ncheck_interval = \"500ms\"\nramp_up_time = \"1s\"\n\
         [[vip]]\naddress = \"192.0.2.43\"\n\
         [[node]]\naddress = \"127.0.3.1\"\nport = {}\nmax_weight = 100\n\
         [[node]]\naddress = \"127.0.3.2\"\nport = {}\nmax_weight = 100\ncheck = \"http\"\nexpect_body = \"all good\"\n\
         [[node]]\naddress = \"127.0.3.3\"\nport = {}\nmax_weight = 100\ncheck = \"tcp\"\n\
         [[node]]\naddress = \"127.0.3.4\"\nport = {}\nmax_weight = 100\ncheck = \"agent\"\n\
         [[node]]\naddress = \"127.0.3.5\"\nport = {exec_port}\nmax_weight = 100\ncheck = \"exec\"\ncheck_command = [\"{}\"]\n",
        litmus.addr().port(),
        http.port(),
        tcp.port(),
        agent.port(),
        program.display()
    );
    std::fs::write(&config, spec).unwrap();
    let c = Cluster {
        dir,
        name: name.into(),
        config,
    };
    c.agent("start").expect_code(0);
    // The status file's own weights (what was applied), node by node.
    let want = [60u64, 100, 100, 0, 40];
    wait_for("every type at its weight", Duration::from_secs(20), || {
        let st = c.status_file();
        (0..want.len()).all(|i| st["nodes"][i]["weight"].as_u64() == Some(want[i]))
    });
    let st = c.status_file();
    let nodes = &st["nodes"];
    let kinds: Vec<&str> = (0..5)
        .map(|i| nodes[i]["check"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["litmus", "http", "tcp", "agent", "exec"]);
    assert_eq!(
        nodes[1]["check_target"].as_str(),
        Some(format!("http://127.0.3.2:{}/", http.port()).as_str())
    );
    assert_eq!(nodes[3]["state"], "drained", "{nodes}");
    assert_eq!(nodes[3]["drained"], true);
    let out = nodes[4]["check_output"].as_str().unwrap_or_default();
    assert!(
        out.contains(&format!(
            "exec says hello to 127.0.3.5:{exec_port} in {name}"
        )),
        "{out:?}"
    );
    assert!(nodes[0]["check_output"].is_null());
    assert!(nodes[0].get("tls_verify").is_none());
    // The operator's view shows the type and the output too.
    let r = run(&mut c.command(&["status", name]));
    r.expect_code(0);
    let text = r.stdout();
    assert!(text.contains("exec says hello"), "{text} {}", r.stderr());
    assert!(text.contains("agent"), "{text}");
    // Reload with changed check keys: the agent node becomes a tcp node (its drain goes), the
    // exec node's program now exits 12 (health 10).
    let spec = std::fs::read_to_string(&c.config).unwrap();
    let prog2 = c.dir.path().join("probe2");
    std::fs::write(&prog2, "#!/bin/sh\necho second\nexit 12\n").unwrap();
    std::fs::set_permissions(&prog2, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = spec
        .replace("check = \"agent\"", "check = \"tcp\"")
        .replace(&program.display().to_string(), &prog2.display().to_string());
    std::fs::write(&c.config, spec).unwrap();
    // The agent's port still accepts connections, so as a tcp node it is healthy.
    c.agent("reload-agent").expect_code(0);
    wait_for("the reloaded checks", Duration::from_secs(20), || {
        let st = c.status_file();
        st["nodes"][3]["check"] == "tcp"
            && st["nodes"][3]["drained"] == false
            && st["nodes"][4]["check_output"] == "second"
            && (0..want.len())
                .all(|i| st["nodes"][i]["weight"].as_u64() == Some([60u64, 100, 100, 100, 10][i]))
    });
    c.agent("stop").expect_code(0);
}

#[test]
fn validate_refuses_wrong_check_combinations() {
    let dir = tempfile::tempdir().unwrap();
    let base = "name = \"w\"\nfwmark = 7\n[[vip]]\naddress = \"192.0.2.7\"\n[[node]]\naddress = \"198.51.100.1\"\nport = 80\n";
    for (extra, line_col_key, want) in [
        (
            "check = \"exec\"\n",
            "8:9: node[0].check",
            "check_command beside check = \"exec\"",
        ),
        (
            "check = \"tcp\"\ntls = true\n",
            "9:7: node[0].tls",
            "no tls unless",
        ),
        (
            "tls_verify = false\n",
            "8:14: node[0].tls_verify",
            "tls = true beside it",
        ),
        (
            "check = \"exec\"\ncheck_command = [\"probe\"]\n",
            "9:17: node[0].check_command",
            "an absolute path",
        ),
        (
            "expect_status = [200]\n",
            "8:17: node[0].expect_status",
            "no expect_status unless check = \"http\"",
        ),
        (
            "check = \"http\"\nexpect_status = [\"200-999\"]\n",
            "9:17: node[0].expect_status",
            "not 999",
        ),
        ("check = \"ping\"\n", "8:9: node[0].check", "one of"),
    ] {
        let f = write(dir.path(), "c.toml", &format!("{base}{extra}"));
        let r = bb(&["validate", f.to_str().unwrap()]);
        r.expect_code(6);
        let err = r.stderr();
        let want_prefix = format!("{}:{line_col_key}: expected ", f.display());
        assert!(
            err.contains(&want_prefix),
            "{extra:?}: want {want_prefix:?} in {err}"
        );
        assert!(err.contains(want), "{extra:?}: want {want:?} in {err}");
    }
}

/// A CA (its PEM written to `dir`) and a server configuration with a leaf for `name` it signed.
#[allow(deprecated)] // ring's provider: see health::tls
fn tls_server(dir: &Path, name: &str) -> (PathBuf, std::sync::Arc<rustls::ServerConfig>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "lb test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let pem = dir.join("ca.pem");
    std::fs::write(&pem, ca_cert.pem()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(leaf.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    (pem, std::sync::Arc::new(config))
}

#[test]
fn tls_checks_verify_or_say_they_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let name = "tlsnodes";
    let (ca_pem, config) = tls_server(dir.path(), "node.test");
    let verified =
        LitmusServer::start_tls("127.0.3.6:0".parse().unwrap(), name, 70.0, config.clone())
            .unwrap();
    let unverified =
        LitmusServer::start_tls("127.0.3.7:0".parse().unwrap(), name, 70.0, config.clone())
            .unwrap();
    // Checked against the system store, which does not know the test CA: a failed check.
    let untrusted =
        LitmusServer::start_tls("127.0.3.8:0".parse().unwrap(), name, 70.0, config).unwrap();
    let config_file = dir.path().join(format!("{name}.toml"));
    let spec = format!(
        "name = \"{name}\"\nfwmark = 44\ncheck_interval = \"500ms\"\nramp_up_time = \"1s\"\ntls = true\n\
         [[vip]]\naddress = \"192.0.2.44\"\n\
         [[node]]\naddress = \"127.0.3.6\"\nport = {}\nmax_weight = 100\ntls_server_name = \"node.test\"\ntls_ca_file = \"{}\"\n\
         [[node]]\naddress = \"127.0.3.7\"\nport = {}\nmax_weight = 100\ncheck = \"http\"\npath = \"/{name}/status\"\ntls_verify = false\n\
         [[node]]\naddress = \"127.0.3.8\"\nport = {}\nmax_weight = 100\ntls_server_name = \"node.test\"\n",
        verified.addr().port(),
        ca_pem.display(),
        unverified.addr().port(),
        untrusted.addr().port(),
    );
    std::fs::write(&config_file, spec).unwrap();
    let c = Cluster {
        dir,
        name: name.into(),
        config: config_file,
    };
    c.agent("start").expect_code(0);
    wait_for(
        "TLS nodes at their weights",
        Duration::from_secs(20),
        || {
            let st = c.status_file();
            (0..3).all(|i| st["nodes"][i]["weight"].as_u64() == Some([70u64, 100, 0][i]))
                && st["nodes"][2]["last_error"].is_string()
        },
    );
    let st = c.status_file();
    let nodes = &st["nodes"];
    assert_eq!(nodes[0]["tls_verify"], true);
    assert_eq!(
        nodes[0]["check_target"].as_str(),
        Some(format!("https://127.0.3.6:{}/{name}/status", verified.addr().port()).as_str())
    );
    assert_eq!(nodes[1]["tls_verify"], false);
    assert_eq!(nodes[1]["check"], "http");
    let why = nodes[2]["last_error"].as_str().unwrap_or_default();
    assert!(
        why.contains("certificate not signed by a CA in the system CA store"),
        "{why}"
    );
    let text = run(&mut c.command(&["status", name])).stdout();
    assert!(text.contains("TLS certificate NOT verified"), "{text}");
    c.agent("stop").expect_code(0);
}
