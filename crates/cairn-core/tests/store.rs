//! The store suite: the same behaviour checked on SQLite and, when configured, PostgreSQL.

use cairn_core::accounts::{self, tokens, AccountError, NewUser, Role, UserFilter};
use cairn_core::organisations::{self, OrganisationError};
use cairn_core::testing::TestDb;

fn learner(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: "Ama Mensah".into(),
        role: Role::Learner,
        password: Some("a good password".into()),
        organisation_id: None,
    }
}

#[tokio::test]
async fn users_are_created_found_and_authenticated() {
    for t in TestDb::all("store").await {
        let db = &t.db;
        let created =
            accounts::create_user(db, NewUser { email: " Ama@Example.ORG ".into(), ..learner("") }).await.unwrap();
        assert_eq!(created.user.email, "ama@example.org", "e-mails are stored lower-case");
        assert!(created.generated_password.is_none());

        let found = accounts::find_by_email(db, "AMA@example.org").await.unwrap().expect("found by e-mail, any case");
        assert_eq!(found, created.user, "{:?}: a user reads back exactly as written", db.engine());

        let logged_in = accounts::authenticate(db, "ama@example.org", "a good password").await.unwrap();
        assert!(logged_in.last_login_at.is_some());
        assert!(matches!(
            accounts::authenticate(db, "ama@example.org", "wrong password").await,
            Err(AccountError::BadCredentials)
        ));
        assert!(matches!(
            accounts::authenticate(db, "nobody@example.org", "a good password").await,
            Err(AccountError::BadCredentials)
        ));

        accounts::set_password(db, &found.id, "another good one").await.unwrap();
        assert!(accounts::authenticate(db, "ama@example.org", "another good one").await.is_ok());
        assert!(matches!(
            accounts::authenticate(db, "ama@example.org", "a good password").await,
            Err(AccountError::BadCredentials)
        ));
    }
}

#[tokio::test]
async fn duplicate_and_invalid_users_change_nothing() {
    for t in TestDb::all("store").await {
        let db = &t.db;
        accounts::create_user(db, learner("kofi@example.org")).await.unwrap();
        let again = accounts::create_user(db, learner("KOFI@example.org")).await;
        assert!(matches!(again, Err(AccountError::EmailTaken(ref e)) if e == "kofi@example.org"), "{again:?}");
        let short =
            accounts::create_user(db, NewUser { password: Some("short".into()), ..learner("short@example.org") }).await;
        assert!(matches!(short, Err(AccountError::Invalid(ref i)) if i.field == "password"));
        let bad_email = accounts::create_user(db, learner("not-an-email")).await;
        assert!(matches!(bad_email, Err(AccountError::Invalid(ref i)) if i.field == "email"));
        // A membership in a missing institute fails the whole creation, user row included.
        let orphan = accounts::create_user(
            db,
            NewUser { organisation_id: Some("missing".into()), ..learner("orphan@example.org") },
        )
        .await;
        assert!(orphan.is_err());
        assert!(
            accounts::find_by_email(db, "orphan@example.org").await.unwrap().is_none(),
            "no partial account is kept"
        );
        assert_eq!(accounts::count_users(db).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn generated_passwords_work_once_shown() {
    for t in TestDb::all("store").await {
        let created =
            accounts::create_user(&t.db, NewUser { password: None, ..learner("gen@example.org") }).await.unwrap();
        let password = created.generated_password.expect("a password is generated when none is given");
        assert!(accounts::authenticate(&t.db, "gen@example.org", &password).await.is_ok());
    }
}

#[tokio::test]
async fn institutes_and_memberships() {
    for t in TestDb::all("store").await {
        let db = &t.db;
        let org = organisations::create(db, "ghana-ipa", "Ghana Institute of Public Administration").await.unwrap();
        assert!(matches!(organisations::create(db, "ghana-ipa", "Other").await, Err(OrganisationError::SlugTaken(_))));
        assert!(matches!(organisations::create(db, "Bad Slug", "Other").await, Err(OrganisationError::Invalid(_))));
        assert_eq!(organisations::get_by_slug(db, "ghana-ipa").await.unwrap(), org);
        assert!(matches!(organisations::get_by_slug(db, "nope").await, Err(OrganisationError::NotFound(_))));

        let member =
            accounts::create_user(db, NewUser { organisation_id: Some(org.id.clone()), ..learner("m@example.org") })
                .await
                .unwrap();
        let outsider = accounts::create_user(db, learner("o@example.org")).await.unwrap();
        organisations::add_member(db, &org.id, &member.user.id).await.expect("adding twice is harmless");
        assert!(matches!(
            organisations::add_member(db, &org.id, "missing-user").await,
            Err(OrganisationError::UserNotFound)
        ));

        let listed = organisations::list(db).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].member_count, 1);
        assert_eq!(accounts::organisation_ids(db, &member.user.id).await.unwrap(), vec![org.id.clone()]);
        assert_eq!(organisations::of_user(db, &member.user.id).await.unwrap(), vec![org.clone()]);

        let in_org = accounts::list_users(
            db,
            &UserFilter { organisation_id: Some(org.id.clone()), ..Default::default() },
            0,
            50,
        )
        .await
        .unwrap();
        assert_eq!(in_org.items.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), vec![member.user.id.as_str()]);
        let scoped = accounts::list_users(
            db,
            &UserFilter { within_organisations: Some(vec![org.id.clone()]), ..Default::default() },
            0,
            50,
        )
        .await
        .unwrap();
        assert_eq!(scoped.total, 1);
        let nothing =
            accounts::list_users(db, &UserFilter { within_organisations: Some(vec![]), ..Default::default() }, 0, 50)
                .await
                .unwrap();
        assert_eq!(nothing.total, 0, "an empty scope lists nobody");
        let all = accounts::list_users(db, &UserFilter::default(), 0, 50).await.unwrap();
        assert_eq!(all.total, 2);
        assert!(all.items.iter().any(|u| u.id == outsider.user.id));
    }
}

