//! A slowdown shared by every task a client sends: when Runware answers 429 (its queue is
//! full), every later attempt of every task waits until the gate opens again, instead of each
//! task hammering the service on its own schedule.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Called with the pause when the gate closes (e.g. to tell the user the batch slows down).
pub type PauseObserver = Box<dyn Fn(Duration) + Send + Sync>;

#[derive(Debug, Default)]
struct GateState {
    /// No attempt starts before this.
    not_before: Option<Instant>,
    /// 429s in a row without a success in between.
    strikes: u32,
    /// How often the gate closed.
    pauses: u64,
}

/// The shared gate. Each 429 closes it for `base * 2^(strikes-1)` (capped at `max`); each
/// answer that is not a 429 resets the doubling.
pub struct RateGate {
    state: Mutex<GateState>,
    base: Duration,
    max: Duration,
    observer: Mutex<Option<PauseObserver>>,
}

impl std::fmt::Debug for RateGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateGate")
            .field("base", &self.base)
            .field("max", &self.max)
            .field("pauses", &self.pauses())
            .finish()
    }
}

impl RateGate {
    pub fn new(base: Duration, max: Duration) -> RateGate {
        RateGate {
            state: Mutex::new(GateState::default()),
            base: base.max(Duration::from_millis(1)),
            max: max.max(base),
            observer: Mutex::new(None),
        }
    }

    /// Calls `observer` with the pause each time the gate closes.
    pub fn observe(&self, observer: PauseObserver) {
        if let Ok(mut slot) = self.observer.lock() {
            *slot = Some(observer);
        }
    }

    /// Waits until the gate is open; `false` when cancelled first.
    pub async fn wait(&self, cancel: &CancellationToken) -> bool {
        loop {
            let until = self.state.lock().ok().and_then(|s| s.not_before);
            match until {
                Some(t) if t > Instant::now() => {
                    tokio::select! {
                        _ = cancel.cancelled() => return false,
                        _ = tokio::time::sleep_until(t) => {}
                    }
                }
                _ => return !cancel.is_cancelled(),
            }
        }
    }

    /// Runware said 429: closes the gate (longer each time in a row); returns the pause.
    pub fn busy(&self) -> Duration {
        let pause = {
            let Ok(mut s) = self.state.lock() else {
                return self.base;
            };
            s.strikes = s.strikes.saturating_add(1);
            let pause = self
                .base
                .saturating_mul(2u32.saturating_pow(s.strikes - 1))
                .min(self.max);
            let until = Instant::now() + pause;
            s.not_before = Some(s.not_before.map_or(until, |t| t.max(until)));
            s.pauses += 1;
            pause
        };
        if let Ok(observer) = self.observer.lock()
            && let Some(f) = observer.as_ref()
        {
            f(pause);
        }
        pause
    }

    /// An answer that was not a 429: the next 429 starts the doubling again.
    pub fn clear(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.strikes = 0;
        }
    }

    /// How often the gate closed so far.
    pub fn pauses(&self) -> u64 {
        self.state.lock().map(|s| s.pauses).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_closes_the_gate_for_everyone_and_doubles_in_a_row() {
        let gate = RateGate::new(Duration::from_millis(2), Duration::from_millis(20));
        let cancel = CancellationToken::new();
        assert!(gate.wait(&cancel).await);
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        gate.observe(Box::new(move |d| log.lock().unwrap().push(d)));
        assert_eq!(gate.busy(), Duration::from_millis(2));
        assert_eq!(gate.busy(), Duration::from_millis(4));
        let until = gate.state.lock().unwrap().not_before.unwrap();
        assert!(gate.wait(&cancel).await);
        assert!(Instant::now() >= until, "nobody passes a closed gate");
        gate.clear();
        assert_eq!(gate.busy(), Duration::from_millis(2));
        assert_eq!(gate.pauses(), 3);
        assert_eq!(seen.lock().unwrap().len(), 3);
        for _ in 0..10 {
            gate.busy();
        }
        assert_eq!(gate.busy(), Duration::from_millis(20), "capped");
        cancel.cancel();
        assert!(!gate.wait(&cancel).await, "cancel wins over the pause");
    }
}
