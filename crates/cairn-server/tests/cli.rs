//! The `cairn` command as users run it: help on every subcommand, first start, accounts
//! and institutes from the command line, and two `cairn serve` processes sharing
//! PostgreSQL and Redis.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CAIRN: &str = env!("CARGO_BIN_EXE_cairn");

fn cairn(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(CAIRN);
    // A clean environment: no CAIRN_* from the caller, no cairn.toml from the working dir.
    for (key, _) in std::env::vars() {
        if key.starts_with("CAIRN_") {
            command.env_remove(key);
        }
    }
    command.current_dir(data_dir).env("CAIRN_DATA_DIR", data_dir).env("CAIRN_LOG", "warn");
    command
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["user", "--help"],
        &["user", "add", "--help"],
        &["org", "--help"],
        &["org", "add", "--help"],
        &["openapi", "--help"],
        &["enrol", "--help"],
        &["report", "--help"],
        &["report", "completions", "--help"],
        &["report", "answers", "--help"],
    ] {
        let output = cairn(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "cairn {args:?} --help fails");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("Usage:"), "cairn {args:?}: {text}");
    }
    let output = cairn(dir.path()).args(["user", "add", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for flag in ["--email", "--name", "--role", "--org", "--password-stdin"] {
        assert!(text.contains(flag), "user add documents {flag}");
    }
}

#[test]
fn users_and_institutes_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = cairn(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["migrate"], None);
    assert!(ok, "{out}{err}");
    assert!(dir.path().join("cairn.db").exists(), "the default database is SQLite under the data folder");
    let (ok, out, err) = run(&["org", "add", "--slug", "ghana-ipa", "--name", "GIMPA"], None);
    assert!(ok && out.contains("Created institute ghana-ipa"), "{out}{err}");
    let (ok, _, err) = run(&["org", "add", "--slug", "ghana-ipa", "--name", "Again"], None);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, out, err) = run(
        &["user", "add", "--email", "kofi@example.org", "--name", "Kofi", "--role", "learner", "--org", "ghana-ipa"],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("Password (shown only now): "), "a password is generated and printed once: {out}");
    let (ok, out, err) = run(
        &["user", "add", "--email", "ama@example.org", "--name", "Ama", "--role", "manager", "--password-stdin"],
        Some("a chosen password\n"),
    );
    assert!(ok && !out.contains("Password"), "{out}{err}");
    let (ok, _, err) = run(&["user", "add", "--email", "bad", "--name", "Bad", "--role", "learner"], None);
    assert!(!ok && err.contains("email"), "a bad e-mail is refused with the field named: {err}");
    let (ok, _, err) = run(&["user", "add", "--email", "x@example.org", "--name", "X", "--role", "king"], None);
    assert!(!ok && err.contains("possible values"), "{err}");
    let (ok, _, err) =
        run(&["user", "add", "--email", "y@example.org", "--name", "Y", "--role", "learner", "--org", "missing"], None);
    assert!(!ok && err.contains("missing"), "{err}");
}