#[tokio::test]
async fn user_listing_filters_and_pages() {
    for t in TestDb::all("store").await {
        let db = &t.db;
        for i in 0..5 {
            accounts::create_user(
                db,
                NewUser { name: format!("Learner {i}"), ..learner(&format!("l{i}@example.org")) },
            )
            .await
            .unwrap();
        }
        accounts::create_user(
            db,
            NewUser { role: Role::Instructor, name: "Efua Teacher".into(), ..learner("efua@example.org") },
        )
        .await
        .unwrap();
        let page = accounts::list_users(db, &UserFilter::default(), 2, 2).await.unwrap();
        assert_eq!((page.items.len(), page.total, page.offset, page.limit), (2, 6, 2, 2));
        let instructors =
            accounts::list_users(db, &UserFilter { role: Some(Role::Instructor), ..Default::default() }, 0, 50)
                .await
                .unwrap();
        assert_eq!(instructors.total, 1);
        let search =
            accounts::list_users(db, &UserFilter { search: Some("TEACH".into()), ..Default::default() }, 0, 50)
                .await
                .unwrap();
        assert_eq!(search.items[0].email, "efua@example.org");
        let by_role = accounts::count_by_role(db).await.unwrap();
        assert_eq!(by_role, vec![(Role::Admin, 0), (Role::Manager, 0), (Role::Instructor, 1), (Role::Learner, 5)]);
        let huge = accounts::list_users(db, &UserFilter::default(), 0, 1_000_000).await.unwrap();
        assert_eq!(huge.limit, accounts::MAX_PAGE_SIZE, "page sizes are capped");
    }
}

