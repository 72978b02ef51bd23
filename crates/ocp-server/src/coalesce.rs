//! Group commit: many requests' small writes of one kind go to the metadb together. Each
//! request queues its item and waits; one writer task takes everything queued (up to a
//! limit), writes it in one transaction and answers every waiter after the commit. While a
//! batch is written, the next one gathers, so a busy server writes big batches and an idle
//! one writes at once: nothing waits on a timer, and nothing is answered before it is kept.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use crate::error::Failure;

type Waiter<R> = oneshot::Sender<Result<R, Failure>>;

pub struct Coalescer<T, R> {
    queue: mpsc::UnboundedSender<(T, Waiter<R>)>,
}

impl<T, R> Clone for Coalescer<T, R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<T: Send + 'static, R: Send + 'static> Coalescer<T, R> {
    /// Starts the writer: `write` gets at most `max` items and answers one result each, in
    /// their order. The writer stops when every handle is dropped.
    pub fn spawn<F, Fut>(max: usize, write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<R>, Failure>> + Send,
    {
        let (queue, mut queued) = mpsc::unbounded_channel::<(T, Waiter<R>)>();
        tokio::spawn(async move {
            let mut taken = Vec::with_capacity(max);
            while queued.recv_many(&mut taken, max).await > 0 {
                let (items, waiters): (Vec<T>, Vec<Waiter<R>>) = taken.drain(..).unzip();
                let count = items.len();
                match write(items).await {
                    Ok(answers) if answers.len() == count => {
                        for (waiter, answer) in waiters.into_iter().zip(answers) {
                            let _ = waiter.send(Ok(answer));
                        }
                    }
                    Ok(answers) => {
                        let wrong = Failure::internal(format!(
                            "a batch write answered {} of {count} items",
                            answers.len()
                        ));
                        for waiter in waiters {
                            let _ = waiter.send(Err(wrong.clone()));
                        }
                    }
                    Err(failure) => {
                        for waiter in waiters {
                            let _ = waiter.send(Err(failure.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queues `item` and waits until its batch is committed.
    pub async fn submit(&self, item: T) -> Result<R, Failure> {
        let (waiter, answer) = oneshot::channel();
        self.queue
            .send((item, waiter))
            .map_err(|_| Failure::internal("the batch writer has stopped"))?;
        answer
            .await
            .map_err(|_| Failure::internal("the batch writer stopped before answering"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_waiter_gets_its_own_answer_and_batches_gather_while_one_is_written() {
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let doubler = Coalescer::spawn(64, move |items: Vec<u32>| {
            seen.lock().unwrap().push(items.len());
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(items.into_iter().map(|i| i * 2).collect())
            }
        });
        let calls: Vec<_> = (0..200u32)
            .map(|i| {
                let doubler = doubler.clone();
                tokio::spawn(async move { (i, doubler.submit(i).await.unwrap()) })
            })
            .collect();
        for call in calls {
            let (i, doubled) = call.await.unwrap();
            assert_eq!(doubled, i * 2);
        }
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 200);
        assert!(sizes.iter().all(|n| *n <= 64));
        assert!(sizes.len() < 200, "items were written together: {sizes:?}");
    }

    #[tokio::test]
    async fn a_failed_batch_fails_each_of_its_waiters() {
        let failing = Coalescer::spawn(8, |_: Vec<u8>| async {
            Err::<Vec<u8>, _>(Failure::new(ocp_api::ErrorCode::Internal, "disk full"))
        });
        let failure = failing.submit(1).await.unwrap_err();
        assert_eq!(failure.message, "disk full");
    }
}
