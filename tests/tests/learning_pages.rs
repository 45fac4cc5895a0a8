//! The course pages end to end over HTTP: an instructor authors and publishes a course, a
//! learner finds it in the catalog, enrols and completes it, staff enrol people (one, a
//! cohort, a CSV file with a preview), follow them on the roster, and every page refuses
//! the roles it is not for.

use cairn_core::accounts::Role;
use cairn_core::testing::count_rows;
use cairn_tests::{Client, TestApp};
use reqwest::multipart::Form;

/// The id of the first element after `marker` that carries `attribute="..."`.
fn attribute_after(html: &str, marker: &str, attribute: &str) -> String {
    let rest = html.split(marker).nth(1).unwrap_or_else(|| panic!("{marker} not in {html}"));
    let start = rest.find(&format!("{attribute}=\"")).unwrap_or_else(|| panic!("{attribute} after {marker}"))
        + attribute.len()
        + 2;
    rest[start..].split('"').next().unwrap().to_string()
}

async fn upload(client: &Client, path: &str, action: &str, csv: &str) -> reqwest::Response {
    let form = Form::new()
        .text("csrf_token", client.csrf().await)
        .text("action", action.to_string())
        .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("people.csv"));
    client.http.post(client.url(path)).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn a_course_is_authored_taken_completed_and_followed() {
    for app in TestApp::all("learning_pages").await {
        let org = app.institute("ipa").await;
        let other = app.institute("other").await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        app.user("manager@example.org", Role::Manager, Some(&org)).await;
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        app.user("stranger@example.org", Role::Instructor, Some(&other)).await;
        let teacher = app.signed_in("teacher@example.org").await;

        // Authoring: a new course, two modules, three lessons, reordered, then published.
        let r = teacher.post_form("/teach/new", &[("title", "Ethics in public service"), ("institute", "ipa")]).await;
        assert_eq!(r.status(), 303, "[{}]", app.label);
        assert_eq!(r.headers()["location"], "/courses/ethics-in-public-service/edit");
        let slug = "ethics-in-public-service";
        assert_eq!(teacher.post_form(&format!("/courses/{slug}/modules"), &[("title", "Basics")]).await.status(), 303);
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        let module = attribute_after(&editor, "editor-module", "data-module");
        let add = |kind: &'static str, title: &'static str, extra: (&'static str, &'static str)| {
            let teacher = &teacher;
            let module = module.clone();
            async move {
                let r = teacher
                    .post_form(
                        &format!("/modules/{module}/lessons"),
                        &[("kind", kind), ("title", title), ("required", "on"), extra],
                    )
                    .await;
                assert_eq!(r.status(), 303, "{title}");
            }
        };
        add("page", "Why integrity matters", ("body", "# Integrity\n\nIt **matters**.<script>alert(1)</script>")).await;
        add("link", "The code of conduct", ("url", "https://example.org/code")).await;
        add("page", "Conflicts of interest", ("body", "Declare them.")).await;
        let refused = teacher
            .post_form(
                &format!("/modules/{module}/lessons"),
                &[("kind", "link"), ("title", "Bad"), ("url", "javascript:alert(1)")],
            )
            .await;
        assert_eq!(refused.status(), 422, "a javascript: link is refused");
        assert!(refused.text().await.unwrap().contains("http"), "the reason names what is accepted");
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        let last = editor.rsplit("data-lesson=\"").next().unwrap().split('"').next().unwrap().to_string();
        assert_eq!(teacher.post_form(&format!("/lessons/{last}/move"), &[("direction", "up")]).await.status(), 303);
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        let order: Vec<usize> = ["Why integrity matters", "Conflicts of interest", "The code of conduct"]
            .iter()
            .map(|t| editor.find(t).unwrap_or_else(|| panic!("{t}")))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "moved up one place: {order:?}");
        let settings = [
            ("title", "Ethics in public service"),
            ("summary", "Integrity for civil servants."),
            ("topic", "ethics"),
            ("status", "published"),
            ("enrolment_mode", "key"),
            ("enrolment_key", "integrity-2026"),
            ("completion_min_score", ""),
        ];
        assert_eq!(teacher.post_form(&format!("/courses/{slug}/settings"), &settings).await.status(), 303);
        let bad = [("status", "public"), ("title", "x"), ("enrolment_mode", "open")];
        assert_eq!(teacher.post_form(&format!("/courses/{slug}/settings"), &bad).await.status(), 422);

        // A second instructor of the institute joins; strangers and learners cannot.
        app.user("colleague@example.org", Role::Instructor, Some(&org)).await;
        let path = format!("/courses/{slug}/instructors");
        assert_eq!(teacher.post_form(&path, &[("email", "learner@example.org")]).await.status(), 422);
        assert_eq!(teacher.post_form(&path, &[("email", "stranger@example.org")]).await.status(), 422);
        assert_eq!(teacher.post_form(&path, &[("email", "colleague@example.org")]).await.status(), 303);
        let colleague = app.signed_in("colleague@example.org").await;
        assert_eq!(colleague.get(&format!("/courses/{slug}/edit")).await.status(), 200, "a co-instructor edits");

        // Who may edit: not learners, not instructors of another institute.
        let learner = app.signed_in("learner@example.org").await;
        let stranger = app.signed_in("stranger@example.org").await;
        for path in ["edit", "roster", "enrolments", "matrix"] {
            assert_eq!(learner.get(&format!("/courses/{slug}/{path}")).await.status(), 403, "learner {path}");
            assert_eq!(stranger.get(&format!("/courses/{slug}/{path}")).await.status(), 403, "stranger {path}");
        }
        assert_eq!(learner.post_form(&format!("/courses/{slug}/modules"), &[("title", "x")]).await.status(), 403);

        // The learner finds the course, cannot open its lessons before enrolling, and needs the key.
        let found = learner.get("/catalog?q=integrity&topic=ethics").await.text().await.unwrap();
        assert!(found.contains(&format!("/courses/{slug}")), "{found}");
        let missing = learner.get("/catalog?q=taxation").await.text().await.unwrap();
        assert!(!missing.contains(&format!("/courses/{slug}\"")));
        let course_page = learner.get(&format!("/courses/{slug}")).await.text().await.unwrap();
        let first = attribute_after(&course_page, "<ol class=\"outline\">", "data-lesson");
        assert_eq!(learner.get(&format!("/courses/{slug}/lessons/{first}")).await.status(), 403);
        let wrong = learner.post_form(&format!("/courses/{slug}/enrol"), &[("key", "guess")]).await;
        assert_eq!(wrong.status(), 403);
        assert!(wrong.text().await.unwrap().contains("key is not right"));
        let right = learner.post_form(&format!("/courses/{slug}/enrol"), &[("key", "integrity-2026")]).await;
        assert_eq!(right.status(), 303);

        // A lesson waiting for another cannot be marked done or visited before it.
        let page = learner.get(&format!("/courses/{slug}")).await.text().await.unwrap();
        let ids: Vec<String> =
            page.split("data-lesson=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
        assert_eq!(
            teacher
                .post_form(
                    &format!("/lessons/{}/edit", ids[1]),
                    &[
                        ("kind", "page"),
                        ("title", "Conflicts of interest"),
                        ("required", "on"),
                        ("body", "Declare them."),
                        (&format!("needs_{}", ids[0]), "on")
                    ]
                )
                .await
                .status(),
            303
        );
        assert_eq!(learner.post_form(&format!("/courses/{slug}/lessons/{}/done", ids[1]), &[]).await.status(), 403);
        let cycle = teacher
            .post_form(
                &format!("/lessons/{}/edit", ids[0]),
                &[
                    ("kind", "page"),
                    ("title", "Renamed"),
                    ("required", "on"),
                    ("body", "x"),
                    (&format!("needs_{}", ids[1]), "on"),
                ],
            )
            .await;
        assert_eq!(cycle.status(), 422, "a cycle is refused");
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        assert!(!editor.contains("Renamed"), "a refused lesson edit changes nothing");

        // Resume goes to the first lesson; the page is sanitised; marking it done moves on.
        let resume = learner.get(&format!("/courses/{slug}/resume")).await;
        assert_eq!(resume.headers()["location"], format!("/courses/{slug}/lessons/{first}").as_str());
        let lesson = learner.get(&format!("/courses/{slug}/lessons/{first}")).await.text().await.unwrap();
        assert!(lesson.contains("<strong>matters</strong>") && !lesson.contains("<script>alert"), "{lesson}");
        let done = learner.post_form(&format!("/courses/{slug}/lessons/{first}/done"), &[]).await;
        assert_eq!(done.status(), 303);
        let page = learner.get(&format!("/courses/{slug}")).await.text().await.unwrap();
        assert!(page.contains("data-progress=\"33\""), "one of three required lessons: {page}");
        // Following the link completes it; the rest is marked done.
        let lessons: Vec<String> =
            page.split("data-lesson=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect();
        assert_eq!(lessons.len(), 3);
        let visit = learner.get(&format!("/courses/{slug}/lessons/{}/visit", lessons[2])).await;
        assert_eq!(visit.headers()["location"], "https://example.org/code");
        learner.post_form(&format!("/courses/{slug}/lessons/{}/done", lessons[1]), &[]).await;
        let page = learner.get(&format!("/courses/{slug}")).await.text().await.unwrap();
        assert!(page.contains("data-progress=\"100\"") && page.contains("data-completed="), "{page}");
        let dashboard = learner.get("/learn").await.text().await.unwrap();
        assert!(dashboard.contains("data-completed-courses"), "{dashboard}");

        // Staff follow the learner: roster, filters, matrix, detail.
        let manager = app.signed_in("manager@example.org").await;
        let roster = manager.get(&format!("/courses/{slug}/roster?status=completed&sort=progress&order=desc")).await;
        assert_eq!(roster.status(), 200);
        let roster = roster.text().await.unwrap();
        assert!(roster.contains("data-learner=\"learner@example.org\" data-status=\"completed\""), "{roster}");
        let none = manager.get(&format!("/courses/{slug}/roster?status=not_started")).await.text().await.unwrap();
        assert!(!none.contains("data-learner=\"learner@example.org\""));
        let matrix = manager.get(&format!("/courses/{slug}/matrix")).await.text().await.unwrap();
        assert_eq!(matrix.matches("class=\"status-completed\"").count(), 3, "three done lessons: {matrix}");
        let user_id = attribute_after(&roster, "name=\"user_id\"", "value");
        let detail = manager.get(&format!("/courses/{slug}/learners/{user_id}")).await;
        assert_eq!(detail.status(), 200);

        // Withdrawal keeps the data; the learner is shown as withdrawn.
        assert_eq!(
            manager.post_form(&format!("/courses/{slug}/withdraw"), &[("user_id", &user_id)]).await.status(),
            303
        );
        let withdrawn = manager.get(&format!("/courses/{slug}/roster?status=withdrawn")).await.text().await.unwrap();
        assert!(withdrawn.contains("data-status=\"withdrawn\""), "{withdrawn}");
        assert_eq!(learner.get(&format!("/courses/{slug}/lessons/{first}")).await.status(), 403);
    }
}

#[tokio::test]
async fn bulk_enrolment_previews_refuses_with_line_numbers_and_invites() {
    for app in TestApp::all("learning_pages").await {
        let org = app.institute("ipa").await;
        app.user("manager@example.org", Role::Manager, Some(&org)).await;
        app.user("known@example.org", Role::Learner, Some(&org)).await;
        let manager = app.signed_in("manager@example.org").await;
        let r = manager.post_form("/teach/new", &[("title", "Tax reform basics"), ("institute", "ipa")]).await;
        assert_eq!(r.status(), 303);
        let path = "/courses/tax-reform-basics/enrolments/bulk";

        let before = (count_rows(&app.state.db, "users").await, count_rows(&app.state.db, "enrolments").await);
        let bad = "email,name,cohort\nnew@example.org,New Person,Intake A\nnot-an-email,X,\nknown@example.org,,\nghost@example.org,,\n";
        for action in ["preview", "apply"] {
            let r = upload(&manager, path, action, bad).await;
            assert_eq!(r.status(), 422, "{action}");
            let html = r.text().await.unwrap();
            assert!(html.contains("data-line=\"3\"") && html.contains("data-line=\"5\""), "{html}");
            assert!(!html.contains("data-line=\"2\""), "good lines are not problems");
        }
        let after = (count_rows(&app.state.db, "users").await, count_rows(&app.state.db, "enrolments").await);
        assert_eq!(before, after, "a refused file changes nothing");

        let good = "email,name,cohort\nnew@example.org,New Person,Intake A\nknown@example.org,,Intake A\n";
        let preview = upload(&manager, path, "preview", good).await;
        assert_eq!(preview.status(), 200);
        let html = preview.text().await.unwrap();
        assert!(html.contains("data-fate=\"new_account\"") && html.contains("data-fate=\"enrol\""), "{html}");
        assert_eq!(count_rows(&app.state.db, "enrolments").await, after.1, "a preview writes nothing");
        let applied = upload(&manager, path, "apply", good).await;
        assert_eq!(applied.status(), 200);
        assert!(applied.text().await.unwrap().contains("2 enrolled"));
        assert_eq!(count_rows(&app.state.db, "enrolments").await, after.1 + 2);

        // The invitation mail carries a one-time link to choose a password.
        let mails = cairn_core::mail::pending(&app.state.db, 10).await.unwrap();
        assert_eq!(mails.len(), 1, "one invitation, for the one new account");
        assert_eq!(mails[0].recipient, "new@example.org");
        let body = mails[0].body.clone();
        let link = body.split_whitespace().find(|w| w.contains("/invite/")).expect("an invitation link").to_string();
        let invite = &link[link.find("/invite/").unwrap()..];
        let visitor = app.client();
        assert_eq!(visitor.get(invite).await.status(), 200);
        assert_eq!(visitor.post_form(invite, &[("password", "short")]).await.status(), 422);
        assert_eq!(visitor.post_form(invite, &[("password", "a long enough password")]).await.status(), 303);
        assert_eq!(visitor.get(invite).await.status(), 404, "the link works once");
        assert_eq!(app.client().login("new@example.org", "a long enough password").await.status(), 303);

        // The cohort exists and a whole cohort can be enrolled in another course.
        let cohorts = manager.get("/institute/ipa/cohorts").await.text().await.unwrap();
        assert!(cohorts.contains("data-cohort=\"Intake A\""), "{cohorts}");
        manager.post_form("/teach/new", &[("title", "Second course"), ("institute", "ipa")]).await;
        let page = manager.get("/courses/second-course/enrolments").await.text().await.unwrap();
        let cohort = attribute_after(&page, "name=\"cohort\"", "value");
        let r = manager.post_form("/courses/second-course/cohort-enrolments", &[("cohort", &cohort)]).await;
        assert_eq!(r.status(), 303);
        let roster = manager.get("/courses/second-course/roster").await.text().await.unwrap();
        assert_eq!(roster.matches("data-learner=").count(), 2, "{roster}");
    }
}

#[tokio::test]
async fn every_course_page_answers_each_role_as_it_should() {
    for app in TestApp::all("learning_pages").await {
        let org = app.institute("ipa").await;
        let other = app.institute("other").await;
        app.user("admin@example.org", Role::Admin, None).await;
        app.user("manager@example.org", Role::Manager, Some(&org)).await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        app.user("enrolled@example.org", Role::Learner, Some(&org)).await;
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        app.user("stranger@example.org", Role::Instructor, Some(&other)).await;
        app.user("foreign-manager@example.org", Role::Manager, Some(&other)).await;
        let teacher = app.signed_in("teacher@example.org").await;
        teacher.post_form("/teach/new", &[("title", "Decentralisation"), ("institute", "ipa")]).await;
        let slug = "decentralisation";
        teacher.post_form(&format!("/courses/{slug}/modules"), &[("title", "One")]).await;
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        let module = attribute_after(&editor, "editor-module", "data-module");
        let r = teacher
            .post_form(&format!("/modules/{module}/lessons"), &[("kind", "page"), ("title", "Read"), ("body", "Text")])
            .await;
        assert_eq!(r.status(), 303);
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        let lesson =
            editor.split("editor-row\" data-lesson=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_string();
        let settings = [
            ("title", "Decentralisation"),
            ("status", "published"),
            ("enrolment_mode", "closed"),
            ("summary", ""),
            ("topic", "decentralisation"),
        ];
        assert_eq!(teacher.post_form(&format!("/courses/{slug}/settings"), &settings).await.status(), 303);
        app.enrol(slug, "enrolled@example.org").await;
        let enrolled_id =
            cairn_core::accounts::find_by_email(&app.state.db, "enrolled@example.org").await.unwrap().unwrap().id;

        // (path, admin, manager, teacher, enrolled learner, other learner, stranger instructor, foreign manager)
        let staff = [200, 200, 200, 403, 403, 403, 403];
        let everyone = [200; 7];
        let cases: Vec<(String, [u16; 7])> = vec![
            ("/catalog".into(), everyone),
            (format!("/courses/{slug}"), everyone),
            (format!("/courses/{slug}/edit"), staff),
            (format!("/courses/{slug}/roster"), staff),
            (format!("/courses/{slug}/matrix"), staff),
            (format!("/courses/{slug}/enrolments"), staff),
            (format!("/courses/{slug}/learners/{enrolled_id}"), staff),
            (format!("/lessons/{lesson}/edit"), staff),
            (format!("/courses/{slug}/lessons/{lesson}"), [200, 200, 200, 200, 403, 403, 403]),
            ("/institute/ipa/cohorts".into(), [200, 200, 403, 403, 403, 403, 403]),
            ("/teach/new".into(), [200, 200, 200, 403, 403, 200, 200]),
        ];
        let people = [
            "admin@example.org",
            "manager@example.org",
            "teacher@example.org",
            "enrolled@example.org",
            "learner@example.org",
            "stranger@example.org",
            "foreign-manager@example.org",
        ];
        let mut clients = Vec::new();
        for email in people {
            clients.push(app.signed_in(email).await);
        }
        let anonymous = app.client();
        for (path, expected) in &cases {
            assert_eq!(anonymous.get(path).await.status(), 303, "[{}] anonymous {path}", app.label);
            for ((email, client), status) in people.iter().zip(&clients).zip(expected) {
                assert_eq!(client.get(path).await.status().as_u16(), *status, "[{}] {email} GET {path}", app.label);
            }
        }
        // Writes are refused to the same people, and change nothing.
        let writes: Vec<(String, Vec<(&str, &str)>)> = vec![
            (format!("/courses/{slug}/settings"), settings.to_vec()),
            (format!("/courses/{slug}/modules"), vec![("title", "Injected")]),
            (format!("/courses/{slug}/enrolments"), vec![("email", "learner@example.org")]),
            (format!("/courses/{slug}/withdraw"), vec![("user_id", &enrolled_id)]),
            (format!("/modules/{module}/lessons"), vec![("kind", "page"), ("title", "Injected"), ("body", "x")]),
            (format!("/lessons/{lesson}/delete"), vec![]),
        ];
        for (path, fields) in &writes {
            for who in [4, 5, 6] {
                let status = clients[who].post_form(path, fields).await.status().as_u16();
                assert_eq!(status, 403, "[{}] {} POST {path}", app.label, people[who]);
            }
        }
        let editor = teacher.get(&format!("/courses/{slug}/edit")).await.text().await.unwrap();
        assert!(!editor.contains("Injected") && editor.contains("Read"), "nothing changed");
        let course = cairn_core::catalog::get(&app.state.db, slug).await.unwrap();
        let still = cairn_core::enrolments::find(&app.state.db, &course.id, &enrolled_id).await.unwrap().unwrap();
        assert_eq!(still.state, "active", "a refused withdrawal withdrew nobody");
    }
}
