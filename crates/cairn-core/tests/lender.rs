//! Connections kept between hot statements (`db::lender`): what is kept, what goes back to
//! the pool, and that closing the database still ends, on SQLite and PostgreSQL.

use std::time::Duration;

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::db::lender::Lender;
use cairn_core::db::Db;
use cairn_core::testing::TestDb;
use sqlx::{Database, Executor, Pool};

/// The rules, on a lender of its own over the test database's pool.
async fn rules_hold<DB: Database>(pool: Pool<DB>, engine: &str)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let lender = Lender::new(pool.clone(), 2, Duration::from_secs(60));
    // Two lent at once, the capacity: a third loan waits until one of them ends.
    let mut lent = Vec::new();
    for _ in 0..2 {
        let mut connection = lender.lend().await.unwrap();
        (&mut *connection).execute("SELECT 1").await.unwrap();
        lent.push(connection);
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(50), lender.lend()).await.is_err(),
        "{engine}: a loan beyond the capacity waits"
    );
    assert_eq!(lender.kept_count(), 0, "{engine}: nothing is kept while lent");
    for connection in lent {
        connection.keep();
    }
    assert_eq!(lender.kept_count(), 2, "{engine}: both kept once given back");

    // The next loan takes a kept connection; work that failed gives it back to the pool
    // instead of keeping it.
    let mut connection = lender.lend().await.unwrap();
    assert_eq!(lender.kept_count(), 1, "{engine}: a loan takes a kept connection first");
    assert!((&mut *connection).execute("SELECT * FROM no_such_table").await.is_err());
    drop(connection);
    assert_eq!(lender.kept_count(), 1, "{engine}: a connection whose work failed is not kept");

    // After close nothing is kept, not even a connection that comes back later.
    let connection = lender.lend().await.unwrap();
    lender.close();
    connection.keep();
    assert_eq!(lender.kept_count(), 0, "{engine}: nothing is kept after close");

    // A kept connection older than the lender's limit is not lent again: it goes back to
    // the pool, which checks it, and the loan takes one from the pool.
    let stale = Lender::new(pool, 2, Duration::ZERO);
    stale.lend().await.unwrap().keep();
    assert_eq!(stale.kept_count(), 1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut fresh = stale.lend().await.unwrap();
    assert_eq!(stale.kept_count(), 0, "{engine}: stale connections are dropped, not lent");
    (&mut *fresh).execute("SELECT 1").await.unwrap();
}

#[tokio::test]
async fn lenders_keep_finished_connections_up_to_their_capacity() {
    for t in TestDb::all("lender").await {
        match &t.db {
            Db::Sqlite(pool, _) => rules_hold(pool.clone(), "sqlite").await,
            Db::Postgres(pool, _) => rules_hold(pool.clone(), "postgres").await,
        }
    }
}

#[tokio::test]
async fn hot_reads_reuse_one_connection_and_closing_still_ends() {
    for t in TestDb::all("lender_db").await {
        let db = &t.db;
        let kept = |db: &Db| match db {
            Db::Sqlite(_, side) => side.lenders().reads.kept_count(),
            Db::Postgres(_, lenders) => lenders.reads.kept_count(),
        };
        let user = accounts::create_user(
            db,
            NewUser {
                email: "kept@example.org".into(),
                name: "Kofi Boateng".into(),
                role: Role::Learner,
                password: None,
                organisation_id: None,
            },
        )
        .await
        .unwrap()
        .user;
        assert_eq!(kept(db), 0);
        // One request after another: the first read keeps its connection, the others take
        // it and give it back.
        for _ in 0..10 {
            let (found, _) = accounts::find_with_organisations(db, &user.id).await.unwrap().unwrap();
            assert_eq!(found.id, user.id);
            assert_eq!(kept(db), 1, "{:?}: sequential reads reuse one kept connection", db.engine());
        }
        // A read that finds nothing still succeeded: its connection is kept as well.
        assert!(accounts::find_with_organisations(db, "no-such-user").await.unwrap().is_none());
        assert_eq!(kept(db), 1);
        // The pool's close waits for every connection; the kept ones must come back first.
        tokio::time::timeout(Duration::from_secs(30), db.close())
            .await
            .unwrap_or_else(|_| panic!("{:?}: closing the database did not end", db.engine()));
        assert_eq!(kept(db), 0);
    }
}
