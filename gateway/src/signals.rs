//! The stop signals a Cinder process answers: the first SIGTERM asks for a drain, a
//! second one (or a SIGINT, which counts as two) for an exit at once.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Stop requests so far: SIGTERMs counted, a SIGINT counting two.
#[derive(Debug, Clone)]
pub struct Stops(watch::Receiver<u32>);

impl Stops {
    /// Starts counting this process's SIGTERMs and SIGINTs.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn listen() -> std::io::Result<Self> {
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let (count, stops) = watch::channel(0u32);
        tokio::spawn(async move {
            loop {
                let add = tokio::select! {
                    Some(()) = terminate.recv() => 1,
                    Some(()) = interrupt.recv() => 2,
                    else => break,
                };
                count.send_modify(|count| *count = count.saturating_add(add));
            }
        });
        Ok(Stops(stops))
    }

    /// Resolves at the first request: drain.
    pub fn drain(&self) -> impl Future<Output = ()> + Send + 'static {
        self.at(1)
    }

    /// Resolves at the second request: stop now.
    pub fn now(&self) -> impl Future<Output = ()> + Send + 'static {
        self.at(2)
    }

    fn at(&self, count: u32) -> impl Future<Output = ()> + Send + 'static {
        let mut stops = self.0.clone();
        async move {
            let _ = stops.wait_for(|seen| *seen >= count).await;
        }
    }
}
