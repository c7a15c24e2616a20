//! A parallel map over a slice on the machine's cores, with results in the slice's order.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Items are handed out in batches of this many, so a few large documents (CRDs) among many
/// small ones still spread over the threads.
const BATCH: usize = 16;
/// Below this many items, threads cost more than they save.
const MIN_ITEMS: usize = 2 * BATCH;
/// The stack of each worker: the main thread's usual size, since deserializing YAML recurses
/// once per nesting level (up to the budget's `max_depth`).
const STACK_SIZE: usize = 8 * 1024 * 1024;

/// `f` of every item, in order, computed on up to `available_parallelism` threads (the
/// calling thread is one of them).
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len() / BATCH);
    if threads <= 1 || items.len() < MIN_ITEMS {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + BATCH).min(items.len());
            done.extend((start..end).map(|i| (i, f(&items[i]))));
        }
    };
    let mut slots: Vec<Option<R>> = items.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(STACK_SIZE)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut results = vec![work()];
        for helper in helpers {
            match helper.join() {
                Ok(done) => results.push(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        for (i, r) in results.into_iter().flatten() {
            slots[i] = Some(r);
        }
    });
    slots
        .into_iter()
        .map(|r| r.expect("every item was mapped"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn results_keep_the_order_of_the_items() {
        for n in [0, 1, 31, 32, 33, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = map(&items, |i| i * 2);
            assert_eq!(
                doubled,
                (0..n).map(|i| i * 2).collect::<Vec<_>>(),
                "{n} items"
            );
        }
    }
}
