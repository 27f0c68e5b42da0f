//! Real TLS handshakes through the kit's roots, for both of the process's HTTPS
//! clients: reqwest's (`kit::http`) and the AWS SDK's (`kit::sdk`). A test CA made
//! with the `openssl` command signs a server certificate for `localhost`, a Python
//! TLS server presents it, and the process trusts the CA through `SSL_CERT_FILE`.
//! A second server presents a certificate no trusted CA signed.
//!
//! Its own test binary: the roots are read once per process, and `SSL_CERT_FILE` must
//! be set before that.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};

fn openssl(dir: &Path, args: &[&str]) {
    let status =
        Command::new("openssl").args(args).current_dir(dir).stderr(Stdio::null()).status().expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA, a `localhost` certificate it signs, and a self-signed `localhost` one.
fn certificates(dir: &Path) {
    let ext = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n";
    std::fs::write(dir.join("leaf.ext"), ext).expect("write");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=kit test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "rogue.key",
            "-out",
            "rogue.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ],
    );
}

/// An HTTPS server answering 200 to GET and 400 to POST; killed on drop.
struct Server(Child, u16);

const SERVER: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, code):
        self.send_response(code); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def do_GET(self): self.answer(200)
    def do_POST(self): self.answer(400)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = c.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

impl Server {
    fn start(dir: &Path, cert: &str, key: &str) -> Self {
        let mut child = Command::new("python3")
            .args(["-c", SERVER, cert, key])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("port");
        let port = line.trim().parse().expect("a port");
        Self(child, port)
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/", self.1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.0.kill());
        drop(self.0.wait());
    }
}

fn sqs(endpoint: &str) -> aws_sdk_sqs::Client {
    let conf = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-2"))
        .credentials_provider(Credentials::new("a", "b", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(kit::sdk::http_client())
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

#[tokio::test]
async fn both_clients_trust_the_kits_roots_and_only_them() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: no openssl command to make a test CA");
        return;
    }
    let dir = std::env::temp_dir().join(format!("kit-tls-handshake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    certificates(&dir);
    // Before anything reads the roots (this test is alone in its process).
    std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
    std::env::remove_var("SSL_CERT_DIR");

    let trusted = Server::start(&dir, "leaf.pem", "leaf.key");
    let rogue = Server::start(&dir, "rogue.pem", "rogue.key");
    let http = kit::http::client().expect("client");

    let ok = http.get(trusted.url()).send().await.expect("a handshake with the trusted server");
    assert_eq!(ok.status(), 200);
    let refused = http.get(rogue.url()).send().await.expect_err("an untrusted certificate");
    let chain = format!("{:?}", refused);
    assert!(chain.contains("UnknownIssuer"), "{chain}");

    // The SDK's request reaches the server (its 400 is an answer, not a dispatch failure).
    let answered = sqs(&trusted.url()).list_queues().send().await.expect_err("the server answers 400");
    assert!(answered.raw_response().is_some_and(|r| r.status().as_u16() == 400), "{answered:?}");
    let unverified = sqs(&rogue.url()).list_queues().send().await.expect_err("an untrusted certificate");
    assert!(unverified.raw_response().is_none(), "no answer through an unverified handshake: {unverified:?}");
    assert!(format!("{unverified:?}").contains("UnknownIssuer"), "{unverified:?}");

    drop(std::fs::remove_dir_all(&dir));
}
