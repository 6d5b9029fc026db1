use super::*;

async fn slot(connections: &Arc<Connections>) -> Slot {
    connections.register(connections.place().await)
}

/// Holds a slot until its connection is told to close, as a connection task does.
fn serve(slot: Slot) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        slot.activity.closed().await;
        drop(slot);
    })
}

#[tokio::test]
async fn at_the_limit_only_silent_fresh_connections_make_room() {
    let connections = Connections::new(3, Duration::from_secs(10));
    let fresh = slot(&connections).await;
    let idle = slot(&connections).await;
    idle.activity.received();
    idle.activity.request_started();
    idle.activity.request_finished();
    let busy = slot(&connections).await;
    busy.activity.received();
    busy.activity.request_started();
    let (idle, busy) = (serve(idle), serve(busy));
    let fresh = serve(fresh);
    let started = Instant::now();
    let _new = slot(&connections).await;
    assert!(
        started.elapsed() >= SILENT_AT_LIMIT,
        "a fresh one gets its second"
    );
    let closed = tokio::time::timeout(Duration::from_secs(1), fresh).await;
    assert!(closed.is_ok(), "the fresh connection was closed");
    assert!(!idle.is_finished() && !busy.is_finished(), "used ones stay");
}

#[tokio::test]
async fn sweep_closes_by_phase_deadline() {
    let connections = Connections::new(8, Duration::from_secs(10));
    let fresh = slot(&connections).await;
    let head = slot(&connections).await;
    head.activity.received();
    let busy = slot(&connections).await;
    busy.activity.received();
    busy.activity.request_started();
    let idle = slot(&connections).await;
    idle.activity.received();
    idle.activity.request_started();
    idle.activity.request_finished();
    let now = Instant::now();
    assert_eq!(connections.sweep_at(now + Duration::from_secs(9)), 0);
    let later = now + Duration::from_secs(11);
    assert_eq!(
        connections.sweep_at(later),
        2,
        "the fresh one and the slow head"
    );
    assert_eq!(connections.sweep_at(later), 0, "each is told once");
    let much_later = later + IDLE_TIMEOUT;
    assert_eq!(
        connections.sweep_at(much_later),
        1,
        "the idle one, never the busy one"
    );
    drop((fresh, head, busy, idle));
}
