//! The accept loop's per-address connection cap, on a real TCP listener:
//! a peer holding its quota of (idle) connections has the next one closed
//! at once, and gets one again when it closes one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use ehrchain_server::serve::{serve, ServeLimits};
use tokio::net::{TcpListener, TcpStream};

/// Whether the server closed `stream` (EOF) within a short wait; an open
/// idle connection just times out.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    loop {
        match tokio::time::timeout_at(deadline, stream.readable()).await {
            Err(_) => return false,
            Ok(Err(_)) => return true,
            Ok(Ok(())) => {
                let mut buf = [0u8; 1];
                match stream.try_read(&mut buf) {
                    Ok(0) => return true,
                    Ok(_) => return false,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(_) => return true,
                }
            }
        }
    }
}

#[tokio::test]
async fn a_peer_gets_at_most_its_quota_of_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServeLimits {
        max_connections: 100,
        max_connections_per_ip: 2,
        header_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(1),
    };
    let app = Router::new().route("/", get(|| async { "ok" }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, limits, async {
        let _ = stopped.await;
    }));

    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_by_server(&mut third).await,
        "the third connection is refused"
    );
    assert!(!closed_by_server(&mut first).await, "the first stays open");
    assert!(
        !closed_by_server(&mut second).await,
        "the second stays open"
    );

    drop(first);
    // The server notices the close when the connection task ends.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = TcpStream::connect(addr).await.unwrap();
    assert!(
        !closed_by_server(&mut again).await,
        "a freed slot is given again"
    );

    let _ = stop.send(());
    drop((second, again));
    server.await.unwrap().unwrap();
}
