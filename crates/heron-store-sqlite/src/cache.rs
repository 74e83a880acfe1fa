//! A bounded in-memory cache for chart reads: opened chunks (group summaries and points). Only
//! full chunks are cached: they never change, and
//! chunk ids are never reused (AUTOINCREMENT), so an entry can never go stale.

use std::sync::Arc;

use heron_core::history::{CHUNK_POINTS, ChunkBody, ChunkMeta, Point, Summary};

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

/// The chunk list of a series, keyed by (series id, points in the series): any append changes
/// the count, so a cached list is never stale.
#[derive(Clone)]
pub(crate) struct ListBytes;

impl quick_cache::Weighter<(i64, i64), Arc<Vec<ChunkMeta>>> for ListBytes {
    fn weight(&self, _key: &(i64, i64), list: &Arc<Vec<ChunkMeta>>) -> u64 {
        (list.len() * std::mem::size_of::<ChunkMeta>() + 96) as u64
    }
}

pub(crate) type ListCache = quick_cache::sync::Cache<(i64, i64), Arc<Vec<ChunkMeta>>, ListBytes>;

pub(crate) fn new_list_cache(bytes: u64) -> ListCache {
    let items = (bytes / 12_000).clamp(16, 100_000) as usize;
    ListCache::with_weighter(items, bytes.max(1), ListBytes)
}

/// Both caches of chart reads.
pub(crate) struct ChartCache {
    pub chunks: ChunkCache,
    pub lists: ListCache,
}

impl ChartCache {
    /// Splits the memory: chunk lists are small, one eighth is plenty.
    pub(crate) fn new(bytes: u64) -> ChartCache {
        ChartCache { chunks: new_cache(bytes - bytes / 8), lists: new_list_cache(bytes / 8) }
    }
}

pub(crate) fn cacheable(count: usize) -> bool {
    count == CHUNK_POINTS
}