#[tokio::test]
async fn api_tokens_create_list_revoke() {
    for t in TestDb::all("store").await {
        let db = &t.db;
        let user = accounts::create_user(db, learner("t@example.org")).await.unwrap().user;
        let other = accounts::create_user(db, learner("u@example.org")).await.unwrap().user;
        let created = tokens::create(db, &user.id, "reporting script").await.unwrap();
        assert!(created.secret.starts_with(tokens::TOKEN_PREFIX));
        assert!(created.secret.starts_with(&created.token.prefix));

        let who = tokens::authenticate(db, &created.secret).await.unwrap().expect("a fresh token authenticates");
        assert_eq!(who.id, user.id);
        assert!(tokens::authenticate(db, "cairn_not-a-real-token").await.unwrap().is_none());
        assert!(tokens::authenticate(db, "garbage").await.unwrap().is_none());

        let listed = tokens::list(db, &user.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used_at.is_some(), "use is recorded");
        assert!(
            matches!(tokens::revoke(db, &other.id, &created.token.id).await, Err(AccountError::NotFound)),
            "only the owner revokes"
        );
        tokens::revoke(db, &user.id, &created.token.id).await.unwrap();
        tokens::revoke(db, &user.id, &created.token.id).await.expect("revoking twice is harmless");
        assert!(tokens::authenticate(db, &created.secret).await.unwrap().is_none(), "a revoked token is refused");
        assert!(tokens::list(db, &user.id).await.unwrap()[0].revoked_at.is_some());
        assert!(tokens::create(db, &user.id, "  ").await.is_err(), "a token needs a name");
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    for t in TestDb::all("store").await {
        t.db.migrate().await.expect("running migrations again is a no-op");
        t.db.ping().await.unwrap();
    }
}

#[tokio::test]
async fn a_user_is_read_with_their_institutes_in_one_query() {
    for t in TestDb::all("store").await {
        let db = &t.db;
        let first = organisations::create(db, "first-school", "First school").await.unwrap();
        let second = organisations::create(db, "second-school", "Second school").await.unwrap();
        let member_of = |email: &str, institute: Option<&str>| {
            accounts::create_user(db, NewUser { organisation_id: institute.map(str::to_string), ..learner(email) })
        };
        let none = member_of("none@example.org", None).await.unwrap().user;
        let one = member_of("one@example.org", Some(&first.id)).await.unwrap().user;
        let two = member_of("two@example.org", Some(&second.id)).await.unwrap().user;
        organisations::add_member(db, &first.id, &two.id).await.unwrap();
        let mut both = vec![first.id.clone(), second.id.clone()];
        both.sort();
        let cases = [(&none, vec![]), (&one, vec![first.id.clone()]), (&two, both)];
        for (user, institutes) in cases {
            let (found, organisation_ids) = accounts::find_with_organisations(db, &user.id).await.unwrap().unwrap();
            assert_eq!(&found, user, "{:?}: the user's columns read back as written", db.engine());
            assert_eq!(organisation_ids, institutes, "{}: every institute, sorted, none for nobody", user.email);
            assert_eq!(organisation_ids, accounts::organisation_ids(db, &user.id).await.unwrap());
        }
        assert!(accounts::find_with_organisations(db, "missing-user").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn scans_read_through_a_memory_map_and_requests_do_not() {
    for t in TestDb::all("scans").await {
        let db = &t.db;
        // Both pools see the same database: a row written through one is read through the other.
        let user = accounts::create_user(db, learner("scan@example.org")).await.unwrap().user;
        let scans = db.for_scans();
        let found = accounts::find_by_id(&scans, &user.id).await.unwrap();
        assert_eq!(found.map(|u| u.email), Some(user.email.clone()));
        if db.engine() == cairn_core::db::Engine::Sqlite {
            let mmap = |db: cairn_core::db::Db| async move {
                let bytes: i64 =
                    cairn_core::on_db!(&db, |pool| { sqlx::query_scalar("PRAGMA mmap_size").fetch_one(pool).await })
                        .unwrap();
                bytes
            };
            assert_eq!(mmap(db.clone()).await, 0, "requests read without a memory map");
            assert_eq!(mmap(scans).await as u64, cairn_core::db::SCAN_MMAP_BYTES, "scans read through one");
        }
    }
}

#[tokio::test]
async fn only_connections_across_a_network_are_pinged_before_use() {
    for t in TestDb::all("pings").await {
        let (db, scans) = (&t.db, t.db.for_scans());
        let pinged = |db: &cairn_core::db::Db| match db {
            cairn_core::db::Db::Sqlite(pool, _) => pool.options().get_test_before_acquire(),
            cairn_core::db::Db::Postgres(pool, _) => pool.options().get_test_before_acquire(),
        };
        // A PostgreSQL connection can be closed by the server or the network while idle;
        // a SQLite connection lives in this process.
        let expected = db.engine() == cairn_core::db::Engine::Postgres;
        assert_eq!(pinged(db), expected, "request pool");
        assert_eq!(pinged(&scans), expected, "scan pool");
        // Lending without a ping still lends working connections, many times over.
        for _ in 0..20 {
            db.ping().await.unwrap();
        }
    }
}

#[tokio::test]
async fn sqlite_writers_of_one_process_take_turns() {
    for t in TestDb::all("turns").await {
        let db = &t.db;
        let first = db.write_turn().await;
        match db.engine() {
            cairn_core::db::Engine::Sqlite => {
                assert!(first.is_some());
                let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), db.write_turn()).await;
                assert!(waiting.is_err(), "a second writer waits while the first holds the turn");
                drop(first);
                assert!(db.write_turn().await.is_some(), "and gets it once the first is done");
            }
            cairn_core::db::Engine::Postgres => assert!(first.is_none(), "PostgreSQL locks rows, not the database"),
        }
    }
}
