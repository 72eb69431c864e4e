//! Group commit (issue #14 item 5): concurrent writers share one durable
//! write (one fsync of the audit log, one SQLite transaction), and each
//! still returns only once its own write is durable.
//!
//! A caller queues its operation. If no group is being committed, it becomes
//! the **leader**: it takes every operation queued so far (its own included,
//! in arrival order), commits them together, and hands each its result.
//! Callers that arrive meanwhile wait; when the leader is done, one of them
//! leads the next group with everything queued by then. So under load a
//! group holds every operation that arrived during the previous commit, and
//! alone a caller commits at once (no timer, no added latency).
//!
//! A failed commit fails **every** operation of its group: no caller is
//! told "ok" for a write that is not durable. Groups are committed one at a
//! time, in order, so a hash chain built by the commit never forks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Debug)]
struct Queue<Op, Out, E> {
    /// Operations waiting for a group, with their tickets, in arrival order.
    pending: Vec<(u64, Op)>,
    /// Results of committed groups not yet collected by their callers.
    done: HashMap<u64, Result<Out, E>>,
    next_ticket: u64,
    /// Whether a leader is committing a group.
    leading: bool,
}

/// Operations of type `Op`, committed in groups; each gets `Out` or, if its
/// group failed, `E`.
#[derive(Debug)]
pub struct GroupCommit<Op, Out, E> {
    queue: Mutex<Queue<Op, Out, E>>,
    turn: Condvar,
    groups: AtomicU64,
    /// What every operation of a group gets if its commit panicked or
    /// returned the wrong number of results.
    aborted: fn() -> E,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The queue is consistent between statements: a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fails a group's operations if its leader unwinds before handing results.
struct Abort<'a, Op, Out, E: Clone> {
    group: &'a GroupCommit<Op, Out, E>,
    /// The leader's own ticket (it unwinds: nobody collects its result).
    own: u64,
    tickets: Option<Vec<u64>>,
}

impl<Op, Out, E: Clone> Drop for Abort<'_, Op, Out, E> {
    fn drop(&mut self) {
        if let Some(tickets) = self.tickets.take() {
            let mut q = lock(&self.group.queue);
            for t in tickets.into_iter().filter(|t| *t != self.own) {
                q.done.insert(t, Err((self.group.aborted)()));
            }
            q.leading = false;
            drop(q);
            self.group.turn.notify_all();
        }
    }
}

impl<Op, Out, E: Clone> GroupCommit<Op, Out, E> {
    /// An empty queue; `aborted` is the error of a group whose commit
    /// panicked.
    pub fn new(aborted: fn() -> E) -> Self {
        GroupCommit {
            queue: Mutex::new(Queue {
                pending: Vec::new(),
                done: HashMap::new(),
                next_ticket: 0,
                leading: false,
            }),
            turn: Condvar::new(),
            groups: AtomicU64::new(0),
            aborted,
        }
    }

    /// Groups committed so far (each one durable write).
    pub fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Operations queued and not yet taken by a group (for tests).
    #[cfg(test)]
    pub(crate) fn pending_len(&self) -> usize {
        lock(&self.queue).pending.len()
    }

    /// Queues `op` and returns its result once its group is committed. If
    /// this caller leads the group, `commit` is called with the group's
    /// operations in arrival order and must return one result per
    /// operation, in the same order, only once they are all durable.
    ///
    /// # Errors
    /// The group's error: every operation of a failed group gets it.
    pub fn submit(
        &self,
        op: Op,
        commit: impl FnOnce(Vec<Op>) -> Result<Vec<Out>, E>,
    ) -> Result<Out, E> {
        let mut q = lock(&self.queue);
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.pending.push((ticket, op));
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if !q.leading {
                // Not committed and nobody committing: this op is still
                // pending (a leader takes the whole queue), so lead.
                break;
            }
            q = self.turn.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        q.leading = true;
        let (tickets, ops): (Vec<u64>, Vec<Op>) =
            std::mem::take(&mut q.pending).into_iter().unzip();
        drop(q);
        let mut abort = Abort {
            group: self,
            own: ticket,
            tickets: Some(tickets.clone()),
        };
        let results = commit(ops);
        abort.tickets = None;
        let mut q = lock(&self.queue);
        match results {
            Ok(outs) if outs.len() == tickets.len() => {
                for (t, out) in tickets.into_iter().zip(outs) {
                    q.done.insert(t, Ok(out));
                }
            }
            Ok(_) => {
                for t in tickets {
                    q.done.insert(t, Err((self.aborted)()));
                }
            }
            Err(e) => {
                for t in tickets {
                    q.done.insert(t, Err(e.clone()));
                }
            }
        }
        q.leading = false;
        self.groups.fetch_add(1, Ordering::Relaxed);
        let mine = q
            .done
            .remove(&ticket)
            .unwrap_or_else(|| Err((self.aborted)()));
        drop(q);
        self.turn.notify_all();
        mine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn concurrent_operations_share_groups_and_each_gets_its_result() {
        let group: Arc<GroupCommit<u32, u32, String>> =
            Arc::new(GroupCommit::new(|| "aborted".to_owned()));
        let committed = Arc::new(Mutex::new(Vec::new()));
        let start = Arc::new(Barrier::new(50));
        let threads: Vec<_> = (0..50u32)
            .map(|i| {
                let (group, committed, start) = (group.clone(), committed.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    group.submit(i, |ops| {
                        std::thread::sleep(Duration::from_millis(5));
                        committed.lock().unwrap().extend(ops.iter().copied());
                        Ok(ops.iter().map(|o| o * 2).collect())
                    })
                })
            })
            .collect();
        for (i, t) in (0u32..).zip(threads) {
            assert_eq!(t.join().unwrap(), Ok(i * 2));
        }
        let mut all = committed.lock().unwrap().clone();
        all.sort_unstable();
        assert_eq!(all, (0..50).collect::<Vec<_>>(), "every op committed once");
        assert!(group.groups() < 50, "{} groups for 50 ops", group.groups());
    }

    #[test]
    fn a_failed_group_fails_every_operation_in_it() {
        let group: Arc<GroupCommit<u32, (), String>> =
            Arc::new(GroupCommit::new(|| "aborted".to_owned()));
        // The first group holds the leader until ten others are queued
        // behind it; the second group (those ten) fails.
        let first = {
            let group = group.clone();
            let g = group.clone();
            std::thread::spawn(move || {
                group.submit(0, |_| {
                    while lock(&g.queue).pending.len() < 10 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Ok(vec![()])
                })
            })
        };
        while !lock(&group.queue).leading {
            std::thread::sleep(Duration::from_millis(1));
        }
        let others: Vec<_> = (1..=10u32)
            .map(|i| {
                let group = group.clone();
                std::thread::spawn(move || group.submit(i, |_| Err("fsync failed".to_owned())))
            })
            .collect();
        assert_eq!(first.join().unwrap(), Ok(()));
        for t in others {
            assert_eq!(t.join().unwrap(), Err("fsync failed".to_owned()));
        }
        assert_eq!(group.groups(), 2);
    }

    #[test]
    fn a_panicking_commit_fails_its_group_and_frees_the_queue() {
        let group: Arc<GroupCommit<u32, (), String>> =
            Arc::new(GroupCommit::new(|| "aborted".to_owned()));
        let g = group.clone();
        let panicked = std::thread::spawn(move || g.submit(1, |_| panic!("commit bug")));
        assert!(panicked.join().is_err());
        assert_eq!(
            group.submit(2, |_| Ok(vec![()])),
            Ok(()),
            "the next caller leads"
        );
    }
}
