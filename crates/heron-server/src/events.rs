//! Per-project broadcast of run changes and new points, for the Server-Sent-Events stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use heron_types::ProjectEvent;
use tokio::sync::broadcast;

/// Events a slow subscriber may fall behind by before it is told to re-read.
const CAPACITY: usize = 1024;

/// One channel per (entity, project).
type Channels = HashMap<(String, String), broadcast::Sender<Arc<ProjectEvent>>>;

#[derive(Default)]
pub struct Events {
    channels: Mutex<Channels>,
}

impl Events {
    pub fn publish(&self, entity: &str, project: &str, event: ProjectEvent) {
        let Ok(mut channels) = self.channels.lock() else { return };
        let key = (entity.to_string(), project.to_string());
        if let Some(sender) = channels.get(&key)
            && sender.send(Arc::new(event)).is_err()
        {
            // Nobody listens any more.
            channels.remove(&key);
        }
    }

    pub fn subscribe(&self, entity: &str, project: &str) -> broadcast::Receiver<Arc<ProjectEvent>> {
        let mut channels = self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        channels
            .entry((entity.to_string(), project.to_string()))
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe()
    }

    pub fn has_subscribers(&self, entity: &str, project: &str) -> bool {
        let Ok(channels) = self.channels.lock() else { return false };
        channels.get(&(entity.to_string(), project.to_string())).is_some_and(|s| s.receiver_count() > 0)
    }
}
