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

/// A region, an IDC in it and a host type, for scenarios that register hosts: a function
/// that makes a host to register at an address there.
async fn host_place(store: &Store) -> impl Fn(&str) -> ocp_store::NewHost {
    use ocp_store::Catalog;
    let region = store
        .create_catalog_entry(Catalog::Region, "r", None, None)
        .await
        .unwrap();
    let idc = store
        .create_catalog_entry(Catalog::Idc, "i", None, Some(region.id))
        .await
        .unwrap();
    let kind = store
        .create_catalog_entry(Catalog::HostType, "t", None, None)
        .await
        .unwrap();
    move |ip: &str| ocp_store::NewHost {
        inner_ip_address: ip.into(),
        serial_number: None,
        alias: None,
        description: None,
        ssh_port: 22,
        kind: ocp_api::host::HostKind::DedicatedPhysicalMachine,
        publish_ports: None,
        idc_id: idc.id,
        type_id: kind.id,
        agent_port: 62888,
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
mod backups;
mod clusters;
mod hosts;
mod iam;
mod metrics;
mod schema;
mod sqlstats;
mod tasks;
