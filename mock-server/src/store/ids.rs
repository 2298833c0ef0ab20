//! Generated ids, referral codes and timestamps.
//!
//! With a seed, every value drawn is a function of the seed and the order of the draws, so a
//! seeded server replays the same ids for the same calls (stable snapshots). Without one the
//! generator is seeded from the operating system.

use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;
use time::macros::format_description;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Length of the random part of customer, event and request ids.
pub const ID_LEN: usize = 21;
/// Length of a generated referral code.
pub const CODE_LEN: usize = 6;

/// A reproducible source of ids and codes.
#[derive(Debug)]
pub struct IdGen {
    /// The seed it was built from, after mixing in the salt; `None` for an OS-seeded one.
    seed: Option<u64>,
    /// The stream; the lock is a leaf: nothing else is locked while it is held.
    rng: Mutex<ChaCha8Rng>,
}

impl IdGen {
    /// A generator for `salt` (an application's key, or `"requests"`), seeded from `seed`.
    pub fn new(seed: Option<u64>, salt: &str) -> Self {
        let seed = seed.map(|s| s ^ fnv1a(salt));
        Self {
            seed,
            rng: Mutex::new(Self::rng_for(seed)),
        }
    }

    fn rng_for(seed: Option<u64>) -> ChaCha8Rng {
        match seed {
            Some(s) => ChaCha8Rng::seed_from_u64(s),
            None => ChaCha8Rng::from_os_rng(),
        }
    }

    /// Start the stream again from the seed (a reset); a fresh random stream without one.
    pub fn reseed(&self) {
        *self.lock() = Self::rng_for(self.seed);
    }

    /// Switch to the seed's `stream`-th independent stream (a fresh random one without a
    /// seed): still reproducible, but never the values of the default stream again.
    pub fn switch_stream(&self, stream: u64) {
        let mut rng = Self::rng_for(self.seed);
        rng.set_stream(stream);
        *self.lock() = rng;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChaCha8Rng> {
        super::app::lock(&self.rng)
    }

    fn draw(&self, alphabet: &[u8], len: usize) -> String {
        let mut rng = self.lock();
        (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
            .collect()
    }

    /// `prefix` followed by 21 alphanumerics (`cust_...`, `evt_...`, `req_...`).
    pub fn id(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.draw(ALPHANUMERIC, ID_LEN))
    }

    /// Six letters A-Z.
    pub fn code(&self) -> String {
        self.draw(LETTERS, CODE_LEN)
    }
}

/// Whether `text` is `prefix` followed by [`ID_LEN`] ASCII alphanumerics.
pub fn is_id(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == ID_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `text` as a time, when it is RFC 3339 in UTC (`Z`), as every time the fake writes is.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    if !text.ends_with('Z') {
        return None;
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Whether `text` is an RFC 3339 time in UTC.
pub fn is_timestamp(text: &str) -> bool {
    parse_timestamp(text).is_some()
}

/// A 64-bit FNV-1a hash, to give each application its own seeded stream.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The current time as RFC 3339 UTC with milliseconds: `2026-12-03T18:11:35.043Z`.
pub fn now() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_generators_repeat_and_reseed() {
        let a = IdGen::new(Some(42), "app");
        let b = IdGen::new(Some(42), "app");
        let first = (a.id("cust_"), a.code());
        assert_eq!(first, (b.id("cust_"), b.code()));
        a.reseed();
        assert_eq!(a.id("cust_"), first.0);
        assert_ne!(IdGen::new(Some(42), "other").id("cust_"), first.0);
        a.switch_stream(1);
        let other_stream = a.id("cust_");
        assert_ne!(other_stream, first.0);
        b.reseed();
        b.switch_stream(1);
        assert_eq!(b.id("cust_"), other_stream, "streams are reproducible");
    }

    #[test]
    fn shapes() {
        let g = IdGen::new(None, "x");
        let id = g.id("evt_");
        assert_eq!(id.len(), 4 + ID_LEN);
        assert!(id[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let code = g.code();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| b.is_ascii_uppercase()));
        assert!(is_id(&id, "evt_"));
        assert!(!is_id(&id, "cust_"));
        assert!(!is_id("evt_short", "evt_"));
        let t = now();
        assert!(is_timestamp(&t));
        assert!(!is_timestamp("yesterday"));
        assert!(!is_timestamp("2026-12-03T18:11:35.043+01:00"));
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z'));
    }
}
