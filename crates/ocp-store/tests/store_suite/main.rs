//! One suite, run against every backend: SQLite in a temporary file and a real PostgreSQL.
//! A module per concern; each runs its scenarios on both.

use ocp_store::{Store, StoreConfig};

struct Backend {
    store: Store,
    _guard: Box<dyn std::any::Any>,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::sqlite_file(&dir.path().join("m.db")))
        .await
        .unwrap();
    Backend {
        store,
        _guard: Box::new(dir),
    }
}

async fn postgres() -> Backend {
    let pg =
        ocp_testkit::Postgres::start().expect("PostgreSQL starts (apt-get install postgresql)");
    let store = Store::open(&StoreConfig::postgres(&pg.url()))
        .await
        .unwrap();
    Backend {
        store,
        _guard: Box::new(pg),
    }
}

/// Runs each scenario `fn(Store)` once on SQLite and once on PostgreSQL.
macro_rules! suite {
    ($($test:ident),+ $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $test() { super::$test(crate::sqlite().await.store).await; })+
        }
        mod on_postgres {
            $(#[tokio::test] async fn $test() { super::$test(crate::postgres().await.store).await; })+
        }
    };
}

mod alarms;
mod clusters;
mod hosts;
mod iam;
mod metrics;
mod schema;
mod tasks;
