//! A bounded in-memory cache for chart reads: the group summaries of chunks and the points of
//! the groups that straddle bucket edges. Only full chunks are cached: they never change, and
//! chunk ids are never reused (AUTOINCREMENT), so an entry can never go stale.

use std::sync::Arc;

use heron_core::history::{CHUNK_POINTS, Point, Summary};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CacheKey {
    Groups(i64),
    Points { chunk: i64, from: u32, to: u32 },
}

#[derive(Clone)]
pub(crate) enum Cached {
    Groups(Arc<Vec<Summary>>),
    Points(Arc<Vec<Point>>),
}

#[derive(Clone)]
pub(crate) struct ByBytes;

impl quick_cache::Weighter<CacheKey, Cached> for ByBytes {
    fn weight(&self, _key: &CacheKey, value: &Cached) -> u64 {
        const ENTRY_OVERHEAD: usize = 64;
        let bytes = match value {
            Cached::Groups(groups) => groups.len() * std::mem::size_of::<Summary>(),
            Cached::Points(points) => points.len() * std::mem::size_of::<Point>(),
        };
        (bytes + ENTRY_OVERHEAD) as u64
    }
}

pub(crate) type ChunkCache = quick_cache::sync::Cache<CacheKey, Cached, ByBytes>;

pub(crate) fn new_cache(bytes: u64) -> ChunkCache {
    // A rough item estimate for the table size: mostly point groups of ~600 bytes.
    let items = (bytes / 600).clamp(16, 4_000_000) as usize;
    ChunkCache::with_weighter(items, bytes.max(1), ByBytes)
}

pub(crate) fn cacheable(count: usize) -> bool {
    count == CHUNK_POINTS
}