#[test]
fn package_inspect_reports_and_sets_the_exit_code() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/scorm");
    assert!(fixtures.is_dir(), "the shared SCORM fixtures are missing at {}", fixtures.display());
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip", 0, "scorm12"),
        ("valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", 0, "scorm2004"),
        ("invalid/no_manifest.zip", 1, "unknown"),
        ("other/cmi5_catapult_multi_au_framed.zip", 1, "cmi5"),
        ("other/aicc_complex.zip", 1, "aicc"),
    ];
    for (file, code, standard) in cases {
        let output =
            cairn(dir.path()).args(["package", "inspect", "--json"]).arg(fixtures.join(file)).output().unwrap();
        assert_eq!(output.status.code(), Some(code), "{file}: {}", String::from_utf8_lossy(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["standard"], standard, "{file}");
        assert_eq!(report["importable"], code == 0, "{file}");
    }
    let output = cairn(dir.path())
        .args(["package", "inspect"])
        .arg(fixtures.join("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("SCORM 1.2") && text.contains("[SCO]"), "{text}");
    let missing = cairn(dir.path()).args(["package", "inspect", "/no/such/file.zip"]).output().unwrap();
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("could not open"));
}

#[test]
fn package_import_from_the_command_line() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/scorm");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = cairn(dir.path()).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let valid = fixtures.join("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip");
    let valid = valid.to_str().unwrap();
    let (code, _, err) = run(&["package", "import", valid]);
    assert_eq!(code, Some(1), "no institute yet: {err}");
    assert!(err.contains("cairn org add"), "{err}");
    run(&["org", "add", "--slug", "ipa", "--name", "IPA"]);
    let (code, out, err) = run(&["package", "import", valid, "--title", "Golf basics"]);
    assert_eq!(code, Some(0), "{err}");
    let course_id = out.trim().to_string();
    assert_eq!(course_id.len(), 36, "the course id is printed: {out}");
    assert!(err.contains("as version 1 of course golf-basics"), "{err}");
    let (code, out, _) = run(&["package", "import", valid, "--course", "golf-basics", "--json"]);
    assert_eq!(code, Some(0));
    let result: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((result["version"].as_i64(), result["course_id"].as_str()), (Some(2), Some(course_id.as_str())));
    let invalid = fixtures.join("invalid/no_manifest.zip");
    let (code, out, _) = run(&["package", "import", invalid.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(1));
    let result: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(result["errors"][0]["code"], "no_manifest");
    let packages = std::fs::read_dir(dir.path().join("content/packages")).unwrap().count();
    assert_eq!(packages, 2, "two versions on disk, nothing from the refused package");
}

#[test]
fn enrol_and_report_from_the_command_line() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/scorm");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = cairn(dir.path()).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    run(&["org", "add", "--slug", "ipa", "--name", "IPA"]);
    let valid = fixtures.join("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip");
    let (code, _, err) = run(&["package", "import", valid.to_str().unwrap(), "--title", "Golf basics"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(&["user", "add", "--email", "ana@example.org", "--name", "Ana", "--role", "learner"]);
    assert_eq!(code, Some(0), "{err}");

    // One account by e-mail; an unknown e-mail is an error that says what to do.
    let (code, out, err) = run(&["enrol", "--course", "golf-basics", "--email", "ana@example.org"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("Enrolled ana@example.org"), "{out}");
    let (code, _, err) = run(&["enrol", "--course", "golf-basics", "--email", "nobody@example.org"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("cairn user add"), "{err}");

    // A bad file: every problem with its line, exit 1, nothing written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "email,name,cohort\nben@example.org,Ben,A\nnot-an-email,X,\nghost@example.org,,\n").unwrap();
    let (code, out, err) = run(&["enrol", "--course", "golf-basics", "--csv", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("line 3") && err.contains("line 4") && !err.contains("line 2:"), "{err}");
    let (_, report, _) = run(&["report", "completions", "--course", "golf-basics"]);
    assert!(!report.contains("ben@example.org"), "nothing of the refused file was written: {report}");

    // A dry run of a good file writes nothing; the real run enrols and creates the account.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "email,name,cohort\nben@example.org,Ben Osei,Intake A\nana@example.org,,\n").unwrap();
    let (code, out, _) = run(&["enrol", "--course", "golf-basics", "--csv", good.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("line 2: ben@example.org — new account") && out.contains("already enrolled"), "{out}");
    let (code, out, err) = run(&["enrol", "--course", "golf-basics", "--csv", good.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 new accounts invited"), "{out}");

    // The report: UTF-8 BOM, header, CRLF, one row per enrolment, filtered by course.
    let (code, report, err) = run(&["report", "completions", "--org", "ipa"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(report.starts_with('\u{feff}'), "a byte-order mark for spreadsheet programs");
    let lines: Vec<&str> = report.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("learner,email,institute,cohort,course,enrolled_at"), "{report}");
    assert_eq!(lines.len(), 3, "{report}");
    assert!(lines.iter().any(|l| l.starts_with("Ben Osei,ben@example.org,IPA,Intake A,Golf basics,")), "{report}");
    let (_, none, _) = run(&["report", "completions", "--since", "2000-01-01", "--until", "2000-01-02"]);
    assert_eq!(none.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).count(), 1);
    let (code, _, err) = run(&["report", "completions", "--since", "yesterday"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("YYYY-MM-DD"), "{err}");

    // The answers of a course nobody has taken yet: the header alone; an unknown course
    // is an error that names it.
    let (code, answers, err) = run(&["report", "answers", "--course", "golf-basics"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = answers.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines, ["learner,email,item,item_title,attempt,attempt_updated_at,interaction,id,type,description,learner_response,correct_responses,result,weighting,latency,time,objectives"]);
    let (code, _, err) = run(&["report", "answers", "--course", "no-such-course"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("no-such-course"), "{err}");
}

/// A `cairn serve` child process that is killed when dropped.
struct Server {
    child: Child,
    url: String,
    stdout: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `cairn serve` and waits until it prints its address (and credentials).
fn serve(mut command: Command, extra: &[&str]) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = command
        .args(["serve", "--bind", &bind])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => panic!("cairn serve exited early:\n{printed}"),
        }
        if printed.contains("Cairn is running") && std::net::TcpStream::connect(&bind).is_ok() {
            // Give the credential lines a moment to arrive after the banner.
            std::thread::sleep(Duration::from_millis(300));
            while let Ok(line) = rx.try_recv() {
                printed.push_str(&line);
                printed.push('\n');
            }
            break;
        }
        assert!(Instant::now() < deadline, "cairn serve did not start:\n{printed}");
    }
    Server { child, url: format!("http://{bind}"), stdout: printed }
}

fn credential(stdout: &str, email: &str) -> String {
    stdout
        .lines()
        .find(|l| l.contains(email))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no credentials for {email} in:\n{stdout}"))
        .to_string()
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs in through the login form and returns the session cookie value.
async fn sign_in(base: &str, email: &str, password: &str) -> String {
    let client = http();
    let login = client.get(format!("{base}/login")).send().await.unwrap();
    let csrf = login.cookies().find(|c| c.name() == "cairn_csrf").expect("csrf cookie").value().to_string();
    let response = client
        .post(format!("{base}/login"))
        .header("cookie", format!("cairn_csrf={csrf}"))
        .form(&[("email", email), ("password", password), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "login of {email}");
    let session = response.cookies().find(|c| c.name() == "cairn_session").expect("session cookie").value().to_string();
    session
}

#[tokio::test]
async fn first_start_with_demo_prints_working_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(cairn(dir.path()), &["--demo"]);
    for (email, landing) in [
        ("admin@cairn.local", "/admin"),
        ("manager@demo.cairn.local", "/institute"),
        ("instructor@demo.cairn.local", "/teach"),
        ("learner@demo.cairn.local", "/learn"),
    ] {
        let password = credential(&server.stdout, email);
        let session = sign_in(&server.url, email, &password).await;
        let page = http()
            .get(format!("{}{landing}", server.url))
            .header("cookie", format!("cairn_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{email} opens {landing}");
    }
    // The demo course is in the catalog; the learner enrols, sees it on their dashboard with
    // its lessons, and its content is served.
    let learner =
        sign_in(&server.url, "learner@demo.cairn.local", &credential(&server.stdout, "learner@demo.cairn.local")).await;
    let cookie = format!("cairn_session={learner}");
    let get = |path: &str| http().get(format!("{}{path}", server.url)).header("cookie", &cookie).send();
    let catalog = get("/catalog").await.unwrap().text().await.unwrap();
    assert!(catalog.contains("/courses/e-government-readiness"), "{catalog}");
    let course = get("/courses/e-government-readiness").await.unwrap();
    let csrf = course
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("cairn_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a CSRF cookie")
        .to_string();
    let html = course.text().await.unwrap();
    assert!(html.contains("E-government readiness"), "{html}");
    assert!(html.contains("data-action=\"enrol\""), "an open course offers enrolment: {html}");
    let enrolled = http()
        .post(format!("{}/courses/e-government-readiness/enrol", server.url))
        .header("cookie", format!("{cookie}; cairn_csrf={csrf}"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(enrolled.status(), 303, "self-enrolment redirects to the course");
    let learn = get("/learn").await.unwrap().text().await.unwrap();
    assert!(learn.contains("/courses/e-government-readiness/resume"), "{learn}");
    let html = get("/courses/e-government-readiness").await.unwrap().text().await.unwrap();
    for lesson in ["About this course", "The dimensions of readiness", "Check your understanding"] {
        assert!(html.contains(lesson), "{lesson} in {html}");
    }
    let play = get("/courses/e-government-readiness/play").await.unwrap().text().await.unwrap();
    let first_page = play.split("/content/").nth(1).and_then(|s| s.split('"').next()).expect("a content link");
    let content = get(&format!("/content/{first_page}")).await.unwrap();
    assert_eq!(content.status(), 200, "{first_page}");
    drop(server);
    // A second start creates nothing and prints no credentials.
    let again = serve(cairn(dir.path()), &["--demo"]);
    assert!(!again.stdout.contains("One-time credentials"), "{}", again.stdout);
}

#[tokio::test]
async fn admin_password_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = cairn(dir.path());
    command.env("CAIRN_ADMIN_PASSWORD", "configured secret").env("CAIRN_ADMIN_EMAIL", "root@example.org");
    let server = serve(command, &[]);
    assert!(!server.stdout.contains("configured secret"), "a configured password is never printed");
    sign_in(&server.url, "root@example.org", "configured secret").await;
}

/// Two nodes behind an imaginary load balancer: a session made on one is valid on the other.
#[tokio::test]
async fn two_nodes_share_sessions_through_postgres_and_redis() {
    let (Some(pg), Some(redis)) = (cairn_core::testing::postgres_url(), std::env::var("CAIRN_TEST_REDIS_URL").ok())
    else {
        cairn_core::testing::note_not_run(
            "cli: two-node PostgreSQL + Redis test",
            "set CAIRN_TEST_DATABASE_URL and CAIRN_TEST_REDIS_URL; .ci/run does",
        );
        return;
    };
    let database = cairn_core::testing::TestDb::postgres(&pg).await;
    let prefix = format!("cairn-cluster-{}:", uuid::Uuid::new_v4().simple());
    let node = |dir: &std::path::Path| {
        let mut command = cairn(dir);
        command
            .env("CAIRN_DATABASE_URL", &database.url)
            .env("CAIRN_REDIS_URL", &redis)
            .env("CAIRN_REDIS_PREFIX", &prefix)
            .env("CAIRN_ADMIN_PASSWORD", "cluster admin pw");
        command
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = serve(node(dir_a.path()), &[]);
    let b = serve(node(dir_b.path()), &[]);
    let session = sign_in(&a.url, "admin@cairn.local", "cluster admin pw").await;
    let on_b = http()
        .get(format!("{}/admin", b.url))
        .header("cookie", format!("cairn_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), 200, "a session made on node A is valid on node B");
    let me = http()
        .get(format!("{}/api/v1/me", b.url))
        .header("cookie", format!("cairn_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Signing out on B ends the session on A too.
    let csrf = "shared-test-token-0000000000000000000000000";
    let out = http()
        .post(format!("{}/logout", b.url))
        .header("cookie", format!("cairn_session={session}; cairn_csrf={csrf}"))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let on_a = http()
        .get(format!("{}/admin", a.url))
        .header("cookie", format!("cairn_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_a.status(), 303, "signed out everywhere");
    // Both nodes are ready and report Redis.
    for node in [&a, &b] {
        let ready: serde_json::Value =
            http().get(format!("{}/readyz", node.url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(ready["redis"]["status"], "ok", "{ready}");
        assert_eq!(ready["database"]["engine"], "postgres");
    }
}
