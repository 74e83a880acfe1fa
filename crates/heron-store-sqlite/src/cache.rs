//! A bounded in-memory cache for chart reads: opened chunks (group summaries and points). Only
//! full chunks are cached: they never change, and
//! chunk ids are never reused (AUTOINCREMENT), so an entry can never go stale.

use std::sync::Arc;

use heron_core::history::{CHUNK_POINTS, ChunkBody, Point, Summary};

/// Opened chunks by id. One entry per chunk: a chart read looks each chunk up once.
#[derive(Clone)]
pub(crate) struct ByBytes;

impl quick_cache::Weighter<i64, Arc<ChunkBody>> for ByBytes {
    fn weight(&self, _key: &i64, body: &Arc<ChunkBody>) -> u64 {
        const ENTRY_OVERHEAD: usize = 96;
        (body.groups.len() * std::mem::size_of::<Summary>()
            + body.points.len() * std::mem::size_of::<Point>()
            + ENTRY_OVERHEAD) as u64
    }
}

pub(crate) type ChunkCache = quick_cache::sync::Cache<i64, Arc<ChunkBody>, ByBytes>;

pub(crate) fn new_cache(bytes: u64) -> ChunkCache {
    // About 20 KB per full chunk.
    let items = (bytes / 20_000).clamp(16, 1_000_000) as usize;
    ChunkCache::with_weighter(items, bytes.max(1), ByBytes)
}

pub(crate) fn cacheable(count: usize) -> bool {
    count == CHUNK_POINTS
}
